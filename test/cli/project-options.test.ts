import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinProjectOptions } from '../../src/cli/conventions.js';

/**
 * `kiln -o NAME VALUE` (issue 11): project options as bst 1.x takes them, reaching `(?)`
 * conditionals; an unknown name or a value the declaration does not allow is a usage error
 * naming the option and where project.conf declares it.
 */

const repo = new URL('../../', import.meta.url).pathname;
const MAIN = join(repo, 'src/cli/main.ts');
const TSX = join(repo, 'node_modules/tsx/dist/esm/index.mjs');
const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-opts-'));

function kiln(args: string[]): { status: number; stdout: string; stderr: string } {
  const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), XDG_CACHE_HOME: join(dir, 'cache') };
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: dir, encoding: 'utf8', env });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

mkdirSync(join(dir, 'elements'));
writeFileSync(
  join(dir, 'project.conf'),
  'name: opts\nelement-path: elements\noptions:\n  flavour:\n    type: enum\n    values: [small, big]\n    default: small\n',
);
writeFileSync(join(dir, 'elements', 'x.bst'), 'kind: stack\nvariables:\n  size: little\n  (?):\n  - flavour == "big":\n      size: large\n');

test('-o NAME VALUE is joined before parsing, only among the global options', () => {
  // the root command's options that take a value, as valueFlags(program) gives them
  const globals = new Set(['-C', '--directory', '--cache-dir', '--config', '--default-mirror', '--remote', '-o', '--option']);
  assert.equal(joinProjectOptions(['node', 'kiln', '-o', 'a', 'b', '-C', '-o', 'show', '-o', 'x'], globals), [
    'node',
    'kiln',
    '-o',
    'a=b',
    '-C',
    '-o',
    'show',
    '-o',
    'x',
  ]);
  assert.equal(joinProjectOptions(['node', 'kiln', '--option', 'a=b', '-o', 'c', 'd', 'build', 'x.bst'], globals), [
    'node',
    'kiln',
    '--option',
    'a=b',
    '-o',
    'c=d',
    'build',
    'x.bst',
  ]);
});

test('the option reaches (?) conditionals; default without -o', () => {
  const plain = kiln(['show', '--format', '%{vars}', 'x.bst']);
  assert.is(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, /size: little/);
  const big = kiln(['-o', 'flavour', 'big', 'show', '--format', '%{vars}', 'x.bst']);
  assert.is(big.status, 0, big.stderr);
  assert.match(big.stdout, /size: large/);
});

test('unknown option names and invalid values are usage errors naming the declaration', () => {
  const unknown = kiln(['-o', 'flavor', 'big', 'show', 'x.bst']);
  assert.is(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /^kiln: error: unknown project option 'flavor'; the project declares flavour \(options: in project\.conf:4:3\)/);
  const bad = kiln(['-o', 'flavour', 'huge', 'show', 'x.bst']);
  assert.is(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /^kiln: error: invalid value 'huge' for option 'flavour' as given \(declared in project\.conf:4:3\); valid values are small, big/);
  assert.match(bad.stderr, /hint: .*-o flavour small/);
  const half = kiln(['-o', 'flavour']);
  assert.is(half.status, 2, half.stderr);
  assert.match(half.stderr, /^kiln: error: .*-o NAME VALUE/);
});

test('the user configuration sets options per project (projects: NAME: options:); -o overrides it', () => {
  const conf = join(dir, 'kiln.conf');
  writeFileSync(conf, 'projects:\n  other:\n    options:\n      flavour: huge\n  opts:\n    options:\n      flavour: big\n');
  const big = kiln(['--config', conf, 'show', '--format', '%{vars}', 'x.bst']);
  assert.is(big.status, 0, big.stderr);
  assert.match(big.stdout, /size: large/);
  const small = kiln(['--config', conf, '-o', 'flavour', 'small', 'show', '--format', '%{vars}', 'x.bst']);
  assert.is(small.status, 0, small.stderr);
  assert.match(small.stdout, /size: little/);
  // a bad value there is the configuration's fault (exit 1), named by its line
  writeFileSync(conf, 'projects:\n  opts:\n    options:\n      flavour: huge\n');
  const bad = kiln(['--config', conf, 'show', 'x.bst']);
  assert.is(bad.status, 1, bad.stderr);
  assert.match(
    bad.stderr,
    /^kiln: error: invalid value 'huge' for option 'flavour' as set in .*kiln\.conf:4:16 \(declared in project\.conf:4:3\); valid values are small, big/,
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
