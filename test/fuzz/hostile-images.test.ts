/**
 * One crafted image per class of hostile image from issue 9 (items 4, 5, 6 and 8, reader side):
 * each must end in a clean KilnError naming what is wrong (or, where the image is only odd, be
 * read), quickly and in little memory. The images are small kiln/mke2fs/mkfs.fat images with one
 * structural mutation from the fuzzer's maps (map-ext4.ts, map-fat.ts, map-disk.ts), applied
 * with checksums re-sealed so the damage itself is what the reader meets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listing } from '../../src/cli/commands/image.js';
import { KilnError, MemoryTarget, openImage, readPartitions, writeExt4, writeFat, FileTree, FileSource } from '../../src/index.js';
import { encodeGpt } from '../../src/partition/gpt.js';
import { encodeMbr } from '../../src/partition/mbr.js';
import { requireTool } from '../helpers/tools.js';
import { mapGptDisk, mapMbrDisk } from './map-disk.js';
import { mapExt4 } from './map-ext4.js';
import { mapFat } from './map-fat.js';
import type { ImageMap } from './model.js';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kiln-hostile-'));
const MiB = 1 << 20;

function tree(unix: boolean): FileTree {
  const t = new FileTree();
  t.mkdirp('a/b/c');
  t.file('a/b/c/leaf', 'leaf\n');
  t.file('a/note', 'n');
  t.file('big.bin', new Uint8Array(40 * 1024).fill(7));
  if (unix) {
    t.symlink('slow', `${'d/'.repeat(60)}end`);
    t.symlink('fast', 'a/note');
  }
  return t;
}

function kilnExt4(blockSize: 1024 | 4096): Uint8Array {
  const t = new MemoryTarget(4 * MiB);
  writeExt4(tree(true), t, { blockSize, sourceDateEpoch: 1_600_000_000 });
  return t.bytes;
}

function kilnFat(size: number, fatType?: 12 | 16 | 32): Uint8Array {
  const t = new MemoryTarget(size);
  writeFat(tree(false), t, { specialFiles: 'skip', sourceDateEpoch: 1_600_000_000, ...(fatType ? { fatType, clusterSize: 512 } : {}) });
  return t.bytes;
}

/** `bytes` with the map's structural mutation named by `pattern` applied and checksums re-sealed. */
function mutated(bytes: Uint8Array, map: ImageMap, pattern: RegExp): Uint8Array {
  const s = map.structural.find((x) => pattern.test(x.name));
  if (!s) throw new Error(`no mutation ${pattern} among: ${map.structural.map((x) => x.name).join('; ')}`);
  const out = bytes.slice();
  s.apply(out);
  map.reseal?.(out);
  return out;
}

let n = 0;
function file(bytes: Uint8Array): string {
  const p = join(work, `img-${n++}.img`);
  writeFileSync(p, bytes);
  return p;
}

/**
 * Opens and lists the whole tree the way `kiln image ls -R -l` does, then reads the head and
 * tail of every regular file the way `kiln image cat` would; returns the error.
 */
function listError(path: string, verify: boolean | 'warn' = true): KilnError | undefined {
  try {
    const img = openImage(path, { verify });
    try {
      const files = listing(img.reader, '/', true, true)
        .filter((l) => l.startsWith('-'))
        .map((l) => l.split(/ \d\d:\d\d:\d\d /)[1]!);
      const chunk = new Uint8Array(64 << 10);
      for (const f of files) {
        const c = img.reader.content(f);
        const r = c.open();
        try {
          r.read(0, chunk.subarray(0, Math.min(chunk.length, c.size)));
          if (c.size > 4096) r.read(c.size - 4096, chunk.subarray(0, 4096));
        } finally {
          r.close();
        }
      }
      return undefined;
    } finally {
      img.close();
    }
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
}

function expectError(path: string, code: string, message: RegExp): void {
  const t0 = Date.now();
  const heap0 = process.memoryUsage().rss;
  const e = listError(path);
  assert.ok(e, `expected ${code}: ${message}, but the image was read`);
  assert.is(e!.code, code, e!.message);
  assert.match(e!.message, message);
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  assert.ok(process.memoryUsage().rss - heap0 < 256 * MiB, 'memory grew by more than 256 MiB');
}

function kiln(args: string[]): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 1 << 26,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

const ext4k = kilnExt4(4096);
const ext4kMap = mapExt4(ext4k);
const ext1k = kilnExt4(1024);
const ext1kMap = mapExt4(ext1k);

// ---- item 4: loops and sizes that never end ----

test('ext4: a directory entry linking back to an ancestor is a directory loop (ls -R ends)', () => {
  const img = file(mutated(ext4k, ext4kMap, /^directory entry in inode \d+ -> ancestor directory 2$/));
  expectError(img, 'directory-loop', /again, its own ancestor '\/': the directories form a loop/);
  const r = kiln(['image', 'ls', '-R', img]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /^kiln: error: .*directories form a loop/);
});

test('ext4: a second name for a directory is refused, not listed twice', () => {
  const img = file(mutated(ext4k, ext4kMap, /second link to directory/));
  expectError(img, 'directory-loop', /a directory has two names|its own ancestor/);
});

test('ext4: a directory with i_size_high set is read over its mapped blocks, at once', () => {
  for (const pattern of [/^directory inode 2: i_size_high = 4294967295$/, /^directory inode 2: i_size_lo = 0xffffffff$/]) {
    const t0 = Date.now();
    const e = listError(file(mutated(ext1k, ext1kMap, pattern)));
    assert.is(e, undefined, e?.message);
    assert.ok(Date.now() - t0 < 3000);
  }
});

test('ext4: a directory whose blocks outlive its size, or an encrypted one, is refused naming it (debugfs would list what a lenient read hides)', () => {
  expectError(
    file(mutated(ext4k, ext4kMap, /^directory inode 2: i_size_lo = 0 \(blocks past the size\)$/)),
    'ext4-corrupt',
    /^directory inode 2: maps block 0, past its size of 0 bytes/,
  );
  expectError(file(mutated(ext4k, ext4kMap, /^directory inode 2: EXT4_ENCRYPT_FL set$/)), 'ext4-encrypted', /directory inode 2 is encrypted \(fscrypt\)/);
});

test('ext4: extent index entries that all lead to one child are damage, not an exponential walk', () => {
  const t = new MemoryTarget(8 * MiB);
  // A fragmented file: every other 1 KiB block a hole, so its extent tree needs index nodes.
  const ft = new FileTree();
  const data = new Uint8Array(2 * MiB);
  for (let i = 0; i < data.length; i += 2048) data.fill(1 + (i % 251), i, i + 1024);
  ft.file('frag', data);
  writeExt4(ft, t, { blockSize: 1024, sourceDateEpoch: 0 });
  const map = mapExt4(t.bytes);
  expectError(
    file(mutated(t.bytes, map, /^extent root of inode \d+: every index entry -> the first child$/)),
    'ext4-corrupt',
    /referenced twice|not after the one before/,
  );
  expectError(
    file(mutated(t.bytes, map, /^extent leaf block \d+ of inode \d+: depth 1, every entry -> itself$/)),
    'ext4-corrupt',
    /referenced twice|extent depth/,
  );
});

test('ext2: indirect blocks that point at themselves are damage, not a heap blow-up', () => {
  requireTool('mke2fs');
  const src = join(work, 'ext2-src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'big'), new Uint8Array(600 * 1024).fill(3));
  const img = join(work, 'ext2.img');
  const r = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '1024', '-d', src, img, '4096k'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const bytes = new Uint8Array(readFileSync(img));
  const map = mapExt4(bytes);
  expectError(
    file(mutated(bytes, map, /^level-2 indirect block \d+ of inode \d+: every pointer -> itself/)),
    'ext4-corrupt',
    /indirect block \d+ is used twice/,
  );
  expectError(file(mutated(bytes, map, /double and triple indirect -> its single indirect block/)), 'ext4-corrupt', /indirect block \d+ is used twice/);
});

test('ext4: a symlink of 3 GiB, 4 GiB + 5 or 2^40 bytes is refused without allocating it', () => {
  for (const size of ['3 GiB', '4 GiB \\+ 5', '2\\^40']) {
    expectError(
      file(mutated(ext4k, ext4kMap, new RegExp(`^symlink inode \\d+: size ${size}$`))),
      'ext4-corrupt',
      /symlink inode \d+: target of \d+ bytes \(a symlink target is at most 4095 bytes here\)/,
    );
  }
});

test("FAT: a subdirectory at its parent's cluster, at cluster 0, or at its own cluster is a loop or damage", () => {
  for (const [size, type] of [
    [2 * MiB, undefined],
    [36 * MiB, 32],
  ] as const) {
    const bytes = kilnFat(size, type);
    const map = mapFat(bytes);
    expectError(file(mutated(bytes, map, /-> cluster 0$/)), 'fat-corrupt', /points at cluster 0,/);
    expectError(file(mutated(bytes, map, /-> cluster 0x0ffffff0$/)), 'fat-corrupt', /points at cluster 268435440,/);
    expectError(file(mutated(bytes, map, /-> its own cluster's parent \(\d+\)$/)), 'directory-loop', /its own ancestor/);
    expectError(file(mutated(bytes, map, /-> a directory at that cluster$/)), 'directory-loop', /its own ancestor/);
    if (type === 32) {
      // Seen either by the walker (the root's identity again) or by the reader (the root's cluster).
      const e = listError(file(mutated(bytes, map, /-> a directory at the root cluster$/)));
      assert.ok(e && ['fat-corrupt', 'directory-loop'].includes(e.code), e?.message);
    }
  }
});

test('FAT: a cluster chain looping back is damage', () => {
  const bytes = kilnFat(36 * MiB, 32);
  const map = mapFat(bytes);
  expectError(file(mutated(bytes, map, /^root chain: last -> first \(a loop\)$/)), 'fat-corrupt', /cluster chain loops back to cluster \d+/);
});

// ---- item 5: checksums ----

test('ext4 checksums: the CLI fails on a bad extent-block or directory-block checksum naming it; --no-verify reads past with a warning', () => {
  const t = new MemoryTarget(8 * MiB);
  const ft = new FileTree();
  const data = new Uint8Array(2 * MiB);
  for (let i = 0; i < data.length; i += 2048) data.fill(1, i, i + 1024);
  ft.file('frag', data);
  writeExt4(ft, t, { blockSize: 1024, sourceDateEpoch: 0 });
  const bytes = t.bytes.slice();
  // A byte in an unused slot of an extent block: the structure stays valid, the checksum fails.
  const dv = new DataView(bytes.buffer);
  const node = mapExt4(bytes).regions.find(
    (r) => r.tag === 'ext4 extent header' && r.offset % 1024 === 0 && dv.getUint16(r.offset + 2, true) < dv.getUint16(r.offset + 4, true),
  );
  assert.ok(node, 'an extent block with a free slot');
  bytes[node!.offset + 12 + 12 * dv.getUint16(node!.offset + 2, true) + 1] ^= 0x01;
  const img = file(bytes);
  const bad = kiln(['image', 'cat', img, 'frag']);
  assert.is(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /^kiln: error: ext4 checksum mismatch in inode \d+, extent block \d+: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/);
  assert.match(bad.stderr, /--no-verify/);
  const past = kiln(['image', 'ls', '-l', '--no-verify', img]);
  assert.is(past.status, 0, past.stderr);
  assert.match(past.stdout, / frag\n/);
  const lenient = listError(img, 'warn');
  assert.is(lenient, undefined);
  // A directory block: flip a byte of a name in the root's block.
  const dirBytes = ext4k.slice();
  const dirBlock = ext4kMap.regions.find((r) => r.tag === 'ext4 directory block' && r.owner === 'inode 2 block 0')!;
  const at = dirBlock.offset + 12 + 12 + 8; // the first name after '.' and '..'
  dirBytes[at] ^= 0x20;
  expectError(file(dirBytes), 'ext4-checksum', /checksum mismatch in directory block 0 \(block \d+\) of inode 2/);
});

// ---- item 6: odd fields and truncation ----

test('ext4: odd superblock fields are ext4-corrupt errors naming the field', () => {
  expectError(file(mutated(ext4k, ext4kMap, /^superblock: s_first_data_block = blocks count$/)), 'ext4-corrupt', /first data block/);
  for (const value of [0, 0xffffffff]) {
    const b = ext4k.slice();
    new DataView(b.buffer).setUint32(1024 + 0x28, value, true); // s_inodes_per_group
    ext4kMap.reseal!(b);
    expectError(file(b), 'ext4-corrupt', new RegExp(`superblock: ${value} inodes per group`));
  }
  expectError(file(mutated(ext1k, ext1kMap, /^superblock: s_blocks_count_lo = 1$/)), 'ext4-corrupt', /first data block|blocks/);
  expectError(file(mutated(ext4k, ext4kMap, /^group 0: inode table at block 0$/)), 'ext4-corrupt', /inode table at block 0/);
});

test('FAT: truncated volumes are fat-corrupt (or not FAT), never a RangeError', () => {
  const bytes = kilnFat(36 * MiB, 32);
  // Cut inside the boot sector, the reserved sectors, the FAT, the data: an error, or (when
  // everything listed and read lies before the cut) a listing; never anything else.
  for (const cut of [600, 1536, 40 * 1024, 100 * 1024, 300 * 1024, 2 * MiB]) {
    const e = listError(file(bytes.subarray(0, cut)));
    if (cut <= 100 * 1024) assert.ok(e, `cut at ${cut}`);
    if (e) assert.ok(['fat-corrupt', 'not-fat', 'unknown-fs'].includes(e.code), `${cut}: ${e.code} ${e.message}`);
  }
});

// ---- GPT and MBR (items 6 and 8) ----

function gptDisk(): { bytes: Uint8Array; map: ImageMap } {
  const f1 = kilnFat(MiB);
  const sectors = 4096 + 2048;
  const bytes = new Uint8Array(sectors * 512);
  for (const s of encodeGpt(
    [{ start: 2048, sectors: f1.length / 512, typeGuid: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', guid: '11111111-2222-3333-4444-555555555555' }],
    { diskSectors: sectors, diskGuid: '01234567-89AB-CDEF-0123-456789ABCDEF' },
  )) {
    bytes.set(s.bytes, s.lba * 512);
  }
  bytes.set(f1, 2048 * 512);
  return { bytes, map: mapGptDisk(bytes, 1, [{ offset: 2048 * 512, number: 1, map: mapFat(f1) }]) };
}

function partitionsError(bytes: Uint8Array): KilnError {
  const path = file(bytes);
  const src = new FileSource(path);
  try {
    readPartitions(src);
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  } finally {
    src.close();
  }
  throw new Error('the table was accepted');
}

test('GPT: entry size 0 or 1 with valid CRCs, absurd entry arrays, last < first are bad-gpt errors', () => {
  const { bytes, map } = gptDisk();
  assert.match(partitionsError(mutated(bytes, map, /entry size 0 \(valid CRCs\)/)).message, /partition entries of 0 bytes/);
  assert.match(partitionsError(mutated(bytes, map, /entry size 1 \(valid CRCs\)/)).message, /partition entries of 1 bytes/);
  assert.match(partitionsError(mutated(bytes, map, /0xffffffff entries/)).message, /entries of 128 bytes/);
  assert.match(partitionsError(mutated(bytes, map, /entry array at sector 2\^40/)).message, /lies outside/);
  assert.match(partitionsError(mutated(bytes, map, /last sector before the first/)).message, /GPT entry 1: sectors \d+–\d+ end before they start/);
  const e = listError(`${file(mutated(bytes, map, /last sector before the first/))}:1`);
  assert.is(e?.code, 'bad-gpt');
});

function mbrDisk(): { bytes: Uint8Array; map: ImageMap } {
  const sectors = 12288;
  const bytes = new Uint8Array(sectors * 512);
  const p = kilnFat(MiB / 2);
  const table = [
    { start: 2048, sectors: 1024, type: 0x01 },
    { start: 4096, sectors: 1024, type: 0x83 },
    { start: 6144, sectors: 1024, type: 0x83 },
    { start: 8192, sectors: 1024, type: 0x01, ebr: 7680 },
    { start: 10240, sectors: 1024, type: 0x01, ebr: 9728 },
  ];
  for (const s of encodeMbr(table, { signature: 0x4b494c4e, alignment: 2048, diskSectors: sectors })) bytes.set(s.bytes, s.lba * 512);
  bytes.set(p, 8192 * 512);
  return { bytes, map: mapMbrDisk(bytes, [7680, 9728], [{ offset: 8192 * 512, number: 5, map: mapFat(p) }]) };
}

test('MBR: a looping chain of EBRs and more logical partitions than sfdisk reads are bad-mbr errors', () => {
  const { bytes, map } = mbrDisk();
  assert.match(partitionsError(mutated(bytes, map, /^EBR at sector \d+: link -> itself$/)).message, /loops back to sector 7680/);
  assert.match(partitionsError(mutated(bytes, map, /^last EBR: link -> the first EBR/)).message, /loops back to sector 7680/);
  assert.match(partitionsError(mutated(bytes, map, /a chain of 70 EBRs/)).message, /more than 56 logical partitions \(sfdisk reads partitions 1–60 only\)/);
  const img = file(mutated(bytes, map, /^last EBR: link -> the first EBR/));
  const r = kiln(['image', 'ls', `${img}:5`]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^kiln: error: the extended partition's chain of boot records loops back/);
});

// ---- item 8: bigalloc, root not a directory ----

test('ext4: a root inode that is not a directory is an error, not an empty listing', () => {
  const img = file(mutated(ext4k, ext4kMap, /^root inode: a regular file$/));
  expectError(img, 'ext4-corrupt', /the root inode \(2\) is a file, not a directory/);
  const r = kiln(['image', 'ls', img]);
  assert.is(r.status, 1);
  assert.is(r.stdout, '');
});

test('ext4: bigalloc images (mke2fs -O bigalloc) are read', () => {
  requireTool('mke2fs');
  const src = join(work, 'bigalloc-src');
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'd', 'f'), 'hello\n');
  writeFileSync(join(src, 'big'), new Uint8Array(300 * 1024).fill(9));
  for (const block of ['1024', '4096']) {
    const img = join(work, `bigalloc-${block}.img`);
    rmSync(img, { force: true });
    const r = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', block, '-O', 'bigalloc', '-C', String(Number(block) * 16), '-d', src, img, '16M'], {
      encoding: 'utf8',
    });
    assert.is(r.status, 0, r.stderr);
    const opened = openImage(img, { verify: true });
    try {
      assert.is(new TextDecoder().decode(opened.reader.readFile('d/f')), 'hello\n');
      assert.equal(opened.reader.readFile('big'), new Uint8Array(300 * 1024).fill(9));
      assert.equal(listing(opened.reader, '/', false, true), ['big', 'd', 'd/f', 'lost+found']);
    } finally {
      opened.close();
    }
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
