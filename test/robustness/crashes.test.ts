import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError, treeFromDirectory, withSparseFile, writeExt4, writeFat, planExt4, planFat, withOutputFile, writeInitramfs } from '../../src/index.js';
import { parseLayout } from '../../src/partition/layout.js';
import { exited, kiln, startKiln, temps, waitFor, writeNoise } from './helpers.js';

/**
 * Things that used to end in `kiln: internal error` and a stack trace (exit 70): a source file
 * that shrinks or disappears while it is read, an image larger than a file may be. Each is now a
 * KilnError (exit 1 in the CLI) and leaves neither the output nor a temp file.
 */

const work = mkdtempSync(join(tmpdir(), 'kiln-crashes-'));
const out = join(work, 'out');
mkdirSync(out);

function freshSource(name: string): string {
  const src = join(work, name);
  mkdirSync(src);
  writeFileSync(join(src, 'a.txt'), 'a'.repeat(10_000));
  writeFileSync(join(src, 'b.bin'), Buffer.alloc(200_000, 7));
  return src;
}

function sourceChanged(e: unknown): boolean {
  return e instanceof KilnError && e.code === 'source-changed' && /b\.bin' (shrank while it was being read|is gone)/.test(e.message);
}

const writers: [string, (src: string, dest: string, change: () => void) => Promise<unknown>][] = [
  [
    'ext4',
    async (src, dest, change) => {
      const tree = treeFromDirectory(src, { owners: 'root' });
      const size = planExt4(tree).minimumSize;
      change();
      return withSparseFile(dest, size, (t) => writeExt4(tree, t));
    },
  ],
  [
    'fat',
    async (src, dest, change) => {
      const tree = treeFromDirectory(src, { owners: 'root' });
      const size = planFat(tree).minimumSize;
      change();
      return withSparseFile(dest, size, (t) => writeFat(tree, t));
    },
  ],
  [
    'initramfs',
    async (src, dest, change) => {
      const tree = treeFromDirectory(src, { owners: 'root' });
      change();
      return withOutputFile(dest, (sink) => writeInitramfs(tree, sink));
    },
  ],
  [
    'disk',
    async (src, dest, change) => {
      const layout = parseLayout(`partitions:\n  - { filesystem: ext4, size: 8M, source: ${src} }\n`, join(work, 'layout.yaml'));
      // the tree is read when planning; change the file once it is (the first write comes after)
      const { planDisk, writeDisk } = await import('../../src/partition/assemble.js');
      const { nodeDiskHost } = await import('../../src/partition/disk-file.js');
      const plan = await planDisk(layout, { host: nodeDiskHost });
      try {
        change();
        return await withSparseFile(dest, plan.size, (t) => writeDisk(plan, t));
      } finally {
        plan.dispose();
      }
    },
  ],
];

for (const [name, write] of writers) {
  for (const [how, change] of [
    ['shrinks', (src: string) => truncateSync(join(src, 'b.bin'), 1000)],
    ['disappears', (src: string) => unlinkSync(join(src, 'b.bin'))],
  ] as const) {
    test(`${name}: a source file that ${how} after the tree was read is a KilnError; nothing is left`, async () => {
      const src = freshSource(`${name}-${how}`);
      const dest = join(out, `${name}.img`);
      try {
        await write(src, dest, () => change(src));
        assert.unreachable('the write succeeded');
      } catch (e) {
        assert.ok(sourceChanged(e), String((e as Error)?.stack ?? e));
      }
      assert.equal(readdirSync(out), []);
    });
  }
}

test('kiln mkfs ext4: files truncated while kiln writes them: kiln: error, exit 1, nothing left', async () => {
  const src = join(work, 'big');
  mkdirSync(src);
  for (let i = 0; i < 4; i++) writeNoise(join(src, `f${i}.bin`), 60);
  const dest = join(out, 'big.img');
  const child = startKiln(['mkfs', 'ext4', src, dest]);
  const done = exited(child);
  await waitFor(() => temps(out).length > 0 || child.exitCode !== null, 60_000, 'the temp file');
  for (let i = 0; i < 4; i++) truncateSync(join(src, `f${i}.bin`), 4096);
  const r = await done;
  assert.is(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^kiln: error: '.*f\d\.bin' shrank while it was being read: it ended after \d+ bytes, but it had 62914560 bytes when the tree was read/m,
  );
  assert.match(r.stderr, /hint: make sure nothing changes the source files while kiln reads them/);
  assert.not.match(r.stderr, /internal error|\n\s+at /);
  assert.equal(readdirSync(out), []);
});

test('an image larger than a file may be (ulimit -f / the filesystem): kiln: error, exit 1, no temp file', () => {
  const src = freshSource('ulimit');
  writeFileSync(join(work, 'big.yaml'), 'table: gpt\nsize: 64M\npartitions:\n  - {filesystem: swap, size: 16M}\n');
  for (const args of [
    ['mkimage', join(work, 'big.yaml'), join(out, 'disk.img')],
    ['mkfs', 'ext4', '--size', '64M', src, join(out, 'fs.img')],
    ['mkfs', 'swap', '--size', '64M', join(out, 'swap.img')],
  ]) {
    // 1 MiB file size limit: ftruncate to 64 MiB fails with EFBIG (node ignores SIGXFSZ)
    const r = kiln(args, { shell: 'ulimit -f 2048' });
    assert.is(r.status, 1, `${args.join(' ')}: ${r.all}`);
    assert.match(
      r.stderr,
      /^kiln: error: cannot create '.*' of 64 MiB \(67108864 bytes\): the filesystem holding '.*' \(or the file size limit, ulimit -f\) does not allow a file that large/m,
    );
    assert.not.match(r.stderr, /internal error|\n\s+at /);
    assert.equal(readdirSync(out), [], args.join(' '));
  }
  assert.not.ok(existsSync(join(out, 'disk.img')));
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
