import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { BytesContent } from '../../src/fs/bytes-content.js';
import { FileTree, type Inode, type Timestamp } from '../../src/fs/tree.js';
import { TreeSnapshot } from '../../src/fs/tree-snapshot.js';

// Numbers as inodes hold them, including ones a compact record cannot hold (negative,
// fractional, past 32 bits), which must be compared as exactly.
const number = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }),
  fc.constantFrom(-1, 0.5, 2 ** 32, 2 ** 40 + 3, 0o100644),
  fc.integer({ min: -(2 ** 31), max: 2 ** 33 }),
);
const time: fc.Arbitrary<Timestamp> = fc.record({ sec: number, nsec: number });
const fields = fc.record({
  mode: number,
  uid: number,
  gid: number,
  mtime: time,
  atime: fc.option(time, { nil: undefined }),
  ctime: fc.option(time, { nil: undefined }),
  crtime: fc.option(time, { nil: undefined }),
});

type Change = (i: Inode) => void;
/** One change of one field to a value it did not have. */
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.constantFrom<Change>(
    (i) => (i.mode += 1),
    (i) => (i.uid += 1),
    (i) => (i.gid = i.gid === 7 ? 8 : 7),
    (i) => (i.mtime = { sec: i.mtime.sec + 1, nsec: i.mtime.nsec }),
    (i) => (i.mtime = { sec: i.mtime.sec, nsec: i.mtime.nsec + 1 }),
    (i) => (i.atime = i.atime ? undefined : { sec: 0, nsec: 0 }),
    (i) => (i.ctime = i.ctime ? { sec: i.ctime.sec, nsec: i.ctime.nsec + 1 } : { sec: 1, nsec: 0 }),
    (i) => (i.crtime = i.crtime ? undefined : i.mtime),
    (i) => (i.content = new BytesContent(new Uint8Array(i.content!.size + 1))),
  ),
);

test('a snapshot matches its tree until a field of an inode changes, whatever the numbers', () => {
  fc.assert(
    fc.property(fc.array(fields, { minLength: 1, maxLength: 6 }), fc.nat(), change, (inits, pick, apply) => {
      const tree = new FileTree();
      const inodes = inits.map((init, k) => tree.file(`f${k}`, 'data', init));
      // fields set as given, not as makeInode normalises them
      inits.forEach((init, k) => Object.assign(inodes[k]!, init));
      const snapshot = TreeSnapshot.of(tree);
      assert.ok(snapshot.matches(tree));
      const inode = inodes[pick % inodes.length]!;
      const before = { ...inode };
      apply(inode);
      // a NaN-free change always changes a value; it must be seen
      assert.not.ok(snapshot.matches(tree));
      Object.assign(inode, before);
      for (const key of ['atime', 'ctime', 'crtime'] as const) if (before[key] === undefined) delete inode[key];
      assert.ok(snapshot.matches(tree));
    }),
    { numRuns: 1000 },
  );
});

/** A directory with a file, a symlink to `target` and a character device 1:`minor`. */
function smallTree(target: string, minor: number): FileTree {
  const tree = new FileTree();
  tree.mkdir('d');
  tree.file('d/a', 'a');
  tree.symlink('d/l', target);
  tree.device('d/c', 'char', 1, minor);
  return tree;
}

test('a snapshot no longer matches once a path is added, removed or names another inode, nor another tree', () => {
  const tree = smallTree('a', 3);
  let snapshot = TreeSnapshot.of(tree);
  assert.ok(snapshot.matches(tree));
  tree.file('d/b', 'b');
  assert.not.ok(snapshot.matches(tree));
  snapshot = TreeSnapshot.of(tree);
  tree.remove('d/b');
  assert.not.ok(snapshot.matches(tree));
  snapshot = TreeSnapshot.of(tree);
  tree.set('d/a', { ...tree.get('d/a')! });
  assert.not.ok(snapshot.matches(tree));
  // the same paths, inodes and number of changes, in another tree
  const twin = smallTree('a', 3);
  assert.not.ok(TreeSnapshot.of(twin).matches(smallTree('a', 3)));
  const other = smallTree('b', 4);
  const snap2 = TreeSnapshot.of(other);
  other.get('d/l')!.target = 'a';
  assert.not.ok(snap2.matches(other));
  other.get('d/l')!.target = 'b';
  other.get('d/c')!.rdev = { major: 1, minor: 3 };
  assert.not.ok(snap2.matches(other));
  other.get('d/c')!.rdev = { major: 1, minor: 4 };
  assert.ok(snap2.matches(other));
});

test('a snapshot no longer matches once an inode gains, loses or changes a symlink target or xattrs', () => {
  const tree = smallTree('a', 3);
  tree.get('d/a')!.xattrs = new Map([['user.k', Uint8Array.of(1)]]);
  const snapshot = TreeSnapshot.of(tree);
  assert.ok(snapshot.matches(tree));
  const link = tree.get('d/l')!;
  const file = tree.get('d/a')!;
  const check = (mutate: () => void, undo: () => void): void => {
    mutate();
    assert.not.ok(snapshot.matches(tree));
    undo();
    assert.ok(snapshot.matches(tree));
  };
  check(
    () => delete link.target,
    () => (link.target = 'a'),
  );
  check(
    () => delete file.xattrs,
    () => (file.xattrs = new Map([['user.k', Uint8Array.of(1)]])),
  );
  check(
    () => file.xattrs!.set('user.k', Uint8Array.of(2)),
    () => file.xattrs!.set('user.k', Uint8Array.of(1)),
  );
  check(
    () => (link.xattrs = new Map([['user.k', Uint8Array.of(1)]])),
    () => delete link.xattrs,
  );
  check(
    () => (tree.get('d/c')!.target = 'x'),
    () => delete tree.get('d/c')!.target,
  );
});

test.run();
