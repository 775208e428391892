/**
 * The Node example: a GPT disk image from a host directory, written into a sparse file with
 * progress and a time limit, read back, then one partition rewritten in place.
 *
 *   node --import tsx node.ts [SOURCE-DIR] [OUT.img]      (defaults: this directory, ./disk.img)
 *
 * In an embedder's project the imports are the same ('kiln-image/…' from the installed package).
 */
import { resolve } from 'node:path';
import { FileTree, formatSize, type WriteProgress } from 'kiln-image/fs';
import { assembleDisk, openImage, openImageTarget, treeFromDirectory } from 'kiln-image/node';
import { GPT_TYPES } from 'kiln-image/partition';
import { writeFat } from 'kiln-image/fs';

const source = resolve(process.argv[2] ?? new URL('.', import.meta.url).pathname);
const out = resolve(process.argv[3] ?? 'disk.img');

// The writers are synchronous: a signal is checked at every file, so abort it from the
// progress callback (here: a time limit), from a worker, or before the call.
const controller = new AbortController();
const deadline = Date.now() + 60_000;
const onProgress = (p: WriteProgress): void => {
  process.stderr.write(`\r${p.filesDone}/${p.filesTotal} files, ${formatSize(p.bytesDone)} of ${formatSize(p.bytesTotal)}   `);
  if (Date.now() > deadline) controller.abort(new Error('took longer than a minute'));
};

const boot = new FileTree();
boot.file('README.TXT', 'kiln-image example\r\n');
const root = treeFromDirectory(source, { owners: 'root' });

// A failed or aborted write leaves nothing at `out` (the image is renamed into place when complete).
const result = await assembleDisk(
  {
    table: 'gpt',
    size: 'auto',
    partitions: [
      { filesystem: 'fat', type: GPT_TYPES.efiSystem, size: 32 << 20, label: 'ESP', tree: boot },
      { filesystem: 'ext4', size: 'auto', label: 'root', tree: root },
    ],
  },
  out,
  { onProgress, signal: controller.signal, sourceDateEpoch: 1_700_000_000 },
);
process.stderr.write('\n');
for (const p of result.partitions) console.log(`partition ${p.number}: ${p.filesystem} ${formatSize(p.size)} uuid ${p.uuid}`);

// Read the root back.
const image = openImage(`${out}:2`);
console.log(
  'root:',
  image.reader
    .list('')
    .map((e) => e.name)
    .join(' '),
);
image.close();

// Write a new FAT volume into partition 1 of the existing disk (the partition is zeroed first).
const esp = openImageTarget(`${out}:1`);
const updated = new FileTree();
updated.file('README.TXT', 'rewritten in place\r\n');
writeFat(updated, esp.target, { label: 'ESP' });
esp.close();
const check = openImage(`${out}:1`);
console.log('esp:', new TextDecoder().decode(check.reader.readFile('README.TXT')).trim());
check.close();
