/**
 * The browser example's work, without the page: a bootable-layout disk image built in memory
 * from files the user picked. Only kiln-image/fs and kiln-image/partition are imported, so a
 * bundler needs no Node shims. (examples/library/browser.ts wires it to the page; the test
 * runs it in Node too.)
 */
import { FileTree, MemoryTarget, SubSource, initramfsBytes, readExt4, type WriteProgress } from 'kiln-image/fs';
import { assembleDiskToMemory, decodeMbr } from 'kiln-image/partition';

export interface PickedFile {
  /** A path inside the image, '/'-separated ('etc/hostname'). */
  path: string;
  bytes: Uint8Array;
}

export interface BuiltDisk {
  /** The whole disk: an MBR with a FAT32 boot partition and an ext4 root. */
  disk: Uint8Array;
  /** A gzip'd newc initramfs of the same tree. */
  initramfs: Uint8Array;
  /** The root filesystem's listing, read back from the disk. */
  rootListing: string[];
}

export async function buildDisk(files: readonly PickedFile[], onProgress?: (p: WriteProgress) => void, signal?: AbortSignal): Promise<BuiltDisk> {
  // Fixed times make the image reproducible: the same files give the same bytes.
  const when = { mtime: { sec: 1_700_000_000, nsec: 0 } };
  const tree = new FileTree(when);
  for (const f of files) {
    const parent = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '';
    if (parent) tree.mkdirp(parent, when);
    tree.file(f.path, f.bytes, { ...when, mode: 0o644 });
  }
  const boot = new FileTree(when);
  boot.file('README.TXT', 'made in a browser with kiln-image\r\n', when);

  const control = { ...(onProgress && { onProgress }), ...(signal && { signal }) };
  const { bytes } = await assembleDiskToMemory(
    {
      table: 'mbr',
      size: 'auto',
      partitions: [
        { filesystem: 'fat', fatType: 32, size: 'auto', label: 'BOOT', tree: boot, bootable: true },
        { filesystem: 'ext4', size: 'auto', label: 'root', tree },
      ],
    },
    control,
  );
  const initramfs = await initramfsBytes(tree, control);

  // Read the root back: the second partition of the disk, as a window of the bytes.
  const disk = new MemoryTarget(bytes);
  const root = decodeMbr(disk).partitions[1]!;
  const ext4 = readExt4(new SubSource(disk, root.start * 512, root.sectors * 512));
  return { disk: bytes, initramfs, rootListing: ext4.list('').map((e) => e.name) };
}
