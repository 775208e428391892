import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withSparseFile } from '../../../src/fs/file-target.js';
import { hashFile } from '../../../src/pipeline/cache/blobs.js';
import { knowHoles, rangesToRead } from '../../../src/pipeline/cache/known-holes.js';

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A sparse file of `size` bytes with `writes` made through SparseFileTarget; its written ranges. */
async function sparseFile(path: string, size: number, writes: { at: number; bytes: Uint8Array }[]): Promise<number[]> {
  let ranges: number[] | undefined;
  await withSparseFile(path, size, (t) => {
    for (const w of writes) t.write(w.at, w.bytes);
    ranges = t.dataRanges;
  });
  assert.ok(ranges, 'a few writes are tracked');
  return ranges;
}

function overwrite(path: string, at: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
}

test('dataRanges: writes sorted and merged where they touch or overlap', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-holes-'));
  try {
    const b = (n: number) => new Uint8Array(n).fill(1);
    const ranges = await sparseFile(join(dir, 'f'), 1 << 20, [
      { at: 100, bytes: b(10) },
      { at: 0, bytes: b(10) },
      { at: 10, bytes: b(10) },
      { at: 5, bytes: b(10) },
      { at: 500, bytes: b(1) },
      { at: 105, bytes: b(20) },
    ]);
    assert.equal(ranges, [0, 20, 100, 125, 500, 501]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: an image hashed with its known holes has the digest of all its bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-holes-'));
  try {
    const size = 4 << 20;
    const write = fc.record({
      at: fc.integer({ min: 0, max: size - 1 }),
      length: fc.integer({ min: 1, max: 200_000 }),
      byte: fc.integer({ min: 1, max: 255 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 12 }), async (ws) => {
        const path = join(dir, 'img');
        const writes = ws.map((w) => ({ at: w.at, bytes: new Uint8Array(Math.min(w.length, size - w.at)).fill(w.byte) }));
        const holes = knowHoles(path, await sparseFile(path, size, writes));
        assert.is(hashFile(path, holes), sha256(path));
      }),
      { numRuns: 40 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('known holes of an image changed afterwards (mtime put back as touch -r would): chmodded, rewritten in a written block, written into a hole; the digest is of its bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-holes-'));
  try {
    const path = join(dir, 'img');
    const MiB = 1 << 20;
    const ranges = await sparseFile(path, 16 * MiB, [{ at: MiB, bytes: new Uint8Array(3000).fill(7) }]);
    utimesSync(path, 1000, 1000);
    const known = knowHoles(path, ranges);
    const toRead = () => rangesToRead(known, statSync(path, { bigint: true }));
    assert.equal(toRead(), [MiB, MiB + (64 << 10)], 'read in whole 64 KiB units');

    chmodSync(path, 0o600);
    assert.ok(toRead(), 'a changed mode keeps the holes known (final-commands chmod the image)');
    assert.is(hashFile(path, known), sha256(path));

    // the rest of the block the writer wrote part of: no block is allocated, and it is read
    overwrite(path, MiB + 3500, Buffer.from('in the written block'));
    utimesSync(path, 1000, 1000);
    assert.ok(toRead());
    assert.is(hashFile(path, known), sha256(path));

    overwrite(path, 9 * MiB, Buffer.from('in a hole'));
    utimesSync(path, 1000, 1000);
    assert.is(toRead(), undefined, 'a write into a hole allocates a block: the holes are no longer known');
    assert.is(hashFile(path, known), sha256(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
