import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTree } from '../../../src/pipeline/util/remove-tree.js';
import { nobody, requireRoot } from '../../robustness/helpers.js';

/**
 * removeTree on every shape of scratch tree a build can leave. The odd modes only matter to a
 * user other than root, so those trees are removed by `nobody`, in a child process.
 */

const removeTreeModule = new URL('../../../src/pipeline/util/remove-tree.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kiln-remove-tree-'));
chmodSync(work, 0o755);
let uid = 0;

test.before(() => {
  requireRoot('the remove-tree test');
  uid = nobody();
  // nobody removes trees from here
  chownSync(work, uid, uid);
});

/** A name that is not UTF-8 (0xff is never a UTF-8 byte), as a path below `dir`. */
const notUtf8 = (dir: string, stem: string): Buffer => Buffer.concat([Buffer.from(`${dir}/${stem}`), Buffer.from([0xff, 0xfe]), Buffer.from('.o')]);

const D = 'd'.repeat(30);
/** A chain of `n` directories named D below `dir`; returns its leaf. */
function chain(dir: string, n: number): string {
  const leaf = join(dir, ...Array<string>(n).fill(D));
  mkdirSync(leaf, { recursive: true });
  return leaf;
}

/**
 * Nests `levels` chains of 60 directories (1,860 bytes each) into each other's leaves, so the
 * deepest leaf sits beyond PATH_MAX; `fill(leaf)` makes the content of each chain's leaf first.
 * Returns the length of the deepest leaf's path below `top`.
 */
function deepTree(top: string, levels: number, fill: (leaf: string, level: number) => void): number {
  let inner = '';
  for (let level = 0; level < levels; level++) {
    const c = join(work, `chain-${level}`);
    const leaf = chain(c, 60);
    fill(leaf, level);
    if (inner) renameSync(inner, join(leaf, 'inner'));
    inner = c;
  }
  renameSync(inner, top);
  return levels * (60 * 31 + 6);
}

/** Makes `nobody` the owner of everything in the tree at `path` (a tree of any depth). */
function giveToNobody(path: string): void {
  const r = spawnSync('chown', ['-hR', `${uid}:${uid}`, path], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
}

/** Runs removeTree(path) as `nobody`; what it threw, or undefined. */
function removeAsNobody(path: string): string | undefined {
  const script = `import { removeTree } from '${removeTreeModule}';
try { removeTree(process.argv[1]); } catch (e) { process.stderr.write(e.name + ' ' + e.code + ': ' + e.message); process.exit(3); }`;
  const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, path], {
    encoding: 'utf8',
  });
  if (r.status === 0) return undefined;
  assert.is(r.status, 3, `removeTree ran: ${r.stderr}`);
  return r.stderr;
}

test('a missing path, or one below a missing directory, is left alone', () => {
  removeTree(join(work, 'missing'));
  removeTree(join(work, 'missing/below'));
});

test('a file or a symbolic link at the top is unlinked; a link to a directory is not followed', () => {
  const file = join(work, 'file');
  writeFileSync(file, 'x');
  chmodSync(file, 0o444);
  removeTree(file);
  assert.not.ok(existsSync(file));
  const target = join(work, 'target');
  mkdirSync(target);
  writeFileSync(join(target, 'kept'), 'kept');
  const link = join(work, 'link');
  symlinkSync(target, link);
  removeTree(link);
  assert.not.ok(existsSync(link));
  assert.is(readFileSync(join(target, 'kept'), 'utf8'), 'kept');
  const dangling = join(work, 'dangling');
  symlinkSync(join(work, 'nowhere'), dangling);
  removeTree(dangling);
  assert.equal(readdirSync(work).sort(), ['target']);
  rmSync(target, { recursive: true });
});

test('names that are not UTF-8 are removed: in a plain tree, in a 0555 directory, beyond PATH_MAX', () => {
  const plain = join(work, 'plain');
  mkdirSync(join(plain, 'd'), { recursive: true });
  writeFileSync(notUtf8(join(plain, 'd'), 'file'), 'x');
  mkdirSync(notUtf8(plain, 'dir'));
  writeFileSync(Buffer.concat([notUtf8(plain, 'dir'), Buffer.from('/in')]), 'x');
  giveToNobody(plain);
  assert.is(removeAsNobody(plain), undefined);
  assert.not.ok(existsSync(plain));

  const readOnly = join(work, 'read-only');
  mkdirSync(join(readOnly, 'd'), { recursive: true });
  writeFileSync(notUtf8(join(readOnly, 'd'), 'file'), 'x');
  giveToNobody(readOnly);
  chmodSync(join(readOnly, 'd'), 0o555);
  assert.is(removeAsNobody(readOnly), undefined);
  assert.not.ok(existsSync(readOnly));

  const deep = join(work, 'deep');
  const depth = deepTree(deep, 3, (leaf) => writeFileSync(notUtf8(leaf, 'file'), 'x'));
  assert.ok(deep.length + depth > 4096, 'the tree is deeper than PATH_MAX');
  giveToNobody(deep);
  assert.is(removeAsNobody(deep), undefined);
  assert.not.ok(existsSync(deep));
  assert.equal(readdirSync(work), []);
});

test('a wide and deep tree with 000 and 0555 directories, read-only files and links is removed', () => {
  const outside = join(work, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'kept'), 'kept');
  const top = join(work, 'wide-deep');
  const depth = deepTree(top, 4, (leaf, level) => {
    // wide: 40 directories of 50 files at every level
    for (let d = 0; d < 40; d++) {
      const dir = join(leaf, `w${d}`);
      mkdirSync(dir);
      for (let f = 0; f < 50; f++) writeFileSync(join(dir, `f${f}.c`), `${level} ${d} ${f}\n`);
    }
    mkdirSync(join(leaf, 'locked/inner'), { recursive: true });
    writeFileSync(join(leaf, 'locked/inner/file'), 'x');
    mkdirSync(join(leaf, 'readonly'));
    writeFileSync(join(leaf, 'readonly/file'), 'x');
    writeFileSync(notUtf8(join(leaf, 'readonly'), 'file'), 'x');
    writeFileSync(join(leaf, 'nomode'), 'x');
    symlinkSync(outside, join(leaf, 'out'));
    mkdirSync(notUtf8(leaf, 'closed'));
  });
  assert.ok(top.length + depth > 4096, 'the tree is deeper than PATH_MAX');
  giveToNobody(top);
  // the modes go on last (chmod -R cannot enter what it has just closed), the top 000
  const modes = spawnSync(
    'sh',
    [
      '-e',
      '-c',
      `find "$1" -depth \\( -name readonly -execdir chmod 0555 {} + \\) -o \\( -name file -execdir chmod 0444 {} + \\) -o \\( \\( -name locked -o -name nomode -o -name 'closed*' \\) -execdir chmod 000 {} + \\)
chmod 000 "$1"`,
      'sh',
      top,
    ],
    { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  assert.is(modes.status, 0, modes.stderr);
  const count = (...test: string[]): number => spawnSync('find', [top, ...test, '-printf', '.'], { encoding: 'utf8' }).stdout.length;
  assert.is(count('-perm', '000'), 4 * 3 + 1, 'locked, nomode and closed at every level, and the top, are 000');
  assert.is(count('-type', 'd', '-perm', '0555'), 4);
  assert.is(count('-type', 'f', '-perm', '0444'), 4 * 2);
  assert.is(count('-type', 'f'), 4 * (40 * 50 + 4));
  assert.is(removeAsNobody(top), undefined);
  assert.not.ok(existsSync(top));
  assert.is(readFileSync(join(outside, 'kept'), 'utf8'), 'kept', 'links are not followed');
  rmSync(outside, { recursive: true });
});

test('what cannot be removed is named in a KilnError, and everything else is removed', () => {
  const top = join(work, 'stuck');
  const inner = deepTree(join(work, 'stuck-deep'), 3, () => {});
  assert.ok(inner > 4096);
  mkdirSync(join(top, 'mine/sub'), { recursive: true });
  writeFileSync(join(top, 'mine/sub/file'), 'x');
  renameSync(join(work, 'stuck-deep'), join(top, 'deep'));
  giveToNobody(top);
  // root's directory, with a file nobody cannot unlink
  mkdirSync(join(top, 'keep/theirs'), { recursive: true });
  chownSync(join(top, 'keep'), uid, uid);
  writeFileSync(notUtf8(join(top, 'keep/theirs'), 'file'), 'x');
  chmodSync(join(top, 'mine'), 0o555);
  const error = removeAsNobody(top);
  assert.ok(error !== undefined, 'removeTree threw');
  assert.match(error, /^KilnError remove-failed: cannot remove '.*\/stuck':\n/);
  assert.match(error, /\/stuck\/keep\/theirs\/file\\xff\\xfe\.o: EACCES: permission denied/);
  assert.equal(readdirSync(top), ['keep'], 'everything else is gone');
  assert.equal(readdirSync(join(top, 'keep')), ['theirs']);
  rmSync(top, { recursive: true });
});

test.after(() => {
  // whatever a failed case left, of any depth and mode
  spawnSync('rm', ['-rf', work]);
});

test.run();
