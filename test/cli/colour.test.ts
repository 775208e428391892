import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { requireTool } from '../helpers/tools.js';

/** Errors are coloured on a terminal only, and never with NO_COLOR set (no-color.org). */

const repo = new URL('../../', import.meta.url).pathname;
const argv = [process.execPath, '--import', 'tsx', join(repo, 'src/cli/main.ts'), 'image', 'ls', '/nonexistent.img'];
const shq = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
requireTool('script');

function onTerminal(env: NodeJS.ProcessEnv): string {
  const { NO_COLOR: _, ...inherited } = process.env;
  const r = spawnSync('script', ['-qec', argv.map(shq).join(' '), '/dev/null'], { cwd: repo, encoding: 'utf8', env: { ...inherited, TERM: 'xterm', ...env } });
  return r.stdout;
}

test('an error is bold red on a terminal, plain with NO_COLOR and in a pipe', () => {
  assert.match(onTerminal({}), /\x1b\[1;31mkiln: error:\x1b\[0m /);
  assert.match(onTerminal({ NO_COLOR: '1' }), /^kiln: error: /m);
  assert.not.match(onTerminal({ NO_COLOR: '1' }), /\x1b\[/);
  const [cmd, ...rest] = argv;
  const piped = spawnSync(cmd!, rest, { cwd: repo, encoding: 'utf8' });
  assert.is(piped.status, 1);
  assert.match(piped.stderr, /^kiln: error: /);
});

test.run();
