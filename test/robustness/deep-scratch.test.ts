import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../helpers/tools.js';
import { writeChainProject } from '../pipeline/build/chain-project.js';
import { AS_NOBODY, kiln, nobody, requireRoot } from './helpers.js';

/**
 * A build that leaves a scratch tree deeper than PATH_MAX, with 000 and 0555 directories and
 * read-only files, must not wedge the cache: the build itself fails (or succeeds) cleanly, and
 * every later build — unrelated, cached, or after a killed session left such a tree — still
 * works. What cannot be removed at all is set aside with one warning. Builds run as `nobody`
 * (root could remove a 000 directory anyway).
 */

requireTool('bwrap');
const work = mkdtempSync(join(tmpdir(), 'kiln-deep-'));
chmodSync(work, 0o755);
const project = join(work, 'project');
const cache = join(work, 'cache');
const scratch = join(cache, 'tmp');
const D = 'd'.repeat(30);

/**
 * Shell that makes `./c3`, a chain of 400 directories (over 12,000 bytes of path, three times
 * PATH_MAX): chains of 100 are made with relative steps and moved into each other's leaves.
 * Inside: 000 directories, a 0555 directory holding a read-only file, a 000 file; the top is 000.
 */
const DEEP_TREE = [
  'top=$(pwd)',
  `leaf=$(printf '${D}/%.0s' $(seq 100))`,
  `mkchain() { mkdir "$1"; cd "$1"; i=0; while [ $i -lt 100 ]; do mkdir ${D}; cd ${D}; i=$((i+1)); done; cd "$top"; }`,
  'mkchain c0',
  'mkdir -p "c0/$leaf/locked/inner" "c0/$leaf/readonly"',
  'echo secret > "c0/$leaf/readonly/file"; chmod 0444 "c0/$leaf/readonly/file"; chmod 0555 "c0/$leaf/readonly"',
  'echo x > "c0/$leaf/nomode"; chmod 000 "c0/$leaf/nomode" "c0/$leaf/locked"',
  'mkdir c0/closed; chmod 000 c0/closed',
  'for n in 1 2 3; do mkchain c$n; mv c$((n-1)) "c$n/$leaf/"; done',
  'chmod 000 c3',
];

function element(extra: string[]): string {
  return `kind: manual\nbuild-depends:\n- base.bst\nconfig:\n  install-commands:\n  - |\n${[...DEEP_TREE, ...extra].map((l) => `    ${l}`).join('\n')}\n`;
}

writeChainProject(project, {
  'deep-fails.bst': element(['echo made-the-deep-tree', 'exit 3']),
  'deep-ok.bst': element(['echo made-the-deep-tree', 'echo ok > %{install-root}/ok']),
});

let uid = 0;
test.before(() => {
  requireRoot('the deep-scratch test');
  uid = nobody();
  mkdirSync(cache);
  chownSync(cache, uid, uid);
  // the project is read-only for nobody, as a checkout of someone else's project would be
});

function build(...targets: string[]) {
  return kiln(['--cache-dir', cache, '-C', project, 'build', ...targets], { user: AS_NOBODY });
}

function noCrash(r: ReturnType<typeof build>): void {
  assert.not.match(r.all, /internal error|ENAMETOOLONG|\n\s+at /, 'no stack trace, no ENAMETOOLONG');
}

const leftovers = (): string[] => (existsSync(scratch) ? readdirSync(scratch).filter((n) => !n.startsWith('sources-')) : []);
const warnings = (text: string): string[] => text.split('\n').filter((l) => l.includes('WARNING') && l.includes('scratch'));

test('a failing build that leaves a 400-level tree with 000 directories fails cleanly, exit 1', () => {
  const cached = build('hello.bst');
  assert.is(cached.status, 0, cached.all);
  const r = build('deep-fails.bst');
  assert.is(r.status, 1, r.all);
  assert.match(r.stderr, /kiln: error: 1 element\(s\) failed to build: deep-fails\.bst/);
  assert.match(r.all, /made-the-deep-tree/, 'the tree was made before the failure');
  noCrash(r);
  assert.equal(leftovers(), [], 'the scratch tree is gone');
  assert.equal(warnings(r.all), []);
});

test('then a cached build, an unrelated build and a succeeding deep build all work', () => {
  const cached = build('hello.bst');
  assert.is(cached.status, 0, cached.all);
  assert.match(cached.all, /processed 0, skipped 2, failed 0/);
  const unrelated = build('report.bst');
  assert.is(unrelated.status, 0, unrelated.all);
  const ok = build('deep-ok.bst');
  assert.is(ok.status, 0, ok.all);
  noCrash(ok);
  assert.equal(leftovers(), []);
});

/** A scratch directory as a killed session (PID 99999999 never runs) would have left it. */
function staleTree(name: string, script: string): string {
  const dir = join(scratch, name);
  const r = spawnSync('runuser', ['-u', 'nobody', '--', 'sh', '-e', '-c', `mkdir -p '${dir}/root'; cd '${dir}/root'; ${script}`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return dir;
}

test('a deep tree left by a killed session is removed by the next build, even a cached one', () => {
  staleTree('build-99999999-deep.bst-killed', DEEP_TREE.join('\n'));
  assert.equal(leftovers(), ['build-99999999-deep.bst-killed']);
  const r = build('hello.bst');
  assert.is(r.status, 0, r.all);
  noCrash(r);
  assert.equal(leftovers(), [], 'the stale tree is gone');
  assert.equal(warnings(r.all), []);
});

test('a leftover that cannot be removed is set aside with one warning and never blocks a build', () => {
  const dir = staleTree('build-99999999-x-stuck', 'mkdir keep');
  // another user's non-empty directory inside: nobody cannot empty it
  mkdirSync(join(dir, 'root/keep/theirs'));
  writeFileSync(join(dir, 'root/keep/theirs/file'), 'x');
  chownSync(join(dir, 'root/keep/theirs'), 0, 0);
  const first = build('hello.bst');
  assert.is(first.status, 0, first.all);
  noCrash(first);
  const w = warnings(first.all);
  assert.is(w.length, 1, `one warning:\n${first.all}`);
  assert.match(w[0]!, /moved it aside to .*leftover-build-99999999-x-stuck/);
  assert.match(w[0]!, /theirs\/file: EACCES/);
  assert.equal(leftovers(), ['leftover-build-99999999-x-stuck']);
  const second = build('report.bst');
  assert.is(second.status, 0, second.all);
  assert.equal(warnings(second.all), [], 'no second warning');
  // once it can be removed, a later session removes it quietly
  chownSync(join(scratch, 'leftover-build-99999999-x-stuck/root/keep/theirs'), uid, uid);
  const third = build('hello.bst');
  assert.is(third.status, 0, third.all);
  assert.equal(leftovers(), []);
});

test.after(() => {
  // removing the 000 chains as root needs nothing special; the walk is depth-safe either way
  spawnSync('rm', ['-rf', work]);
  rmSync(work, { recursive: true, force: true });
});

test.run();
