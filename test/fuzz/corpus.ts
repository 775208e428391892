/**
 * The base images the fuzzer mutates, a few MiB each: ext4 written by kiln (4 KiB and 1 KiB
 * blocks), ext4/ext2 by mke2fs (with htree, inline data, indirect blocks), FAT12/16/32 by kiln and
 * by mkfs.fat, and MBR (with logical partitions) and GPT disks holding several of them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryTarget } from '../../src/fs/memory-target.js';
import { writeExt4 } from '../../src/fs/ext4/writer.js';
import { writeFat } from '../../src/fs/fat/writer.js';
import { FileTree } from '../../src/fs/tree.js';
import { encodeGpt } from '../../src/partition/gpt.js';
import { encodeMbr, type MbrPartition } from '../../src/partition/mbr.js';
import { requireTool } from '../helpers/tools.js';
import { mapMbrDisk, mapGptDisk } from './map-disk.js';
import { mapExt4 } from './map-ext4.js';
import { mapFat } from './map-fat.js';
import type { BaseImage, ImageMap } from './model.js';

const MiB = 1 << 20;

function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x & 0xff) | 1;
  }
  return out;
}

interface TreeShape {
  /** Symlinks, devices, fifos, sockets, hard links, xattrs (not on FAT). */
  unix: boolean;
  /** A 600 KiB file (double indirect blocks on ext2 with 1 KiB blocks) and a sparse file. */
  big: boolean;
  /** A directory of 120 long names (several blocks: htree). */
  many: boolean;
}

function makeTree(shape: TreeShape): FileTree {
  const t = new FileTree();
  const xattrs = shape.unix ? { xattrs: { 'user.small': 'x' } } : {};
  t.mkdirp('etc/deep');
  t.file('etc/hostname', 'kiln\n', xattrs);
  t.file('etc/deep/x', '');
  t.mkdirp('a/b/c/d');
  t.file('a/b/c/d/leaf.txt', 'leaf\n');
  t.file('a/b/note', 'n');
  if (shape.many) t.mkdirp('many');
  if (shape.many) for (let i = 0; i < 120; i++) t.file(`many/a-rather-long-file-name-to-fill-blocks-${String(i).padStart(3, '0')}`, `file ${i}\n`);
  if (shape.big) {
    t.file('big.bin', noise(600 * 1024, 7));
    // Ten 4 KiB islands with holes between: more extents than fit in the inode.
    const sparse = new Uint8Array(80 * 1024);
    for (let i = 0; i < 10; i++) sparse.set(noise(4096, i + 1), i * 8192);
    t.file('sparse', sparse);
  } else t.file('big.bin', noise(20 * 1024, 7));
  if (shape.unix) {
    t.symlink('link', 'etc/hostname');
    t.symlink('slow', `${'d/'.repeat(60)}end`);
    t.device('null', 'char', 1, 3);
    t.device('sda', 'block', 8, 0);
    t.special('fifo', 'fifo');
    t.special('sock', 'socket');
    t.link('a/hard', 'etc/hostname');
    t.file('withxattr', 'data', { xattrs: { 'user.big': 'y'.repeat(300), 'user.other': 'z' } });
  }
  return t;
}

/** The tree as a host directory, for mke2fs -d and mcopy. */
function materialize(tree: FileTree, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [path, inode] of tree.walk()) {
    if (path === '') continue;
    const p = join(dir, path);
    if (inode.type === 'dir') mkdirSync(p, { recursive: true });
    else if (inode.type === 'file') {
      const c = inode.content;
      const bytes = new Uint8Array(c ? c.size : 0);
      if (c) {
        const r = c.open();
        r.read(0, bytes);
        r.close();
      }
      writeFileSync(p, bytes);
    } else if (inode.type === 'symlink') symlinkSync(inode.target!, p);
    else if (inode.type === 'char' || inode.type === 'block')
      spawnSync('mknod', [p, inode.type === 'char' ? 'c' : 'b', String(inode.rdev!.major), String(inode.rdev!.minor)]);
    else if (inode.type === 'fifo') spawnSync('mkfifo', [p]);
  }
}

function tool(cmd: string, args: string[], env?: NodeJS.ProcessEnv): void {
  requireTool(cmd);
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
}

function kilnExt4(tree: FileTree, size: number, blockSize: 1024 | 4096): Uint8Array {
  const t = new MemoryTarget(size);
  writeExt4(tree, t, { blockSize, sourceDateEpoch: 1_600_000_000 });
  return t.bytes;
}

function mke2fs(tree: FileTree, work: string, name: string, size: number, args: string[], after?: (img: string) => void): Uint8Array {
  const src = join(work, `${name}.src`);
  materialize(tree, src);
  const img = join(work, `${name}.img`);
  rmSync(img, { force: true });
  tool('mke2fs', ['-q', '-F', ...args, '-E', 'root_owner=0:0', '-d', src, img, `${size / 1024}k`]);
  after?.(img);
  return new Uint8Array(readFileSync(img));
}

function kilnFat(tree: FileTree, size: number, fatType?: 12 | 16 | 32, clusterSize?: number): Uint8Array {
  const t = new MemoryTarget(size);
  writeFat(tree, t, { specialFiles: 'skip', sourceDateEpoch: 1_600_000_000, ...(fatType ? { fatType } : {}), ...(clusterSize ? { clusterSize } : {}) });
  return t.bytes;
}

function mkfsFat(tree: FileTree, work: string, name: string, size: number, args: string[]): Uint8Array {
  const src = join(work, `${name}.src`);
  const fatTree = new FileTree();
  for (const [path, inode] of tree.walk()) {
    if (path === '') continue;
    if (inode.type === 'dir') fatTree.mkdirp(path);
    else if (inode.type === 'file' && inode.content) fatTree.file(path, inode.content);
  }
  materialize(fatTree, src);
  const img = join(work, `${name}.img`);
  rmSync(img, { force: true });
  writeFileSync(img, new Uint8Array(0));
  spawnSync('truncate', ['-s', String(size), img]);
  tool('mkfs.fat', [...args, img]);
  const top = fatTree.children('').map((p) => join(src, p));
  tool('mcopy', ['-s', '-i', img, ...top, '::'], { ...process.env, MTOOLS_SKIP_CHECK: '1' });
  return new Uint8Array(readFileSync(img));
}

function base(name: string, kind: BaseImage['kind'], bytes: Uint8Array, map: ImageMap, specs: string[], cat?: BaseImage['cat']): BaseImage {
  return { name, kind, bytes, ...map, specs, ...(cat ? { cat } : {}) };
}

/** Builds every base image (a few seconds: mke2fs, e2fsck -D, mkfs.fat, mcopy). */
export function buildCorpus(work: string): BaseImage[] {
  mkdirSync(work, { recursive: true });
  const full = makeTree({ unix: true, big: true, many: true });
  const small = makeTree({ unix: true, big: false, many: false });
  const fatFull = makeTree({ unix: false, big: true, many: true });
  const fatSmall = makeTree({ unix: false, big: false, many: false });
  const out: BaseImage[] = [];
  const ext4 = (name: string, bytes: Uint8Array, cat = 'big.bin'): void => {
    out.push(base(name, 'ext4', bytes, mapExt4(bytes), [''], { spec: '', path: cat }));
  };
  const fat = (name: string, bytes: Uint8Array): void => {
    out.push(base(name, 'fat', bytes, mapFat(bytes), [''], { spec: '', path: 'big.bin' }));
  };

  ext4('ext4 by kiln, 4 KiB blocks', kilnExt4(full, 4 * MiB, 4096));
  ext4('ext4 by kiln, 1 KiB blocks', kilnExt4(full, 4 * MiB, 1024));
  ext4('ext4 by mke2fs', mke2fs(full, work, 'mke2fs-ext4', 4 * MiB, ['-t', 'ext4', '-b', '4096']));
  ext4(
    'ext4 by mke2fs, 1 KiB blocks, htree',
    mke2fs(full, work, 'mke2fs-ext4-1k', 4 * MiB, ['-t', 'ext4', '-b', '1024'], (img) => spawnSync('e2fsck', ['-fyD', img])),
  );
  ext4('ext4 by mke2fs, inline data', mke2fs(full, work, 'mke2fs-inline', 4 * MiB, ['-t', 'ext4', '-O', 'inline_data']));
  ext4('ext2 by mke2fs, 1 KiB blocks', mke2fs(full, work, 'mke2fs-ext2', 4 * MiB, ['-t', 'ext2', '-b', '1024']));
  ext4('ext3 by mke2fs', mke2fs(full, work, 'mke2fs-ext3', 4 * MiB, ['-t', 'ext3', '-b', '4096']));
  fat('FAT12 by kiln', kilnFat(fatFull, 2 * MiB));
  fat('FAT16 by kiln', kilnFat(fatFull, 8 * MiB, 16, 512));
  fat('FAT32 by kiln', kilnFat(fatFull, 36 * MiB, 32, 512));
  fat('FAT12 by mkfs.fat', mkfsFat(fatFull, work, 'mkfs-fat12', 2 * MiB, ['-F', '12']));
  fat('FAT32 by mkfs.fat', mkfsFat(fatFull, work, 'mkfs-fat32', 36 * MiB, ['-F', '32', '-s', '1']));

  // An MBR disk: three primary partitions, two logical ones behind EBRs.
  {
    const parts: { fs: Uint8Array; map: ImageMap; start: number; type: number; ebr?: number }[] = [];
    const add = (fs: Uint8Array, map: ImageMap, start: number, type: number, ebr?: number): void => {
      parts.push({ fs, map, start, type, ...(ebr !== undefined ? { ebr } : {}) });
    };
    const p1 = kilnFat(fatSmall, MiB);
    add(p1, mapFat(p1), 2048, 0x01);
    const p2 = kilnExt4(small, 2 * MiB, 1024);
    add(p2, mapExt4(p2), 4096, 0x83);
    const p3 = mke2fs(small, work, 'disk-ext2', MiB, ['-t', 'ext2', '-b', '1024']);
    add(p3, mapExt4(p3), 8192, 0x83);
    const p5 = kilnFat(fatSmall, MiB / 2);
    add(p5, mapFat(p5), 12288, 0x01, 10240);
    const p6 = mke2fs(small, work, 'disk-ext4', MiB, ['-t', 'ext4']);
    add(p6, mapExt4(p6), 15360, 0x83, 13312);
    const sectors = 17408;
    const bytes = new Uint8Array(sectors * 512);
    const table: MbrPartition[] = parts.map((p) => ({
      start: p.start,
      sectors: p.fs.length / 512,
      type: p.type,
      ...(p.ebr !== undefined ? { ebr: p.ebr } : {}),
    }));
    for (const s of encodeMbr(table, { signature: 0x4b494c4e, alignment: 2048, diskSectors: sectors })) bytes.set(s.bytes, s.lba * 512);
    for (const p of parts) bytes.set(p.fs, p.start * 512);
    const numbers = [1, 2, 3, 5, 6];
    const map = mapMbrDisk(
      bytes,
      [10240, 13312],
      parts.map((p, i) => ({ offset: p.start * 512, number: numbers[i]!, map: p.map })),
    );
    out.push(
      base(
        'MBR disk (3 primary, 2 logical)',
        'disk',
        bytes,
        map,
        numbers.map((n) => `:${n}`),
        { spec: ':2', path: 'big.bin' },
      ),
    );
  }
  // A GPT disk with two partitions.
  {
    const f1 = kilnFat(fatSmall, MiB);
    const f2 = kilnExt4(small, 2 * MiB, 4096);
    const sectors = 8192 + 2048;
    const bytes = new Uint8Array(sectors * 512);
    const sectorsOf = (b: Uint8Array): number => b.length / 512;
    const table = encodeGpt(
      [
        { start: 2048, sectors: sectorsOf(f1), typeGuid: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', guid: '11111111-2222-3333-4444-555555555555', name: 'boot' },
        { start: 4096, sectors: sectorsOf(f2), typeGuid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', guid: '66666666-7777-8888-9999-AAAAAAAAAAAA', name: 'root' },
      ],
      { diskSectors: sectors, diskGuid: '01234567-89AB-CDEF-0123-456789ABCDEF' },
    );
    for (const s of table) bytes.set(s.bytes, s.lba * 512);
    bytes.set(f1, 2048 * 512);
    bytes.set(f2, 4096 * 512);
    const map = mapGptDisk(bytes, 2, [
      { offset: 2048 * 512, number: 1, map: mapFat(f1) },
      { offset: 4096 * 512, number: 2, map: mapExt4(f2) },
    ]);
    out.push(base('GPT disk', 'disk', bytes, map, [':1', ':2'], { spec: ':2', path: 'big.bin' }));
  }
  return out;
}
