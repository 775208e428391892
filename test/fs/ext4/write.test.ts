import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileTree,
  KilnError,
  MemoryTarget,
  SparseFileTarget,
  planExt4,
  writeExt4,
  type BlockTarget,
  type ContentReader,
  type FileContent,
} from '../../../src/index.js';
import { run } from '../../helpers/tools.js';
import { debugfsMismatches, e2fsckProblems } from './write-verify.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-ext4-write-'));

/** A target that fails on any write: refusals must come before the first byte. */
class UntouchableTarget implements BlockTarget {
  constructor(readonly size: number) {}
  read(): Uint8Array {
    throw new Error('read from an untouchable target');
  }
  write(offset: number): void {
    throw new Error(`write at ${offset} although the input was refused`);
  }
}

/** A large file that is zero except for the given pieces; read() produces it on the fly. */
class SparseContent implements FileContent {
  constructor(
    readonly size: number,
    readonly pieces: { offset: number; bytes: Uint8Array }[],
  ) {}
  open(): ContentReader {
    return {
      read: (offset, into) => {
        const n = Math.max(0, Math.min(into.length, this.size - offset));
        into.fill(0, 0, n);
        for (const p of this.pieces) {
          const from = Math.max(offset, p.offset);
          const to = Math.min(offset + n, p.offset + p.bytes.length);
          if (to > from) into.set(p.bytes.subarray(from - p.offset, to - p.offset), from - offset);
        }
        return n;
      },
      close() {},
    };
  }
}

function sample(order: 'forward' | 'reverse'): FileTree {
  const t = new FileTree({ mtime: { sec: 1_600_000_000, nsec: 0 } });
  const steps: (() => void)[] = [() => t.mkdir('etc', { mtime: { sec: 1, nsec: 2 } }), () => t.mkdir('usr', { uid: 70000 })];
  const files: (() => void)[] = [
    () => t.file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 }),
    () => t.file('usr/tool', new Uint8Array(9000).fill(7), { mode: 0o4755, xattrs: { 'security.capability': new Uint8Array(20).fill(1) } }),
    () => t.symlink('etc/link', '../../usr/tool'),
    () => t.device('etc/tty', 'char', 4, 1),
  ];
  for (const s of steps) s();
  for (const f of order === 'forward' ? files : [...files].reverse()) f();
  return t;
}

test('same input, same bytes: twice, and whatever order the tree was built in', () => {
  const a = new MemoryTarget(8 << 20);
  const b = new MemoryTarget(8 << 20);
  const c = new MemoryTarget(8 << 20);
  const ra = writeExt4(sample('forward'), a, { label: 'root', inodeRatio: 8192 });
  writeExt4(sample('forward'), b, { label: 'root', inodeRatio: 8192 });
  writeExt4(sample('reverse'), c, { label: 'root', inodeRatio: 8192 });
  assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)), 'two writes differ');
  assert.ok(Buffer.from(a.bytes).equals(Buffer.from(c.bytes)), 'insertion order changed the image');
  // The UUID follows the tree: a different tree gets a different one; an explicit one is kept.
  const other = sample('forward');
  other.file('extra', 'x');
  assert.is.not(writeExt4(other, new MemoryTarget(8 << 20)).uuid, ra.uuid);
  assert.is(writeExt4(other, new MemoryTarget(8 << 20), { uuid: '01234567-89ab-cdef-0123-456789abcdef' }).uuid, '01234567-89ab-cdef-0123-456789abcdef');
});

test('an image file written through its write queue (staged in memory the queue lends) holds the bytes a memory target gets', () => {
  // xorshift32: the same tree every run
  let x = 12345;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => next() & 0xff || 1);
  const t = new FileTree({ mtime: { sec: 1_600_000_000, nsec: 0 } });
  t.mkdir('small');
  // small files back to back (staged together), some all zero (holes only), sizes not whole blocks
  for (let i = 0; i < 600; i++) t.file(`small/f${i}`, i % 7 === 0 ? new Uint8Array(next() % 9000) : bytes(next() % 9000));
  const MiB = 1 << 20;
  // holes inside a staged run, at the end of a read chunk, and data running across chunks
  t.file(
    'holes',
    new SparseContent(5 * MiB + 100, [
      { offset: 0, bytes: bytes(MiB - 4096) },
      { offset: MiB + 8192, bytes: bytes(3 * MiB) },
      { offset: 5 * MiB, bytes: bytes(100) },
    ]),
  );
  t.file('dense', bytes(3 * MiB + 17));
  const piece = bytes(MiB);
  // past the superblock copies at 24 MiB and 40 MiB with 1 KiB blocks
  t.file(
    'large',
    new SparseContent(
      36 * MiB,
      Array.from({ length: 36 }, (_, i) => ({ offset: i * MiB, bytes: piece })),
    ),
  );
  t.file('tail-only', new SparseContent(2 * MiB, [{ offset: 2 * MiB - 10, bytes: bytes(10) }]));
  const size = 64 << 20;
  // 1 KiB blocks: 8 MiB groups, so runs also break at the superblock copies of groups 1, 3, 5 and 7
  for (const blockSize of [4096, 1024] as const) {
    const memory = new MemoryTarget(size);
    writeExt4(t, memory, { blockSize });
    const image = join(dir, 'lent.img');
    const file = SparseFileTarget.create(image, size);
    writeExt4(t, file, { blockSize });
    file.commit();
    assert.ok(Buffer.from(memory.bytes).equals(readFileSync(image)), `${blockSize}-byte blocks: the image file differs from the memory target`);
    assert.equal(e2fsckProblems(image), []);
  }
});

test('label, inode ratio, reserved blocks and features read back through dumpe2fs', () => {
  const image = join(dir, 'features.img');
  const t = SparseFileTarget.create(image, 64 << 20);
  writeExt4(sample('forward'), t, { label: 'root', inodeRatio: 8192, reservedPercent: 2, hashSeed: '00112233-4455-6677-8899-aabbccddeeff' });
  t.commit();
  const out = run('dumpe2fs', ['-h', image]).stdout;
  assert.match(out, /Filesystem volume name:\s+root\n/);
  assert.match(out, /Inode count:\s+8192\n/);
  assert.match(out, /Block count:\s+16384\n/);
  assert.match(out, /Reserved block count:\s+327\n/);
  assert.match(out, /Directory Hash Seed:\s+00112233-4455-6677-8899-aabbccddeeff/);
  for (const f of [
    'has_journal',
    'ext_attr',
    'dir_index',
    'filetype',
    'extent',
    '64bit',
    'flex_bg',
    'sparse_super',
    'large_file',
    'huge_file',
    'dir_nlink',
    'extra_isize',
    'metadata_csum',
  ]) {
    assert.match(out, new RegExp(`Filesystem features:.*\\b${f}\\b`));
  }
  assert.match(out, /Journal size:\s+4096k|Total journal size:\s+4096k/);
  assert.equal(e2fsckProblems(image), []);
  assert.equal(debugfsMismatches(image, sample('forward')), []);
  rmSync(image);
});

test('geometry as mke2fs makes it: inode count, groups, reserved blocks, journal size', () => {
  const fields = (image: string): string[] =>
    run('dumpe2fs', ['-h', image])
      .stdout.split('\n')
      .filter((l) => /^(Inode count|Block count|Reserved block count|Inodes per group|Blocks per group|Total journal size|First block):/.test(l))
      .map((l) => l.replace(/\s+/g, ' '));
  for (const [mib, blockSize] of [
    [16, 4096],
    [100, 4096],
    [600, 4096],
    [3000, 4096],
    [64, 1024],
  ] as const) {
    const ours = join(dir, `geo-${mib}.img`);
    const t = SparseFileTarget.create(ours, mib * 2 ** 20);
    writeExt4(new FileTree(), t, { blockSize });
    t.commit();
    const theirs = join(dir, `geo-${mib}-mke2fs.img`);
    run('truncate', ['-s', `${mib}M`, theirs]);
    run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', String(blockSize), '-O', '^resize_inode', theirs]);
    assert.equal(fields(ours), fields(theirs), `${mib} MiB`);
    assert.equal(e2fsckProblems(ours), []);
    rmSync(ours);
    rmSync(theirs);
  }
});

test('100,000 entries in one directory: a two-level htree that e2fsck accepts', () => {
  const t = new FileTree();
  t.mkdir('many');
  for (let i = 0; i < 100_000; i++) t.file(`many/entry-${String(i).padStart(6, '0')}-with-some-length`, '');
  t.file('many/entry-000007-with-some-length-data', 'data');
  const plan = planExt4(t);
  const image = join(dir, 'many.img');
  const target = SparseFileTarget.create(image, plan.minimumSize + (8 << 20));
  writeExt4(t, target);
  target.commit();
  assert.equal(e2fsckProblems(image), []);
  const htree = run('debugfs', ['-R', 'htree /many', image]).stdout;
  assert.match(htree, /Indirect levels: 1/);
  const cat = run('debugfs', ['-R', 'cat /many/entry-000007-with-some-length-data', image]).stdout;
  assert.is(cat, 'data');
  const ls = run('debugfs', ['-R', 'ls -p /many', image]).stdout;
  assert.is(ls.split('\n').filter((l) => l.includes('entry-')).length, 100_001);
  rmSync(image);
});

test('a 5 GiB sparse file: holes stay holes, data lands past 4 GiB, deep extent trees', () => {
  const GiB = 1024 ** 3;
  const marks = [
    { offset: 0, bytes: new TextEncoder().encode('start') },
    { offset: 4 * GiB + 12345, bytes: new TextEncoder().encode('past four GiB') },
    { offset: 5 * GiB - 3, bytes: new TextEncoder().encode('end') },
  ];
  const t = new FileTree();
  t.file('big', new SparseContent(5 * GiB, marks));
  // 1500 separate extents: more than four index entries of leaves, so the tree is two levels deep.
  const stripes = Array.from({ length: 1500 }, (_, i) => ({ offset: i * 8192, bytes: new Uint8Array(4096).fill((i % 255) + 1) }));
  t.file('striped', new SparseContent(1500 * 8192, stripes));
  const image = join(dir, 'big.img');
  const target = SparseFileTarget.create(image, 6 * GiB);
  writeExt4(t, target);
  target.commit();
  // The image is sparse: far less than the file's 5 GiB is allocated on the host.
  assert.ok(statSync(image).blocks * 512 < 256 << 20, `image allocates ${statSync(image).blocks * 512} bytes`);
  assert.equal(e2fsckProblems(image), []);
  const stat = run('debugfs', ['-R', 'stat /big', image]).stdout;
  assert.match(stat, /Size: 5368709120/);
  assert.match(stat, /Blockcount: 24\n/); // three 4 KiB blocks
  const ext = run('debugfs', ['-R', 'dump_extents /striped', image]).stdout;
  assert.match(ext, /^\s*2\/\s*2\s/m, 'expected a leaf at depth 2');
  // Content at the marks, found through debugfs's block map and read from the image.
  const fd = openSync(image, 'r');
  try {
    const checks = [...marks.map((m) => ({ ...m, path: '/big' })), ...[0, 1, 2, 1499].map((i) => ({ ...stripes[i]!, path: '/striped' }))];
    for (const { path, ...m } of checks) {
      for (let i = 0; i < m.bytes.length; i++) {
        const at = m.offset + i;
        const phys = Number(/(\d+)\s*$/.exec(run('debugfs', ['-R', `bmap ${path} ${Math.floor(at / 4096)}`, image]).stdout)![1]);
        assert.ok(phys > 0, `${path} at ${at} is not mapped`);
        const b = Buffer.alloc(1);
        readSync(fd, b, 0, 1, phys * 4096 + (at % 4096));
        assert.is(b[0], m.bytes[i], `${path} byte at ${at}`);
        if (m.bytes.length > 16) break;
      }
    }
    assert.match(run('debugfs', ['-R', `bmap /big ${(2 * GiB) / 4096}`, image]).stdout, /^0\s*$/m, 'the middle of /big is a hole');
  } finally {
    closeSync(fd);
  }
  assert.equal(debugfsMismatches(image, t, { rdump: false }), []);
  rmSync(image);
});

test('refused before the first byte: too small (with the numbers), long names, long symlinks, huge xattrs', () => {
  const t = new FileTree();
  t.file('data', new Uint8Array(1 << 20).fill(1));
  const plan = planExt4(t);
  try {
    writeExt4(t, new UntouchableTarget(plan.minimumSize - 4096));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, KilnError);
    assert.match((e as Error).message, new RegExp(`at least ${plan.minimumSize} bytes .* target has ${plan.minimumSize - 4096} bytes`));
  }
  const bad: [string, (t: FileTree) => void, RegExp][] = [
    ['long name', (x) => x.file('n'.repeat(256), 'x'), /256 bytes; ext4 allows 255/],
    ['long UTF-8 name', (x) => x.file('é'.repeat(128), 'x'), /256 bytes/],
    ['long symlink', (x) => x.symlink('l', 'x'.repeat(5000)), /symlink target is 5000 bytes/],
    [
      'huge xattrs',
      (x) => x.file('f', 'x', { xattrs: { 'user.a': new Uint8Array(3000), 'user.b': new Uint8Array(3000) } }),
      /more than one 4096-byte xattr block/,
    ],
    ['unknown xattr namespace', (x) => x.file('f', 'x', { xattrs: { 'weird.a': 'x' } }), /no namespace/],
    ['lost+found not a directory', (x) => x.file('lost+found', 'x'), /lost\+found/],
  ];
  for (const [what, add, re] of bad) {
    const x = new FileTree();
    add(x);
    try {
      writeExt4(x, new UntouchableTarget(64 << 20));
      assert.unreachable(what);
    } catch (e) {
      assert.instance(e, KilnError, what);
      assert.match((e as Error).message, re, what);
    }
    assert.throws(() => planExt4(x), re, what);
  }
  assert.throws(() => writeExt4(t, new UntouchableTarget(64 << 20), { label: 'x'.repeat(17) }), /longer than 16 bytes/);
});

test('1024-byte blocks, no journal, tiny filesystems', () => {
  const t = sample('forward');
  for (const options of [{ blockSize: 1024 as const }, { journal: false }, { blockSize: 1024 as const, journal: false }]) {
    const plan = planExt4(t, options);
    const image = join(dir, 'small.img');
    const target = SparseFileTarget.create(image, plan.minimumSize);
    const r = writeExt4(t, target, options);
    target.commit();
    if (options.journal === false) assert.is(r.journalBlocks, 0);
    assert.equal(e2fsckProblems(image), [], JSON.stringify(options));
    assert.equal(debugfsMismatches(image, t), [], JSON.stringify(options));
    rmSync(image);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
