/**
 * The browser example (index.html): pick files, get a disk image and an initramfs to download.
 * Bundle it with any bundler, no Node shims:
 *
 *   npx esbuild browser.ts --bundle --format=esm --platform=browser --outfile=browser.js
 *
 * The writers are synchronous. Here they run on the page's thread, which is simplest; for large
 * images run buildDisk in a Web Worker, post the progress to the page, and abort through an
 * AbortController whose signal the worker checks (a Cancel button posting a message).
 */
import { formatSize } from 'kiln-image/fs';
import { buildDisk, type PickedFile } from './browser-disk.js';

const input = document.querySelector<HTMLInputElement>('#files')!;
const status = document.querySelector<HTMLElement>('#status')!;
const links = document.querySelector<HTMLElement>('#links')!;

function offer(name: string, bytes: Uint8Array): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes.slice()], { type: 'application/octet-stream' }));
  a.download = name;
  a.textContent = `${name} (${formatSize(bytes.length)})`;
  links.append(a, document.createElement('br'));
}

input.addEventListener('change', async () => {
  const picked: PickedFile[] = [];
  for (const f of Array.from(input.files ?? [])) picked.push({ path: `data/${f.name}`, bytes: new Uint8Array(await f.arrayBuffer()) });
  links.replaceChildren();
  status.textContent = 'writing…';
  try {
    const built = await buildDisk(picked, (p) => console.log(`${p.filesDone}/${p.filesTotal} files, ${p.bytesDone}/${p.bytesTotal} bytes`));
    status.textContent = `root holds: ${built.rootListing.join(', ')}`;
    offer('disk.img', built.disk);
    offer('initrd.img', built.initramfs);
  } catch (e) {
    status.textContent = `failed: ${(e as Error).message}`;
  }
});
