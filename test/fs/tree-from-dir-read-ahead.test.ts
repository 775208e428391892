import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { treeFromDirectory, type FileContent } from '../../src/index.js';

/**
 * The contents of a directory's files read through the read-ahead ring (a tree holding more
 * than the ring's 4 MiB) and directly (a smaller tree), in the writers' order and out of it:
 * every read gives the file's bytes.
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-read-ahead-'));

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  return b;
}

/** A directory of files with these sizes (f0, f1, …); the bytes of each. */
function source(name: string, sizes: number[]): { root: string; files: Map<string, Buffer> } {
  const root = join(dir, name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root);
  const files = new Map<string, Buffer>();
  sizes.forEach((n, i) => {
    const b = bytes(n, i + 1);
    writeFileSync(join(root, `f${i}`), b);
    files.set(`f${i}`, b);
  });
  return { root, files };
}

/** A content read front to back in reads of `chunk` bytes. */
function readInChunks(content: FileContent, chunk: number): Buffer {
  const out = Buffer.alloc(content.size);
  const reader = content.open();
  try {
    for (let done = 0; done < content.size; ) {
      const n = reader.read(done, out.subarray(done, Math.min(done + chunk, content.size)));
      assert.ok(n > 0, `a read at ${done} of ${content.size} gave ${n}`);
      done += n;
    }
  } finally {
    reader.close();
  }
  return out;
}

// 1 MiB records: files of several records, one between records, empty ones; 6.5 MiB in all
const LARGE = [3 << 20, 100, 0, (5 << 19) + 7, 1 << 20, 4096, 1];
// Small files only, 7.5 MiB: the reading thread takes some itself while it waits for the worker
const SMALL = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 256 << 10 : 150_001 + i));

for (const [what, sizes] of [
  ['through the ring', LARGE],
  ['through the ring, small files', SMALL],
  ['directly (smaller than the ring)', [100, 0, 70_000, 3]],
] as const) {
  test(`contents read in order, in reads of any size, ${what}`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 3 << 20 }), (chunk) => {
        const { root, files } = source('in-order', [...sizes]);
        const tree = treeFromDirectory(root);
        for (const [name, want] of files) assert.ok(readInChunks(tree.get(name)!.content!, chunk).equals(want), `${name} in reads of ${chunk}`);
      }),
      { numRuns: 8 },
    );
  });

  test(`contents read out of order, twice and in part, ${what}`, () => {
    const { root, files } = source('out-of-order', [...sizes]);
    const tree = treeFromDirectory(root);
    const order = ['f1', 'f0', 'f3', 'f3', 'f2', 'f1'].filter((n) => files.has(n));
    for (const name of order) assert.ok(readInChunks(tree.get(name)!.content!, 65536).equals(files.get(name)!), name);
    // a read that starts past the file's start
    const f0 = tree.get('f0')!.content!;
    if (f0.size > 10) {
      const reader = f0.open();
      const part = Buffer.alloc(f0.size - 10);
      assert.is(reader.read(10, part), part.length);
      reader.close();
      assert.ok(part.equals(files.get('f0')!.subarray(10)));
    }
  });
}

test('a file that shrank after the walk is refused, however it is read', () => {
  const { root } = source('shrank', SMALL);
  const tree = treeFromDirectory(root);
  // f0 and f1 are read before the worker has started: by the reading thread itself
  for (const name of ['f0', 'f1', 'f20']) writeFileSync(join(root, name), 'short');
  for (const name of ['f0', 'f1', 'f20']) assert.throws(() => readInChunks(tree.get(name)!.content!, 1 << 20), /shrank/, name);
  assert.ok(readInChunks(tree.get('f2')!.content!, 1 << 20).equals(bytes(SMALL[2]!, 3)));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
