import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { KilnError } from '../../src/errors.js';
import { BytesContent } from '../../src/fs/bytes-content.js';
import { HostFileContent } from '../../src/fs/content.js';
import { HostFileCopier, type CopyTarget } from '../../src/fs/content-copier.js';

/**
 * Host files copied into an image file by the writer's thread and a worker (content-copier.ts):
 * whatever the sizes and places, the image holds each file's bytes where it was put, zeros
 * elsewhere, with all-zero blocks left as holes; a file that changed is refused with the error
 * its own reader gives; a failed write is the target's error.
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-copier-'));
let serial = 0;

/** Bytes that differ from file to file, with an all-zero stretch from `zerosAt` (if given). */
function bytes(n: number, seed: number, zerosAt = -1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(((i * 2654435761) ^ (seed * 40503)) >>> 0 || 1, i);
  if (zerosAt >= 0) b.fill(0, zerosAt, Math.min(n, zerosAt + 64 * 1024));
  return b;
}

function hostFile(data: Buffer): string {
  const path = join(dir, `f${serial++}`);
  writeFileSync(path, data);
  return path;
}

/** An empty image file of `size` bytes and a CopyTarget over it that records what it was told. */
function image(size: number, fd?: number): { path: string; target: CopyTarget; noted: number[]; writes: number[]; close(): void } {
  const path = join(dir, `image${serial++}`);
  writeFileSync(path, '');
  truncateSync(path, size);
  const own = fd ?? openSync(path, 'r+');
  const noted: number[] = [];
  const writes: number[] = [];
  const target: CopyTarget = {
    fd: own,
    noteWrite: (offset, length) => noted.push(offset, length),
    write: (offset, data) => {
      writes.push(offset, data.length);
      for (let done = 0; done < data.length; ) done += writeSync(own, data, done, data.length - done, offset + done);
    },
    writeError: (e) => new KilnError('io-error', `writing the image failed: ${(e as NodeJS.ErrnoException).code}`),
    checkInterrupted: () => {},
  };
  return { path, target, noted, writes, close: () => (fd === undefined ? closeSync(own) : undefined) };
}

test('files of any sizes, put anywhere, land whole where they were put; zero blocks stay holes', () => {
  const placement = fc
    .array(
      fc.record({
        size: fc.oneof(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 1 << 20, max: 3 << 20 })),
        gap: fc.integer({ min: 0, max: 8192 }),
        zeros: fc.boolean(),
      }),
      {
        minLength: 1,
        maxLength: 12,
      },
    )
    .chain((files) =>
      fc.tuple(
        fc.constant(files),
        fc.shuffledSubarray(
          files.map((_, i) => i),
          { minLength: files.length, maxLength: files.length },
        ),
      ),
    );
  fc.assert(
    fc.property(placement, ([files, order]) => {
      let at = 0;
      const placed = files.map((f, i) => {
        const offset = at + f.gap;
        at = offset + f.size;
        return { offset, data: bytes(f.size, i + 1, f.zeros ? Math.floor(f.size / 3) : -1) };
      });
      const img = image(at + 4096);
      try {
        const copier = new HostFileCopier(
          files.reduce((a, f) => a + f.size, 0),
          img.target,
        );
        // handed over in any order
        for (const k of order) assert.ok(copier.add(new HostFileContent(hostFile(placed[k]!.data), placed[k]!.data.length), placed[k]!.offset));
        let reported = 0;
        copier.finish((n) => (reported += n));
        assert.is(
          reported,
          files.reduce((a, f) => a + f.size, 0),
          'progress counts every byte',
        );
        assert.equal(img.writes, [], 'nothing had to be written again');
        const expected = Buffer.alloc(at + 4096);
        for (const p of placed) p.data.copy(expected, p.offset);
        assert.ok(readFileSync(img.path).equals(expected), 'the image holds each file at its place and zeros elsewhere');
        // every byte with data lies in a range noted before it was written
        for (const p of placed)
          for (let i = 0; i < p.data.length; i += 4096)
            if (p.data[i] !== 0) assert.ok(inNoted(img.noted, p.offset + i), `byte ${p.offset + i} was noted as data`);
      } finally {
        img.close();
      }
    }),
    { numRuns: 40 },
  );
});

function inNoted(noted: number[], at: number): boolean {
  for (let i = 0; i < noted.length; i += 2) if (at >= noted[i]! && at < noted[i]! + noted[i + 1]!) return true;
  return false;
}

test('a copy large enough for the worker is the same; all-zero blocks are not allocated', () => {
  // 12 MiB of files (over the 8 MiB from which a worker copies too), half of one file zeros
  const placed = Array.from({ length: 200 }, (_, i) => ({ offset: i * 65536, data: bytes(60000, i + 7) }));
  placed.push({ offset: 200 * 65536, data: Buffer.concat([bytes(1 << 20, 99), Buffer.alloc(4 << 20), bytes(1 << 20, 98)]) });
  const end = 200 * 65536 + (6 << 20);
  const img = image(end);
  try {
    const copier = new HostFileCopier(end, img.target);
    for (const p of placed) copier.add(new HostFileContent(hostFile(p.data), p.data.length), p.offset);
    copier.finish(() => {});
    const expected = Buffer.alloc(end);
    for (const p of placed) p.data.copy(expected, p.offset);
    assert.ok(readFileSync(img.path).equals(expected));
    // 4 MiB of zeros stayed a hole (st_blocks counts 512-byte units)
    assert.ok(statSync(img.path).blocks * 512 <= end - (4 << 20) + (1 << 20), `allocated ${statSync(img.path).blocks * 512} of ${end} bytes`);
  } finally {
    img.close();
  }
});

test('more files than one batch: all land, and one that shrank in a later batch is refused', () => {
  // 5,000 files of 2,100 bytes 4 KiB apart, over 8 MiB: the worker copies too, batch after batch
  const count = 5000;
  const files = Array.from({ length: count }, (_, i) => {
    const data = bytes(2100, i + 11);
    return { path: hostFile(data), data, offset: i * 4096 };
  });
  for (const shrink of [false, true]) {
    const img = image(count * 4096);
    try {
      const copier = new HostFileCopier(count * 2100, img.target);
      for (const f of files) copier.add(new HostFileContent(f.path, f.data.length), f.offset);
      if (shrink) {
        truncateSync(files[4500]!.path, 100);
        assert.throws(
          () => copier.finish(() => {}),
          (e: unknown) => e instanceof KilnError && e.message.includes(files[4500]!.path) && /shrank/.test(e.message),
        );
        continue;
      }
      copier.finish(() => {});
      const image_ = readFileSync(img.path);
      for (const f of files) assert.ok(image_.subarray(f.offset, f.offset + f.data.length).equals(f.data), `file at ${f.offset}`);
    } finally {
      img.close();
    }
  }
});

test('a copier given up before it copies ends its worker', () => {
  // in a child process: its threads before, while a copier for 64 MiB waits, and after end()
  const script = `
    import { readdirSync } from 'node:fs';
    import { HostFileCopier } from '${new URL('../../src/fs/content-copier.ts', import.meta.url).href}';
    const threads = () => readdirSync('/proc/self/task').length;
    const settle = () => new Promise((r) => setTimeout(r, 500));
    await settle();
    const before = threads();
    const c = new HostFileCopier(64 << 20, { fd: 1, noteWrite() {}, write() {}, writeError: (e) => e, checkInterrupted() {} });
    await settle();
    const waiting = threads();
    c.end();
    await settle();
    console.log(JSON.stringify({ before, waiting, after: threads() }));
  `;
  const file = join(dir, 'given-up.mts');
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const { before, waiting, after } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { before: number; waiting: number; after: number };
  // (on one core no worker is started at all)
  if (availableParallelism() > 1) assert.ok(waiting > before, `a worker thread started (${before} -> ${waiting} threads)`);
  else assert.is(waiting, before, 'no worker on one core');
  assert.is(after, before, 'none is left');
});

test('content from an offset of its host file is copied from there', () => {
  const data = bytes(10000, 3);
  const path = hostFile(data);
  const img = image(65536);
  try {
    const copier = new HostFileCopier(5000, img.target);
    assert.ok(copier.add(new HostFileContent(path, 5000, 4000), 8192));
    copier.finish(() => {});
    assert.ok(
      readFileSync(img.path)
        .subarray(8192, 8192 + 5000)
        .equals(data.subarray(4000, 9000)),
    );
  } finally {
    img.close();
  }
});

test('content that is not a host file is left to the writer', () => {
  const img = image(4096);
  try {
    const copier = new HostFileCopier(10, img.target);
    assert.not.ok(copier.add(new BytesContent(new Uint8Array(10)), 0));
    copier.finish(() => {});
  } finally {
    img.close();
  }
});

test('a file that shrank or went away is refused with its own reader’s error, with or without the worker', () => {
  for (const many of [false, true]) {
    for (const change of ['shrink', 'remove'] as const) {
      const img = image(16 << 20);
      try {
        const count = many ? 150 : 3;
        const copier = new HostFileCopier(count * 65536, img.target);
        const paths = Array.from({ length: count }, (_, i) => hostFile(bytes(65536, i)));
        paths.forEach((p, i) => copier.add(new HostFileContent(p, 65536), i * 65536));
        const victim = paths[Math.floor(count / 2)]!;
        if (change === 'shrink') truncateSync(victim, 1000);
        else rmSync(victim);
        const e = (() => {
          try {
            copier.finish(() => {});
          } catch (err) {
            return err;
          }
          return undefined;
        })();
        assert.ok(e instanceof KilnError, `${change}: refused`);
        assert.is(e.code, 'source-changed');
        assert.match(e.message, change === 'shrink' ? /shrank while it was being read: it ended after 1000 bytes/ : /is gone/);
        assert.ok(e.message.includes(victim), 'the message names the file');
      } finally {
        img.close();
      }
    }
  }
});

test('a write that fails (a full disk) is the target’s error, with or without the worker', () => {
  for (const count of [2, 200]) {
    const full = openSync('/dev/full', 'r+');
    const img = image(1, full);
    try {
      const copier = new HostFileCopier(count * 65536, img.target);
      for (let i = 0; i < count; i++) copier.add(new HostFileContent(hostFile(bytes(65536, i)), 65536), i * 65536);
      assert.throws(
        () => copier.finish(() => {}),
        (e: unknown) => e instanceof KilnError && e.message === 'writing the image failed: ENOSPC',
      );
    } finally {
      closeSync(full);
    }
  }
});

test('an interrupt stops the copies and is what finish throws', () => {
  const img = image(32 << 20);
  try {
    let checks = 0;
    img.target.checkInterrupted = () => {
      if (++checks > 2) throw new KilnError('interrupted', 'interrupted by a signal; the partial output was removed');
    };
    const copier = new HostFileCopier(400 * 65536, img.target);
    for (let i = 0; i < 400; i++) copier.add(new HostFileContent(hostFile(bytes(65536, i)), 65536), i * 65536);
    assert.throws(
      () => copier.finish(() => {}),
      (e: unknown) => e instanceof KilnError && e.code === 'interrupted',
    );
  } finally {
    img.close();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
