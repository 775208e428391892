import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { BytesContent } from '../../../src/fs/bytes-content.js';
import { readContent } from '../../../src/fs/file-content.js';
import { FileTree } from '../../../src/fs/tree.js';
import { materialize, normalName, openCache, treeFromStagedDir, type ArtifactMeta } from '../../../src/pipeline/cache/artifacts.js';
import { BlobContent } from '../../../src/pipeline/cache/blobs.js';
import { cleanup, filesUnder } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

const KEY = 'ab'.repeat(32);
const meta: ArtifactMeta = {
  public: { bst: { 'integration-commands': ['ldconfig'] } },
  keys: { strong: KEY, weak: 'cd'.repeat(32) },
  dependencies: { 'base.bst': 'ef'.repeat(32) },
};
const T = { sec: 1_700_000_000, nsec: 5 };

/** Every kind of node an artifact keeps. */
function richTree(): FileTree {
  const t = new FileTree({ mode: 0o755 });
  t.mkdir('bin', { mtime: T });
  t.file('bin/busybox', 'BUSYBOX', { mode: 0o6755, mtime: T });
  t.link('bin/sh', 'bin/busybox');
  t.symlink('bin/ls', 'busybox');
  t.mkdir('etc');
  t.mkdir('empty', { mode: 0o700 });
  t.mkdir('tmp', { mode: 0o1777 });
  t.file('etc/shadow', 'root:*:', { mode: 0o640, uid: 0, gid: 42 });
  t.file('home-file', 'mine', { uid: 1000, gid: 1000, xattrs: { 'user.note': 'hi' } });
  t.file('zero', new Uint8Array(0));
  t.mkdir('dev');
  t.device('dev/console', 'char', 5, 1, { mode: 0o600 });
  t.device('dev/sda', 'block', 8, 0, { mode: 0o660, gid: 6 });
  t.special('dev/initctl', 'fifo', { mode: 0o600 });
  return t;
}

function describe(t: FileTree): string[] {
  const ids = new Map<object, number>();
  return [...t.walk()].map(([p, i]) => {
    if (!ids.has(i)) ids.set(i, ids.size);
    const content = i.content ? Buffer.from(readContent(i.content)).toString('hex') : '';
    const x = i.xattrs ? [...i.xattrs].map(([k, v]) => `${k}=${Buffer.from(v).toString()}`).join(',') : '';
    return `${p} #${ids.get(i)} ${i.type} ${i.mode.toString(8)} ${i.uid}:${i.gid} ${i.mtime.sec}.${i.mtime.nsec} ${i.target ?? ''} ${i.rdev ? `${i.rdev.major},${i.rdev.minor}` : ''} ${content} ${x}`;
  });
}

test('normalName', () => {
  assert.is(normalName('contents/busybox.bst'), 'contents-busybox');
  assert.is(normalName('a b+c.bst'), 'a_b_c');
});

test('commit then load: the tree and meta come back identical; contents are blobs', async () => {
  const root = throwawayDir('kiln-src-');
  const c = openCache(root);
  const ref = { project: 'p', element: 'contents/busybox.bst', key: KEY };
  assert.not.ok(c.artifacts.has(ref));
  assert.is(c.artifacts.load(ref), undefined);
  const tree = richTree();
  writeFileSync(join(root, 'log'), 'build output\n');
  await c.artifacts.commit(ref, tree, meta, { logFile: join(root, 'log') });
  assert.ok(c.artifacts.has(ref));
  assert.ok(filesUnder(root).includes(`artifacts/p/contents-busybox/${KEY}`));
  const loaded = c.artifacts.load(ref)!;
  assert.equal(describe(loaded.tree), describe(tree));
  assert.equal({ ...loaded.meta, buildLog: undefined }, { ...meta, buildLog: undefined });
  assert.is(readFileSync(c.artifacts.logPath(loaded.meta)!, 'utf8'), 'build output\n');
  const bb = loaded.tree.get('bin/busybox')!.content as BlobContent;
  assert.instance(bb, BlobContent);
  assert.is(bb.digest, createHash('sha256').update('BUSYBOX').digest('hex'));
  assert.is(bb.path, join(root, 'cas', 'objects', bb.digest.slice(0, 2), bb.digest.slice(2)));
  assert.is(lstatSync(bb.path).mode & 0o777, 0o444, 'blobs are read-only');
  // committing again (e.g. under the weak key) reuses blobs
  const before = filesUnder(join(root, 'cas')).length;
  await c.artifacts.commit({ ...ref, key: meta.keys.weak! }, loaded.tree, meta);
  assert.is(filesUnder(join(root, 'cas')).length, before);
  cleanup(root);
});

test('a damaged ref is refused, not trusted; a damaged or missing blob is reported when it is read', async () => {
  const root = throwawayDir('kiln-src-');
  const c = openCache(root);
  const ref = { project: 'p', element: 'x.bst', key: KEY };
  const t = new FileTree();
  t.file('a', 'AAAA');
  await c.artifacts.commit(ref, t, meta);
  const path = c.artifacts.refPath(ref);
  const text = readFileSync(path, 'utf8');
  chmodSync(path, 0o644);
  writeFileSync(path, text.replace('"a"', '"b"'));
  let err: unknown;
  try {
    c.artifacts.load(ref);
  } catch (e) {
    err = e;
  }
  assert.instance(err, KilnError);
  assert.match((err as KilnError).message, /is damaged \(checksum mismatch\)/);
  writeFileSync(path, text);
  const digest = createHash('sha256').update('AAAA').digest('hex');
  const blob = c.blobs.objectPath(digest);
  chmodSync(blob, 0o644);
  writeFileSync(blob, 'AA');
  // a load reads no blob (staging links the artifact's directory); the first read checks it
  const damaged = c.artifacts.load(ref)!.tree.get('a')!.content!;
  assert.throws(() => readContent(damaged), /has 2 bytes, expected 4/);
  rmSync(blob);
  assert.throws(() => readContent(c.artifacts.load(ref)!.tree.get('a')!.content!), /blob [0-9a-f]{64} is missing/);
  cleanup(root);
});

test('materialize: modes incl. setuid, owners (root), symlinks, hard links among the copies, empty dirs, devices; copies never share the blob inode', async () => {
  const root = throwawayDir('kiln-src-');
  const c = openCache(root);
  const ref = { project: 'p', element: 'x.bst', key: KEY };
  await c.artifacts.commit(ref, richTree(), meta);
  const { tree } = c.artifacts.load(ref)!;
  const out = join(root, 'out');
  const res = materialize(tree, out);
  const asRoot = process.getuid?.() === 0;
  assert.equal(res.skipped, asRoot ? [] : ['dev/console', 'dev/sda']);
  const st = (p: string) => lstatSync(join(out, p));
  assert.is(st('bin/busybox').mode & 0o7777, 0o6755);
  assert.is(st('bin/busybox').ino, st('bin/sh').ino, 'hard link inside the tree');
  const blob = (tree.get('bin/busybox')!.content as BlobContent).path;
  assert.is.not(st('bin/busybox').ino, lstatSync(blob).ino, 'not hard-linked to the cache');
  assert.is(readlinkSync(join(out, 'bin/ls')), 'busybox');
  assert.is(st('tmp').mode & 0o7777, 0o1777);
  assert.is(st('empty').mode & 0o7777, 0o700);
  assert.ok(st('dev/initctl').isFIFO());
  assert.is(st('bin/busybox').mtime.getTime(), T.sec * 1000);
  if (asRoot) {
    assert.is(st('home-file').uid, 1000);
    assert.is(st('etc/shadow').gid, 42);
    assert.ok(st('dev/console').isCharacterDevice());
    assert.ok(st('dev/sda').isBlockDevice());
  }
  writeFileSync(join(out, 'bin/busybox'), 'edited in the sandbox');
  assert.is(readFileSync(blob, 'utf8'), 'BUSYBOX', 'editing a staged file leaves the cache alone');
  // without owners (what a rootless user gets)
  const out2 = join(root, 'out2');
  materialize(tree, out2, { owners: false });
  assert.is(lstatSync(join(out2, 'home-file')).uid, process.getuid?.() ?? 0);
  // a non-empty destination needs merge
  assert.throws(() => materialize(tree, out2), /is not empty/);
  materialize(tree, out2, { merge: true });
  cleanup(root);
});

test('treeFromStagedDir: collects an install root with modes, links and empty dirs into blobs, owners 0:0', () => {
  const root = throwawayDir('kiln-src-');
  const c = openCache(root);
  const inst = join(root, 'install');
  mkdirSync(join(inst, 'usr/bin'), { recursive: true });
  mkdirSync(join(inst, 'etc'));
  writeFileSync(join(inst, 'usr/bin/tool'), 'tool');
  chmodSync(join(inst, 'usr/bin/tool'), 0o4755);
  linkSync(join(inst, 'usr/bin/tool'), join(inst, 'usr/bin/tool2'));
  symlinkSync('/usr/bin/tool', join(inst, 'usr/bin/t'));
  const tree = treeFromStagedDir(inst, c.blobs, { mtime: { sec: 1321009871, nsec: 0 } });
  assert.is(tree.get('usr/bin/tool')!.mode, 0o4755);
  assert.is(tree.get('usr/bin/tool'), tree.get('usr/bin/tool2'));
  assert.is(tree.get('usr/bin/t')!.target, '/usr/bin/tool');
  assert.ok(tree.get('etc')!.type === 'dir');
  assert.instance(tree.get('usr/bin/tool')!.content, BlobContent);
  for (const [, i] of tree.walk()) {
    assert.is(i.uid, 0);
    assert.is(i.mtime.sec, 1321009871);
  }
  // moving: the staged file is given up to the store, once its extended attributes are read
  writeFileSync(join(inst, 'big'), Buffer.alloc(10_000, 1));
  const setfattr = spawnSync('setfattr', ['-n', 'user.note', '-v', 'kept', join(inst, 'big')], { encoding: 'utf8' });
  assert.is(setfattr.status, 0, `setfattr (Debian package attr): ${setfattr.error?.message ?? setfattr.stderr}`);
  const moved = treeFromStagedDir(inst, c.blobs, { move: true });
  assert.is((moved.get('big')!.content as BlobContent).size, 10_000);
  assert.is(new TextDecoder().decode(moved.get('big')!.xattrs?.get('user.note')), 'kept');
  assert.is(lstatSync(join(inst, 'big'), { throwIfNoEntry: false }), undefined, 'moved into the store');
  cleanup(root);
});

test('commit ingests in-memory content; stale temps from dead processes are cleaned', async () => {
  const root = throwawayDir('kiln-src-');
  const c = openCache(root);
  const t = new FileTree();
  t.file('m', new BytesContent(new Uint8Array([1, 2, 3])));
  await c.artifacts.commit({ project: 'p', element: 'm.bst', key: KEY }, t, meta);
  assert.equal(Array.from(readContent(c.artifacts.load({ project: 'p', element: 'm.bst', key: KEY })!.tree.get('m')!.content!)), [1, 2, 3]);
  mkdirSync(c.blobs.tmpDir, { recursive: true });
  writeFileSync(join(c.blobs.tmpDir, '999999999-1-dead'), 'half');
  writeFileSync(join(c.blobs.tmpDir, `${process.pid}-1-live`), 'mine');
  assert.is(c.artifacts.cleanStaleTemps(), 1);
  assert.equal(filesUnder(c.blobs.tmpDir), [`${process.pid}-1-live`]);
  cleanup(root);
});

test.run();
