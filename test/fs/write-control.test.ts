import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileTree,
  ImageFileTarget,
  KilnError,
  MemoryTarget,
  SubTarget,
  assembleDisk,
  assembleDiskToMemory,
  initramfsBytesSync,
  openImage,
  openImageTarget,
  planDisk,
  readExt4,
  readFat,
  withOutputFile,
  withSparseFile,
  writeDisk,
  writeExt4,
  writeFat,
  writeInitramfs,
  writeSwap,
  type BlockTarget,
  type DiskLayout,
  type WriteProgress,
} from '../../src/index.js';
import { WRITE_BYTES } from '../../src/fs/block-target.js';
import { propertyRuns } from '../helpers/tools.js';

/**
 * Issue 10: progress and cancel in the writers, and targets that are not zero. Every writer
 * into a target full of garbage gives the bytes it gives into a zeroed one (or refuses before
 * writing); onProgress ends with done == total; an aborted write throws KilnError('aborted')
 * and leaves nothing under the output name.
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-write-control-'));

/** A target with only read and write (no `zeroed`, no `zero`): writers must write the zeros. */
class PlainTarget implements BlockTarget {
  writes = 0;
  constructor(readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    this.writes++;
    this.bytes.set(data, offset);
  }
}

function garbage(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
    b[i + 1] = (x >>> 8) & 0xff;
    b[i + 2] = (x >>> 16) & 0xff;
    b[i + 3] = (x >>> 24) & 0xff;
  }
  return b;
}

interface FileSpec {
  name: string;
  bytes: Uint8Array;
}

function treeOf(files: FileSpec[]): FileTree {
  const t = new FileTree({ mtime: { sec: 1_700_000_000, nsec: 0 } });
  // '_' keeps the directories out of the generated names (a file 'd' beside a directory 'd')
  t.mkdirp('_d/_e', { mtime: { sec: 1_700_000_000, nsec: 0 } });
  files.forEach((f, i) => t.file(`${i % 2 ? '_d/_e/' : ''}${f.name}`, f.bytes, { mtime: { sec: 1_700_000_000 + i, nsec: 0 } }));
  return t;
}

const fileArb = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/),
  // zero runs (holes on a zeroed target) and data
  bytes: fc.oneof(
    fc.uint8Array({ maxLength: 2000 }),
    fc.integer({ min: 1, max: 20_000 }).map((n) => new Uint8Array(n)),
    fc.integer({ min: 4096, max: 30_000 }).map((n) => garbage(n, n)),
  ),
});
const filesArb = fc.uniqueArray(fileArb, { maxLength: 6, selector: (f) => f.name });

/** Writes with `write` into a fresh MemoryTarget, a garbage MemoryTarget and a garbage PlainTarget; all must agree. */
function sameOnGarbage(size: number, seed: number, write: (t: BlockTarget) => unknown): void {
  const fresh = new MemoryTarget(size);
  write(fresh);
  const dirty = new MemoryTarget(garbage(size, seed));
  assert.not.ok(dirty.zeroed);
  write(dirty);
  assert.ok(Buffer.from(dirty.bytes).equals(Buffer.from(fresh.bytes)), 'garbage MemoryTarget');
  const plain = new PlainTarget(garbage(size, seed + 1));
  write(plain);
  assert.ok(Buffer.from(plain.bytes).equals(Buffer.from(fresh.bytes)), 'garbage target without zero()');
  // A partition window over garbage: zeroed because the parent is not, and only its range is touched.
  const parentBytes = garbage(size + 8192, seed + 2);
  const before = parentBytes.slice();
  const sub = new SubTarget(new MemoryTarget(parentBytes), 4096, size);
  assert.not.ok(sub.zeroed);
  write(sub);
  assert.ok(Buffer.from(parentBytes.subarray(4096, 4096 + size)).equals(Buffer.from(fresh.bytes)), 'garbage partition');
  assert.ok(Buffer.from(parentBytes.subarray(0, 4096)).equals(Buffer.from(before.subarray(0, 4096))), 'before the partition untouched');
  assert.ok(Buffer.from(parentBytes.subarray(4096 + size)).equals(Buffer.from(before.subarray(4096 + size))), 'after the partition untouched');
}

test('property: every writer into a target full of garbage gives the bytes it gives into a zeroed one', () => {
  fc.assert(
    fc.property(filesArb, fc.integer({ min: 1, max: 2 ** 31 }), (files, seed) => {
      const tree = treeOf(files);
      sameOnGarbage(8 << 20, seed, (t) => writeExt4(tree, t, { label: 'root' }));
      sameOnGarbage(4 << 20, seed, (t) => writeFat(tree, t, { label: 'BOOT' }));
      sameOnGarbage(1 << 20, seed, (t) => writeSwap(t, { label: 'swap' }));
      return true;
    }),
    { numRuns: propertyRuns(3) },
  );
});

test("FAT32 into 0xff (the issue's case) equals FAT32 into zeros and reads back", () => {
  const tree = treeOf([
    { name: 'a', bytes: new TextEncoder().encode('hello\n') },
    { name: 'b', bytes: garbage(9000, 3) },
  ]);
  const size = 40 << 20;
  const fresh = new MemoryTarget(size);
  writeFat(tree, fresh, { fatType: 32 });
  const ff = new MemoryTarget(new Uint8Array(size).fill(0xff));
  writeFat(tree, ff, { fatType: 32 });
  assert.ok(Buffer.from(ff.bytes).equals(Buffer.from(fresh.bytes)));
  assert.equal(new TextDecoder().decode(readFat(ff).readFile('a')), 'hello\n');
});

test('property: a disk (MBR and GPT) written into garbage equals the one assembled in memory', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), async (seed) => {
      for (const table of ['mbr', 'gpt'] as const) {
        const layout: DiskLayout = {
          table,
          size: 'auto',
          partitions: [
            { filesystem: 'fat', size: 'auto', tree: treeOf([{ name: 'k', bytes: garbage(5000, 9) }]) },
            { filesystem: 'ext4', size: 'auto', tree: treeOf([{ name: 'x', bytes: new TextEncoder().encode('x\n') }]) },
            { filesystem: 'swap', size: 1 << 20 },
          ],
        };
        const { bytes } = await assembleDiskToMemory(layout);
        const plan = await planDisk(layout);
        const dirty = new PlainTarget(garbage(plan.size, seed));
        writeDisk(plan, dirty);
        plan.dispose();
        assert.ok(Buffer.from(dirty.bytes).equals(Buffer.from(bytes)), `${table} disk over garbage`);
      }
    }),
    { numRuns: propertyRuns(2) },
  );
});

test('refusals come before the zeroing: a tree that does not fit leaves the garbage as it was', () => {
  const tree = treeOf([{ name: 'big', bytes: garbage(3 << 20, 5) }]);
  for (const write of [(t: BlockTarget) => writeExt4(tree, t), (t: BlockTarget) => writeFat(tree, t)]) {
    const t = new PlainTarget(garbage(1 << 20, 11));
    assert.throws(
      () => write(t),
      (e: unknown) => e instanceof KilnError,
    );
    assert.is(t.writes, 0);
  }
  const swap = new PlainTarget(garbage(4096, 12));
  assert.throws(
    () => writeSwap(swap),
    (e: unknown) => e instanceof KilnError && e.code === 'swap-too-small',
  );
  assert.is(swap.writes, 0);
});

test('a window zeroes its range by writing zeros where its parent cannot zero, and nothing outside it', () => {
  const bytes = new Uint8Array(4 * WRITE_BYTES).fill(0xab);
  const writes: number[] = [];
  // no `zero`: the window must write zeros itself
  const parent: BlockTarget = {
    size: bytes.length,
    read: (offset, length) => bytes.slice(offset, offset + length),
    write: (offset, data) => {
      writes.push(data.length);
      bytes.set(data, offset);
    },
  };
  const window = new SubTarget(parent, 1000, 3 * WRITE_BYTES + 5);
  const from = 1000 + 7;
  const length = 2 * WRITE_BYTES + 3;
  window.zero!(7, length);
  assert.ok(
    bytes.subarray(from, from + length).every((b) => b === 0),
    'the range reads as zeros',
  );
  assert.ok(bytes.subarray(0, from).every((b) => b === 0xab) && bytes.subarray(from + length).every((b) => b === 0xab), 'nothing outside it changed');
  assert.ok(Math.max(...writes) <= WRITE_BYTES, `writes of at most ${WRITE_BYTES} bytes: ${writes.join(', ')}`);
});

test('a zeroed target is written sparsely (fast path): no write of zero blocks', () => {
  const tree = treeOf([{ name: 'z', bytes: new Uint8Array(1 << 20) }]);
  const t = new MemoryTarget(8 << 20);
  let zeroBytes = 0;
  const watch: BlockTarget = {
    size: t.size,
    get zeroed() {
      return t.zeroed;
    },
    read: (o, l) => t.read(o, l),
    write: (o, d) => {
      if (d.every((b) => b === 0)) zeroBytes += d.length;
      t.write(o, d);
    },
  };
  writeExt4(tree, watch);
  assert.ok(zeroBytes < 64 << 10, `zero bytes written: ${zeroBytes}`);
});

function checkProgress(calls: WriteProgress[], bytes: number, files: number): void {
  assert.ok(calls.length >= 1, 'at least the final call');
  const last = calls[calls.length - 1]!;
  assert.equal(last, { bytesDone: bytes, bytesTotal: bytes, filesDone: files, filesTotal: files });
  for (let i = 1; i < calls.length; i++) {
    assert.ok(calls[i]!.bytesDone >= calls[i - 1]!.bytesDone && calls[i]!.filesDone >= calls[i - 1]!.filesDone, 'monotonic');
    assert.ok(calls[i]!.bytesDone <= calls[i]!.bytesTotal && calls[i]!.filesDone <= calls[i]!.filesTotal, 'done <= total');
  }
}

test('onProgress: ext4, FAT, swap, initramfs and a disk end with done == total', async () => {
  const files = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, bytes: garbage(1000 + i * 100, i + 1) }));
  const tree = treeOf(files);
  const bytes = files.reduce((n, f) => n + f.bytes.length, 0);
  let calls: WriteProgress[] = [];
  writeExt4(tree, new MemoryTarget(8 << 20), { onProgress: (p) => calls.push(p) });
  checkProgress(calls, bytes, 40);
  assert.ok(calls.length > 5, `ext4 reports as it goes (${calls.length} calls)`);
  calls = [];
  writeFat(tree, new MemoryTarget(4 << 20), { onProgress: (p) => calls.push(p) });
  checkProgress(calls, bytes, 40);
  calls = [];
  writeSwap(new MemoryTarget(1 << 20), { onProgress: (p) => calls.push(p) });
  checkProgress(calls, 0, 0);
  calls = [];
  initramfsBytesSync(tree, { onProgress: (p) => calls.push(p) });
  checkProgress(calls, bytes, 43); // root, d, d/e and 40 files
  calls = [];
  await assembleDiskToMemory(
    {
      table: 'gpt',
      size: 'auto',
      partitions: [
        { filesystem: 'fat', size: 'auto', tree },
        { filesystem: 'ext4', size: 'auto', tree },
      ],
    },
    { onProgress: (p) => calls.push(p) },
  );
  checkProgress(calls, 2 * bytes, 80);
});

test('signal: aborted before the call, nothing is written; aborted from onProgress, KilnError(aborted) with the reason', () => {
  const tree = treeOf(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, bytes: garbage(3000, i + 1) })));
  const pre = new AbortController();
  pre.abort(new Error('user cancelled'));
  for (const write of [
    (t: BlockTarget) => writeExt4(tree, t, { signal: pre.signal }),
    (t: BlockTarget) => writeFat(tree, t, { signal: pre.signal }),
    (t: BlockTarget) => writeSwap(t, { signal: pre.signal }),
  ]) {
    const t = new PlainTarget(new Uint8Array(8 << 20));
    assert.throws(
      () => write(t),
      (e: unknown) => e instanceof KilnError && e.code === 'aborted' && (e as Error & { cause?: unknown }).cause === pre.signal.reason,
    );
    assert.is(t.writes, 0, 'no write after an abort before the call');
  }
  assert.throws(
    () => initramfsBytesSync(tree, { signal: pre.signal }),
    (e: unknown) => e instanceof KilnError && e.code === 'aborted',
  );
  for (const write of [
    (o: { signal: AbortSignal; onProgress: () => void }) => writeExt4(tree, new MemoryTarget(8 << 20), o),
    (o: { signal: AbortSignal; onProgress: () => void }) => writeFat(tree, new MemoryTarget(4 << 20), o),
  ]) {
    const ac = new AbortController();
    let calls = 0;
    assert.throws(
      () => write({ signal: ac.signal, onProgress: () => ++calls === 3 && ac.abort() }),
      (e: unknown) => e instanceof KilnError && e.code === 'aborted',
    );
    assert.is(calls, 3, 'stops at the next check after the abort');
  }
});

test('an aborted write leaves nothing under the output name (sparse file, disk file, initramfs file)', async () => {
  const tree = treeOf(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, bytes: garbage(3000, i + 1) })));
  const abortAt = (n: number): { signal: AbortSignal; onProgress: () => void } => {
    const ac = new AbortController();
    let calls = 0;
    return { signal: ac.signal, onProgress: () => void (++calls === n && ac.abort()) };
  };
  const isAborted = (e: unknown): boolean => e instanceof KilnError && e.code === 'aborted';
  const ext4Out = join(dir, 'root.img');
  await withSparseFile(ext4Out, 8 << 20, (t) => writeExt4(tree, t, abortAt(2))).then(
    () => assert.unreachable('not aborted'),
    (e: unknown) => assert.ok(isAborted(e)),
  );
  const diskOut = join(dir, 'disk.img');
  await assembleDisk({ table: 'mbr', size: 'auto', partitions: [{ filesystem: 'ext4', size: 'auto', tree }] }, diskOut, abortAt(2)).then(
    () => assert.unreachable('not aborted'),
    (e: unknown) => assert.ok(isAborted(e)),
  );
  const initrdOut = join(dir, 'initrd.img');
  await withOutputFile(initrdOut, (sink) => writeInitramfs(tree, sink, abortAt(2))).then(
    () => assert.unreachable('not aborted'),
    (e: unknown) => assert.ok(isAborted(e)),
  );
  assert.equal(readdirSync(dir), [], 'no output and no temp file');
});

test('openImageTarget: a new filesystem into one partition of an existing disk, the rest untouched', async () => {
  const disk = join(dir, 'existing.img');
  const first = treeOf([{ name: 'one', bytes: new TextEncoder().encode('1\n') }]);
  await assembleDisk(
    {
      table: 'mbr',
      size: 'auto',
      partitions: [
        { filesystem: 'ext4', size: 'auto', tree: first },
        { filesystem: 'fat', size: 16 << 20, tree: first },
      ],
    },
    disk,
  );
  const before = new Uint8Array(readFileSync(disk));
  const opened = openImageTarget(`${disk}:2`);
  assert.not.ok(opened.target.zeroed);
  assert.ok(opened.target instanceof SubTarget && opened.target.parent instanceof ImageFileTarget);
  const second = treeOf([{ name: 'two', bytes: new TextEncoder().encode('2\n') }]);
  writeFat(second, opened.target, { label: 'NEW' });
  opened.close();
  const img = openImage(`${disk}:2`);
  assert.equal(new TextDecoder().decode(img.reader.readFile('two')), '2\n');
  assert.equal(
    img.reader
      .list('')
      .map((e) => e.name)
      .sort(),
    ['_d', 'two'],
  );
  img.close();
  const p1 = openImage(`${disk}:1`);
  assert.equal(new TextDecoder().decode(p1.reader.readFile('one')), '1\n');
  p1.close();
  const after = new Uint8Array(readFileSync(disk));
  assert.is(after.length, before.length);
  const sub = openImageTarget(`${disk}:2`);
  const { offset, size } = sub.target as SubTarget;
  sub.close();
  assert.ok(Buffer.from(after.subarray(0, offset)).equals(Buffer.from(before.subarray(0, offset))), 'before partition 2 untouched');
  assert.ok(Buffer.from(after.subarray(offset + size)).equals(Buffer.from(before.subarray(offset + size))), 'after partition 2 untouched');
  // The whole file as a target: ext4 over the old disk reads back.
  const whole = openImageTarget(disk);
  writeExt4(second, whole.target);
  whole.close();
  assert.equal(new TextDecoder().decode(readExt4(new MemoryTarget(new Uint8Array(readFileSync(disk)))).readFile('two')), '2\n');
  assert.ok(existsSync(disk));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
