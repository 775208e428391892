import {
  BytesContent,
  FileTree,
  MemoryTarget,
  SubSource,
  initramfsBytes,
  parseNewc,
  readExt4,
  readFat,
  writeExt4,
  writeFat,
  type FsReader,
} from '../../src/entry/fs.js';
import { assembleDiskToMemory, decodeMbr } from '../../src/entry/partition.js';

/**
 * The browser proof program: ext4, FAT32, an MBR disk holding both, and an initramfs, written
 * into memory and read back, using only kiln-image/fs and kiln-image/partition. The same
 * function runs in Node and (bundled by esbuild, no shims) in headless Chromium; the test
 * compares the bytes.
 */

export interface ProgramOutput {
  /** Named images: ext4, fat32, disk, initramfs (gzip) and initramfs.cpio. */
  images: Record<string, Uint8Array>;
  /** What reading the images back found (compared between Node and the browser). */
  readBack: Record<string, unknown>;
}

const T = { sec: 1_700_000_000, nsec: 0 };
const SDE = 1_700_000_000;
const text = new TextEncoder();

function sampleTree(): FileTree {
  const t = new FileTree({ mode: 0o755, mtime: T });
  t.mkdirp('etc', { mode: 0o755, mtime: T });
  t.file('etc/hostname', 'kiln-in-a-browser\n', { mode: 0o644, mtime: T });
  t.mkdirp('usr/share/doc/kiln', { mode: 0o755, mtime: T });
  t.file('usr/share/doc/kiln/README', 'Written byte by byte.\n'.repeat(200), { mode: 0o644, mtime: T });
  // Some binary content over several blocks, deterministic.
  const blob = new Uint8Array(300_000);
  let x = 0x12345678;
  for (let i = 0; i < blob.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    blob[i] = x >>> 24;
  }
  t.file('usr/share/doc/kiln/blob.bin', new BytesContent(blob), { mode: 0o600, uid: 1000, gid: 1000, mtime: T });
  t.mkdirp('bin', { mode: 0o755, mtime: T });
  t.file('bin/init', '#!/bin/sh\necho hello\n', { mode: 0o755, mtime: T });
  t.symlink('bin/sh', 'busybox', { mtime: T });
  t.link('bin/init2', 'bin/init');
  t.file('Ünïcødé name.txt', 'names are bytes\n', { mode: 0o644, mtime: T });
  return t;
}

/** A small FAT tree (FAT keeps no owners, modes or symlinks). */
function bootTree(): FileTree {
  const t = new FileTree({ mode: 0o755, mtime: T });
  t.mkdirp('syslinux', { mode: 0o755, mtime: T });
  t.file('syslinux/syslinux.cfg', 'DEFAULT linux\nLABEL linux\n  KERNEL /vmlinuz\n', { mtime: T });
  t.file('vmlinuz', new BytesContent(new Uint8Array(70_000).fill(0xa5)), { mtime: T });
  t.file('A long file name.txt', 'long names\n', { mtime: T });
  return t;
}

function listAll(r: FsReader, dir = ''): string[] {
  const out: string[] = [];
  for (const e of r.list(dir)) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    const st = r.stat(path);
    out.push(`${path} ${st.type} ${st.size}`);
    if (st.type === 'dir' && e.name !== 'lost+found') out.push(...listAll(r, path));
  }
  return out.sort();
}

function checksum(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

export async function runProgram(): Promise<ProgramOutput> {
  const images: Record<string, Uint8Array> = {};
  const readBack: Record<string, unknown> = {};

  const ext4 = new MemoryTarget(16 * 1024 * 1024);
  const ext4Result = writeExt4(sampleTree(), ext4, { label: 'browser', sourceDateEpoch: SDE });
  images.ext4 = ext4.bytes;
  const er = readExt4(ext4);
  readBack.ext4 = {
    uuid: ext4Result.uuid,
    files: listAll(er),
    blob: checksum(er.readFile('usr/share/doc/kiln/blob.bin')),
    hostname: new TextDecoder().decode(er.readFile('etc/hostname')),
  };

  const fat = new MemoryTarget(40 * 1024 * 1024);
  const fatResult = writeFat(bootTree(), fat, { fatType: 32, label: 'BOOT', sourceDateEpoch: SDE });
  images.fat32 = fat.bytes;
  const fr = readFat(fat);
  readBack.fat32 = { fatType: fatResult.fatType, files: listAll(fr), cfg: new TextDecoder().decode(fr.readFile('syslinux/syslinux.cfg')) };

  const { bytes: disk, result } = await assembleDiskToMemory(
    {
      table: 'mbr',
      size: 'auto',
      seed: 'browser-proof',
      partitions: [
        { filesystem: 'fat', size: 40 * 1024 * 1024, fatType: 32, label: 'BOOT', bootable: true, tree: bootTree() },
        { filesystem: 'ext4', size: 'auto', label: 'root', tree: sampleTree() },
        { filesystem: 'raw', size: 1024 * 1024, content: new BytesContent(text.encode('raw partition\n')) },
      ],
    },
    { sourceDateEpoch: SDE },
  );
  images.disk = disk;
  const diskSource = new MemoryTarget(disk);
  const mbr = decodeMbr(diskSource);
  const parts = mbr.partitions.map((p) => ({ number: p.number, start: p.start, sectors: p.sectors, type: p.type, bootable: p.bootable }));
  const p1 = mbr.partitions[0]!;
  const p2 = mbr.partitions[1]!;
  readBack.disk = {
    result,
    parts,
    fat: listAll(readFat(new SubSource(diskSource, p1.start * 512, p1.sectors * 512))),
    ext4: listAll(readExt4(new SubSource(diskSource, p2.start * 512, p2.sectors * 512))),
  };

  images.initramfs = await initramfsBytes(sampleTree(), { owners: 'root', sourceDateEpoch: SDE });
  const cpio = await initramfsBytes(sampleTree(), { owners: 'root', sourceDateEpoch: SDE, compress: false });
  images['initramfs.cpio'] = cpio;
  readBack.initramfs = parseNewc(cpio).map((e) => `${e.name} ${e.mode.toString(8)} ${e.size} ${e.nlink}`);
  return { images, readBack };
}
