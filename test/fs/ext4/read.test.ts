/**
 * The ext4 reader on hand-made mke2fs images that reach the corners a random tree rarely does:
 * extent trees with index nodes, triple-indirect block maps, two-level htrees, checksum
 * verification that catches corruption, and images our own writer made.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExtentHeader } from '../../../src/fs/ext4/extent.js';
import { DxRootInfo, DX_ROOT_INFO_OFFSET } from '../../../src/fs/ext4/htree.js';
import { INODE_FLAG } from '../../../src/fs/ext4/constants.js';
import { FileSource, FileTree, MemoryTarget, planExt4, readExt4, writeExt4, type Ext4Reader } from '../../../src/index.js';
import { run } from '../../helpers/tools.js';
import { pieceBytes, readerWalk } from './read-helpers.js';

const dirs: string[] = [];
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'kiln-read-fixed-'));
  dirs.push(d);
  return d;
}

function open(image: string, verify = false): { reader: Ext4Reader; close(): void } {
  const src = new FileSource(image);
  return { reader: readExt4(src, { verify }), close: () => src.close() };
}

/** Writes pieces at offsets into a sparse file of `size` bytes. */
function sparseFile(path: string, size: number, pieces: [number, number, number][]): Uint8Array {
  const expected = new Uint8Array(size);
  const fd = openSync(path, 'w');
  for (const [offset, length, seed] of pieces) {
    const bytes = pieceBytes({ offset, length, seed });
    writeSync(fd, bytes, 0, length, offset);
    expected.set(bytes, offset);
  }
  ftruncateSync(fd, size);
  closeSync(fd);
  return expected;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

test('extent trees with index nodes (a fragmented file) read back exactly', () => {
  const d = scratch();
  mkdirSync(join(d, 'src'));
  // 600 one-block islands with holes between: more extents than fit in the inode or one block.
  const pieces: [number, number, number][] = [];
  for (let i = 0; i < 600; i++) pieces.push([i * 3072, 1024, i + 1]);
  const expected = sparseFile(join(d, 'src', 'frag'), 600 * 3072, pieces);
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '1024', '-d', join(d, 'src'), join(d, 'img'), '16M']);
  const { reader, close } = open(join(d, 'img'), true);
  try {
    const inode = reader.inode(reader.lookup('frag'));
    assert.ok(inode.flags & INODE_FLAG.EXTENTS, 'extent-mapped');
    assert.ok((ExtentHeader.get(inode.iBlock, 'eh_depth') as number) >= 1, 'the tree has index nodes');
    assert.ok(equalBytes(reader.readFile('frag'), expected), 'content');
    // Streaming reads at odd offsets and lengths agree with the whole.
    const r = reader.content('frag').open();
    for (const [at, len] of [
      [0, 1],
      [1023, 2],
      [3071, 4000],
      [600 * 3072 - 5, 5],
      [12345, 99999],
    ] as const) {
      const buf = new Uint8Array(len);
      assert.is(r.read(at, buf), Math.min(len, 600 * 3072 - at));
      assert.ok(equalBytes(buf.subarray(0, Math.min(len, 600 * 3072 - at)), expected.subarray(at, at + len)), `read(${at}, ${len})`);
    }
    r.close();
    assert.equal(reader.verifyAll(), []);
    assert.equal(reader.checksumErrors, []);
  } finally {
    close();
  }
});

test('ext2 block maps: direct, single, double and triple indirect blocks, holes between', () => {
  const d = scratch();
  mkdirSync(join(d, 'src'));
  // With 1 KiB blocks the triple-indirect range starts at (12 + 256 + 65536) KiB.
  const size = 70 << 20;
  const expected = sparseFile(join(d, 'src', 'deep'), size, [
    [0, 5000, 1],
    [200 << 10, 3000, 2],
    [(12 + 256 + 100) << 10, 7000, 3],
    [(12 + 256 + 65536 + 7) << 10, 9000, 4],
    [size - 10, 10, 5],
  ]);
  writeFileSync(join(d, 'src', 'small'), 'eleven blocks or less');
  for (const [fs, bs] of [
    ['ext2', '1024'],
    ['ext3', '4096'],
  ]) {
    const img = join(d, `img-${fs}`);
    run('mke2fs', ['-q', '-F', '-t', fs!, '-b', bs!, '-d', join(d, 'src'), img, '64M']);
    const { reader, close } = open(img);
    try {
      assert.not.ok(reader.inode(reader.lookup('deep')).flags & INODE_FLAG.EXTENTS, `${fs}: block-mapped`);
      assert.ok(equalBytes(reader.readFile('deep'), expected), `${fs}: content`);
      assert.is(new TextDecoder().decode(reader.readFile('small')), 'eleven blocks or less');
    } finally {
      close();
    }
  }
});

test('two-level htree (e2fsck -D) resolves every name through the index, and lists all', () => {
  const d = scratch();
  mkdirSync(join(d, 'src', 'big'), { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const n = `entry-${i.toString(36)}-${'x'.repeat(40)}-${(i * 7919) % 10007}`;
    names.push(n);
    writeFileSync(join(d, 'src', 'big', n), String(i));
  }
  const img = join(d, 'img');
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '1024', '-d', join(d, 'src'), img, '32M']);
  run('e2fsck', ['-fyD', img], { allowFail: true });
  assert.is(run('e2fsck', ['-fn', img], { allowFail: true }).status, 0, 'clean after -D');
  const { reader, close } = open(img, true);
  try {
    const dir = reader.inode(reader.lookup('big'));
    assert.ok(dir.flags & INODE_FLAG.INDEX, 'indexed');
    const root = reader.readBlock(reader.runsOf(dir)[0]!.physical);
    assert.ok((DxRootInfo.get(root, 'indirect_levels', DX_ROOT_INFO_OFFSET) as number) >= 1, 'two levels');
    const listed = reader
      .list('big')
      .map((e) => e.name)
      .sort();
    assert.equal(listed, [...names].sort());
    for (const [i, n] of names.entries()) {
      if (i % 7 !== 0) continue;
      assert.is(new TextDecoder().decode(reader.readFile(`big/${n}`)), String(i), n);
    }
    assert.throws(() => reader.stat('big/not-there'), /no 'big\/not-there'/);
    assert.equal(reader.verifyAll(), []);
    assert.equal(reader.checksumErrors, []);
  } finally {
    close();
  }
});

/** Flips one byte of a file in place. */
function flip(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  const b = new Uint8Array(1);
  readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0x5a;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}

test('verify reports bad crc32c in inodes, directory blocks and the superblock', () => {
  const d = scratch();
  mkdirSync(join(d, 'src', 'dir'), { recursive: true });
  writeFileSync(join(d, 'src', 'dir', 'file'), 'content');
  const img = join(d, 'img');
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-d', join(d, 'src'), img, '16M']);
  let fileIno: number;
  let inodeAt: number;
  let dirBlock: number;
  {
    const { reader, close } = open(img, true);
    assert.equal(reader.verifyAll(), [], 'clean to begin with');
    fileIno = reader.lookup('dir/file');
    // debugfs says where the inode and the directory's block are.
    const imap = run('debugfs', ['-R', `imap <${fileIno}>`, img]).stdout;
    const m = /located at block (\d+), offset (0x[0-9a-f]+)/.exec(imap)!;
    inodeAt = Number(m[1]) * 4096 + parseInt(m[2]!, 16);
    dirBlock = reader.runsOf(reader.inode(reader.lookup('dir')))[0]!.physical;
    close();
  }
  flip(img, inodeAt + 0x10); // i_mtime
  flip(img, dirBlock * 4096 + 24 + 8); // a name in the directory block ("file" after . and ..)
  const { reader, close } = open(img, true);
  try {
    const whats = reader.verifyAll().map((e) => e.what);
    assert.ok(whats.includes(`inode ${fileIno}`), whats.join('; '));
    assert.ok(
      whats.some((w) => w.startsWith('directory block 0')),
      whats.join('; '),
    );
  } finally {
    close();
  }
  flip(img, 1024 + 0x2c); // s_mtime
  const src = new FileSource(img);
  try {
    assert.equal(
      readExt4(src, { verify: true }).checksumErrors.map((e) => e.what),
      ['superblock'],
    );
    assert.equal(readExt4(src).checksumErrors, [], 'without verify nothing is checked');
  } finally {
    src.close();
  }
});

test("our writer's images read back identically (times past 2038 and before 1970, nanoseconds, xattrs)", () => {
  const t = new FileTree({ mode: 0o755, mtime: { sec: 1_700_000_000, nsec: 5 } });
  const big = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
  t.mkdir('etc', { mode: 0o750, uid: 100_000, gid: 70_000, mtime: { sec: -1_000_000_000, nsec: 999_999_999 } });
  t.file('etc/hosts', '127.0.0.1 localhost\n', { mtime: { sec: 2 ** 33, nsec: 123 }, crtime: { sec: 3_000_000_000, nsec: 7 } });
  t.file('big', big, { mode: 0o4755, xattrs: { 'user.comment': 'hello', 'security.capability': new Uint8Array(20).fill(1), 'trusted.long': 'v'.repeat(600) } });
  t.link('etc/big-link', 'big');
  t.symlink('fast', 'etc/hosts');
  t.symlink('slow', 'x/'.repeat(100));
  t.device('null', 'char', 1, 3);
  t.device('sda', 'block', 259, 70000);
  t.special('fifo', 'fifo');
  t.special('sock', 'socket');
  const plan = planExt4(t);
  const target = new MemoryTarget(plan.minimumSize);
  writeExt4(t, target);
  const reader = readExt4(target, { verify: true });
  const stats = readerWalk(reader);
  assert.equal([...stats.keys()].sort(), ['big', 'etc', 'etc/big-link', 'etc/hosts', 'fast', 'fifo', 'lost+found', 'null', 'sda', 'slow', 'sock']);
  const etc = stats.get('etc')!;
  assert.equal([etc.mode, etc.uid, etc.gid, etc.mtime.sec, etc.mtime.nsec], [0o750, 100_000, 70_000, -1_000_000_000, 999_999_999]);
  const hosts = stats.get('etc/hosts')!;
  assert.equal([hosts.mtime.sec, hosts.mtime.nsec, hosts.crtime?.sec, hosts.crtime?.nsec], [2 ** 33, 123, 3_000_000_000, 7]);
  assert.ok(equalBytes(reader.readFile('big'), big));
  assert.is(stats.get('big')!.mode, 0o4755);
  assert.is(stats.get('big')!.ino, stats.get('etc/big-link')!.ino);
  assert.is(stats.get('big')!.nlink, 2);
  assert.is(new TextDecoder().decode(stats.get('big')!.xattrs!.get('user.comment')), 'hello');
  assert.is(stats.get('big')!.xattrs!.get('trusted.long')!.length, 600);
  assert.is(stats.get('big')!.xattrs!.size, 3);
  assert.is(stats.get('fast')!.target, 'etc/hosts');
  assert.is(stats.get('slow')!.target, 'x/'.repeat(100));
  assert.equal(stats.get('null')!.rdev, { major: 1, minor: 3 });
  assert.equal(stats.get('sda')!.rdev, { major: 259, minor: 70000 });
  assert.is(stats.get('fifo')!.type, 'fifo');
  assert.is(stats.get('sock')!.type, 'socket');
  assert.equal(reader.verifyAll(), []);
  assert.equal(reader.checksumErrors, []);
});

test('bad input: not ext4, truncated, missing paths, wrong types', () => {
  assert.throws(() => readExt4(new MemoryTarget(4096)), /no ext2\/3\/4 superblock/);
  assert.throws(() => readExt4(new MemoryTarget(100)), /too small/);
  const t = new FileTree();
  t.file('f', 'x');
  const target = new MemoryTarget(planExt4(t).minimumSize);
  writeExt4(t, target);
  const reader = readExt4(target);
  assert.throws(() => reader.stat('nope'), /no 'nope' in the image/);
  assert.throws(() => reader.list('f'), /not a directory/);
  assert.throws(() => reader.stat('f/x'), /'f' is not a directory/);
  assert.throws(() => reader.readFile(''), /not a regular file/);
  // An image cut short: the inode table is gone.
  const cut = new MemoryTarget(target.bytes.slice(0, 8192));
  assert.throws(() => readExt4(cut).list(''), /outside the|damaged/);
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
