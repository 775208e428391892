import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  linkSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  chmodSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
  readdirSync,
  readFileSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryTarget,
  planExt4,
  planFat,
  treeFromDirectory,
  withSparseFile,
  writeExt4,
  writeFat,
  type BlockTarget,
  type Ext4Options,
  type FatOptions,
  type FileTree,
} from '../../src/index.js';
import { run } from '../helpers/tools.js';

/**
 * Golden images: a fixed tree generated on disk (small and large files, sparse ones, hard
 * links, fast and slow symlinks, long and non-UTF-8 names, a deep chain of directories, a
 * directory large enough for an htree, user xattrs) plus devices, a fifo and a socket added to
 * the tree, written as ext4 and FAT16/32. The sha256 of each image was taken with the writers
 * as they were before the speed work of issue 13: any change to the bytes a writer produces
 * for the same input and options fails here. A deliberate format change updates the hashes in
 * the same commit and says why.
 */

const SDE = 1_700_000_000;
const root = mkdtempSync(join(tmpdir(), 'kiln-golden-'));
const src = join(root, 'src');

/** xorshift32: the same bytes on every machine. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function bytes(n: number, seed: number): Uint8Array {
  const next = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** Every path made, for setting times last (deepest first, so a parent's mtime stays). */
const made: string[] = [];

function file(path: string, content: Uint8Array, mode = 0o644): void {
  writeFileSync(join(src, path), content);
  chmodSync(join(src, path), mode);
  made.push(path);
}

function dir(path: string, mode = 0o755): void {
  mkdirSync(join(src, path));
  chmodSync(join(src, path), mode);
  made.push(path);
}

function generate(): void {
  mkdirSync(src);
  chmodSync(src, 0o755);
  const next = rng(13);
  // Small files of every size class in a few directories.
  for (let d = 0; d < 6; d++) {
    dir(`small-${d}`);
    for (let f = 0; f < 40; f++) {
      const size = [0, 1, 511, 4095, 4096, 4097, 12_000, next() % 40_000][f % 8]!;
      file(`small-${d}/f${String(f).padStart(3, '0')}.dat`, bytes(size, d * 1000 + f + 1), [0o644, 0o600, 0o755, 0o444][f % 4]!);
    }
  }
  // Large files: dense, and one with all-zero blocks (holes in ext4, zero runs in FAT).
  dir('large');
  file('large/dense.bin', bytes(3 * 1024 * 1024 + 123, 7));
  const sparse = new Uint8Array(5 * 1024 * 1024 + 17);
  sparse.set(bytes(9000, 8), 0);
  sparse.set(bytes(4096, 9), 2 * 1024 * 1024);
  sparse.set(bytes(100, 10), sparse.length - 100);
  file('large/sparse.bin', sparse);
  // An 8 MiB + 1 file, read in more than one chunk by every writer.
  const fd = openSync(join(src, 'large', 'chunks.bin'), 'w');
  for (let m = 0; m < 8; m++) writeSync(fd, bytes(1 << 20, 100 + m));
  writeSync(fd, Uint8Array.of(0x5a));
  closeSync(fd);
  made.push('large/chunks.bin');
  // Hard links, across directories.
  file('small-0/linked', bytes(5000, 11));
  linkSync(join(src, 'small-0/linked'), join(src, 'small-1/linked-too'));
  linkSync(join(src, 'small-0/linked'), join(src, 'small-2/linked-three'));
  // A directory with an htree index in ext4, and short-name aliases (~1, ~2) in FAT.
  dir('many');
  for (let f = 0; f < 400; f++) file(`many/Long File Name ${String(f).padStart(3, '0')}.text`, bytes(f % 7 === 0 ? 0 : 100 + f, 5000 + f));
  // Long names: 255 bytes of ASCII; 127 two-byte characters.
  dir('names');
  file(`names/${'n'.repeat(255)}`, bytes(10, 20));
  file(`names/${'é'.repeat(127)}`, bytes(11, 21));
  file('names/UPPER.TXT', bytes(12, 22));
  file('names/lower.txt', bytes(13, 23));
  file('names/MiXeD.Txt', bytes(14, 24));
  file('names/a.b.c.d', bytes(15, 25));
  // A deep chain of directories.
  let deep = 'deep';
  dir(deep);
  for (let i = 0; i < 30; i++) {
    deep += `/level-${i}`;
    dir(deep);
  }
  file(`${deep}/bottom`, bytes(33, 30));
  // Extended attributes (user.*, which any user may set).
  for (const [path, name, value] of [
    ['small-0/f000.dat', 'user.short', 'v'],
    ['small-0/f001.dat', 'user.mime_type', 'application/octet-stream'],
    ['large/dense.bin', 'user.big', 'x'.repeat(900)],
    ['many', 'user.dir', 'a directory'],
  ] as const) {
    const r = spawnSync('setfattr', ['-n', name, '-v', value, join(src, path)], { encoding: 'utf8' });
    if (r.error) throw new Error(`setfattr could not run (Debian package 'attr'): ${r.error.message}`);
    if (r.status !== 0) throw new Error(`setfattr on ${join(src, path)} failed (the temp directory's filesystem must take user xattrs): ${r.stderr}`);
  }
  // ext4 only: symlinks (fast, slow, long) and a name that is not UTF-8.
  dir('ext4-only');
  symlinkSync('target', join(src, 'ext4-only/fast'));
  symlinkSync('t'.repeat(59), join(src, 'ext4-only/fast-59'));
  symlinkSync('t'.repeat(60), join(src, 'ext4-only/slow-60'));
  symlinkSync(`../${'long/'.repeat(100)}end`, join(src, 'ext4-only/slow-long'));
  made.push('ext4-only/fast', 'ext4-only/fast-59', 'ext4-only/slow-60', 'ext4-only/slow-long');
  const raw = Buffer.concat([Buffer.from(join(src, 'ext4-only/'), 'utf8'), Buffer.from([0x66, 0xff, 0xfe, 0x80])]);
  writeFileSync(raw, 'raw name');
  // Times last, deepest first; atime and ctime are later than SOURCE_DATE_EPOCH (reads change
  // atime, utimes sets ctime), so both are clamped to it and the images do not depend on when
  // the test runs.
  made.sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? -1 : 1));
  made.forEach((p, i) => lutimesSync(join(src, p), SDE + 10, 1_600_000_000 + i * 1000 + (i % 4) * 0.25));
  lutimesSync(raw, SDE + 10, 1_500_000_000.5);
  lutimesSync(src, SDE + 10, 1_650_000_000);
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function withSpecials(tree: FileTree): FileTree {
  const t = { mtime: { sec: 1_234_567_890, nsec: 5 } };
  tree.device('ext4-only/tty', 'char', 4, 1, t);
  tree.device('ext4-only/big-dev', 'block', 300, 70_000, { mode: 0o660, uid: 100_000, gid: 5, ...t });
  tree.special('ext4-only/fifo', 'fifo', t);
  tree.special('ext4-only/socket', 'socket', t);
  return tree;
}

function ext4Tree(): FileTree {
  return withSpecials(treeFromDirectory(src, { owners: 'root' }));
}

/** FAT holds no symlinks, devices or non-UTF-8 names: the same tree without ext4-only/. */
function fatTree(): FileTree {
  const tree = treeFromDirectory(src, { owners: 'root' });
  tree.remove('ext4-only');
  return tree;
}

/**
 * Writes the image into memory and into a sparse file (the CLI's target, where writers may take
 * other paths: holes, large writes); both must be the same bytes, and the real tools must accept
 * them (a hash of a broken image proves nothing).
 */
async function image(size: number, write: (target: BlockTarget) => void, tool: string, args: string[]): Promise<string> {
  const memory = new MemoryTarget(size);
  write(memory);
  const path = join(root, 'image');
  rmSync(path, { force: true });
  await withSparseFile(path, size, write);
  const onDisk = readFileSync(path);
  assert.ok(onDisk.equals(memory.bytes), 'the image in a sparse file differs from the one in memory');
  const r = run(tool, [...args, path], { allowFail: true });
  assert.is(r.status, 0, `${tool} ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return sha256(onDisk);
}

async function ext4Image(options: Ext4Options): Promise<{ plan: number; hash: string }> {
  const plan = planExt4(ext4Tree(), options).minimumSize;
  return { plan, hash: await image(plan + (4 << 20), (t) => writeExt4(ext4Tree(), t, options), 'e2fsck', ['-fn']) };
}

async function fatImage(size: number, options: FatOptions): Promise<{ plan: number; hash: string }> {
  const plan = planFat(fatTree(), options).minimumSize;
  return { plan, hash: await image(size, (t) => writeFat(fatTree(), t, options), 'fsck.fat', ['-n']) };
}

generate();

test('the generated tree is what the hashes were taken from', () => {
  const tree = ext4Tree();
  let files = 0;
  let xattrs = 0;
  for (const [, inode] of tree.walk()) {
    if (inode.type === 'file') files++;
    if (inode.xattrs) xattrs += inode.xattrs.size;
  }
  assert.is(files, 6 * 40 + 3 + 3 + 400 + 6 + 1 + 1);
  assert.is(xattrs, 4, 'user xattrs were not read back (is getfattr installed?)');
  assert.ok(lstatSync(join(src, 'small-0/linked')).nlink === 3);
  assert.is(readdirSync(join(src, 'many')).length, 400);
});

test('ext4, 4 KiB blocks, journal, label', async () => {
  assert.equal(await ext4Image({ sourceDateEpoch: SDE, label: 'golden' }), {
    plan: 25_964_544,
    hash: '3a36dbb9f828c1cd8ac2e7669b2d73ac98f50302f275b9297f763afa4a1b25d7',
  });
});

test('ext4, 1 KiB blocks, no journal, inode ratio 4096', async () => {
  assert.equal(await ext4Image({ sourceDateEpoch: SDE, blockSize: 1024, journal: false, inodeRatio: 4096 }), {
    plan: 19_835_904,
    hash: 'ad2eefdc1589a14a23dfed4db5b585ccbe258d7095431196417653fb7f9c2252',
  });
});

test('FAT16, 64 MiB', async () => {
  assert.equal(await fatImage(64 << 20, { sourceDateEpoch: SDE, fatType: 16, label: 'GOLDEN' }), {
    plan: 19_202_048,
    hash: '02e8351f4b331ca4d9a8a8dd110da0bf3708a93013e81fc8e2ee53669e70733e',
  });
});

test('FAT32, 96 MiB', async () => {
  assert.equal(await fatImage(96 << 20, { sourceDateEpoch: SDE, fatType: 32 }), {
    plan: 34_144_256,
    hash: '41505390f29d865808af3cccf0859cd867abaecf35d70e9a3a38b2f319f2ec09',
  });
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
