import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { BytesContent, FileTree } from '../../../src/entry/fs.js';
import { initramfsBytes, initramfsBytesSync } from '../../../src/fs/cpio/newc-writer.js';
import { writeInitramfs } from '../../../src/fs/cpio/initramfs.js';
import type { InitramfsOptions } from '../../../src/fs/cpio/initramfs-plan.js';
import { propertyRuns } from '../../helpers/tools.js';

/**
 * The in-memory newc writer (browser path, no cpio-stream) writes exactly the bytes of Node's
 * streaming writer (cpio-stream's packer), compressed or not, including the packer's padding
 * after the trailer, for archives below, around and above 512 bytes and files streamed in
 * pieces (over 1 MiB).
 */

async function streamed(tree: FileTree, options: InitramfsOptions): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeInitramfs(tree, { write: (c) => void chunks.push(c.slice()) }, options);
  return Uint8Array.from(chunks.flatMap((c) => [...c]));
}

const T = { sec: 1_600_000_000, nsec: 0 };

const arbTree = fc
  .array(
    fc.record({
      name: fc.stringMatching(/^[a-z\u00e9]{1,12}$/),
      kind: fc.constantFrom('file', 'dir', 'symlink', 'link'),
      size: fc.oneof(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 5000 })),
    }),
    { maxLength: 8 },
  )
  .map((items) => {
    const t = new FileTree({ mode: 0o755, mtime: T });
    let lastFile: string | undefined;
    for (const [i, it] of items.entries()) {
      const name = `${it.name}${i}`;
      if (it.kind === 'dir') t.mkdir(name, { mode: 0o750, mtime: T });
      else if (it.kind === 'symlink') t.symlink(name, 'x'.repeat(it.size % 300), { mtime: T });
      else if (it.kind === 'link' && lastFile) t.link(name, lastFile);
      else {
        t.file(name, new BytesContent(new Uint8Array(it.size).map((_, k) => (k * 7 + i) & 0xff)), { mode: 0o644, mtime: T });
        lastFile = name;
      }
    }
    return t;
  });

test('in-memory writer = streaming writer (property)', async () => {
  await fc.assert(
    fc.asyncProperty(arbTree, fc.boolean(), async (tree, compress) => {
      const options: InitramfsOptions = { compress, owners: 'root' };
      const a = initramfsBytesSync(tree, options);
      const b = await streamed(tree, options);
      assert.equal(a, b);
    }),
    { numRuns: propertyRuns(60) },
  );
});

test('in-memory writer = streaming writer for a file streamed in pieces (> 1 MiB)', async () => {
  const t = new FileTree({ mode: 0o755, mtime: T });
  t.file('big', new BytesContent(new Uint8Array(3 * 1024 * 1024 + 123).map((_, k) => k % 251)), { mtime: T });
  t.file('small', 'x', { mtime: T });
  for (const compress of [false, true]) assert.equal(await initramfsBytes(t, { compress }), await streamed(t, { compress }));
});

test.run();
