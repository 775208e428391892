import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool, run } from '../helpers/tools.js';

/**
 * `kiln track` and `kiln fetch` show a live line of sources done on a terminal (run under
 * `script`), and print only their results into a pipe.
 */

const repo = new URL('../../', import.meta.url).pathname;
const MAIN = join(repo, 'src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'kiln-pin-progress-'));
const proj = join(dir, 'proj');
const up = join(dir, 'up');
requireTool('script');

mkdirSync(join(up, 'pkg-1.0'), { recursive: true });
writeFileSync(join(up, 'pkg-1.0', 'README'), 'pkg\n');
run('tar', ['-C', up, '-czf', join(up, 'pkg.tar.gz'), 'pkg-1.0']);
mkdirSync(join(proj, 'elements'), { recursive: true });
writeFileSync(join(proj, 'project.conf'), `name: demo\nelement-path: elements\naliases:\n  up: file://${up}/\n`);
writeFileSync(join(proj, 'elements', 'pkg.bst'), 'kind: import\nsources:\n- kind: tar\n  url: up:pkg.tar.gz\n');

const shq = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
const argv = (args: string[]): string[] => [process.execPath, '--import', 'tsx', MAIN, '--cache-dir', join(dir, 'cache'), '-C', proj, ...args];

function onTerminal(args: string[]): string {
  const r = spawnSync('script', ['-qec', argv(args).map(shq).join(' '), '/dev/null'], { cwd: repo, encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

function inPipe(args: string[]): { stdout: string; stderr: string } {
  const [cmd, ...rest] = argv(args);
  const r = spawnSync(cmd!, rest, { cwd: repo, encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  return { stdout: r.stdout, stderr: r.stderr };
}

test('track: a live line of sources done on a terminal, none in a pipe', () => {
  const tty = onTerminal(['track', 'pkg.bst']);
  assert.match(tty, /\r\x1b\[Ktrack: 1\/1 sources, \d+ s/);
  assert.match(tty, /tracked 1 element\(s\): 1 ref\(s\) changed/);
  const pipe = inPipe(['track', 'pkg.bst']);
  assert.not.match(pipe.stdout + pipe.stderr, /sources, \d+ s|\x1b\[/);
  assert.match(pipe.stdout, /tracked 1 element\(s\): 0 ref\(s\) changed/);
});

test('fetch: the same line on a terminal; -q leaves only the result', () => {
  rmSync(join(dir, 'cache', 'sources'), { recursive: true, force: true });
  const tty = onTerminal(['fetch', 'pkg.bst']);
  assert.match(tty, /\r\x1b\[Kfetch: 1\/1 sources, \d+ s/);
  assert.match(tty, /fetch: 1 element\(s\), 1 source\(s\) downloaded/);
  const quiet = onTerminal(['fetch', '-q', 'pkg.bst']);
  assert.not.match(quiet, /sources, \d+ s/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
