import { KilnError } from '../../errors.js';
import type { BlockTarget } from '../../fs/block-target.js';
import { SECTOR } from '../../fs/fat/boot-sector.js';
import { ATTR_ARCHIVE, ATTR_HIDDEN, ATTR_READ_ONLY, ATTR_SYSTEM, CASE_LOWER_BASE, CASE_LOWER_EXT } from '../../fs/fat/dirent.js';
import { FatEditor } from '../../fs/fat/editor.js';
import { FAT_MIN_SEC } from '../../fs/fat/time.js';
import { encodeAdv, ADV_SIZE } from './adv.js';
import { Extent, ExtPatchArea, LDLINUX_MAGIC, PatchArea, findPatchArea } from './patch-area.js';

/** The four SYSLINUX BIOS files kiln needs, from one build. */
export interface SyslinuxBinaries {
  /** ldlinux.bss: the 512-byte FAT boot sector template. */
  bss: Uint8Array;
  /** ldlinux.sys: the core, patched at install time. */
  sys: Uint8Array;
  /** ldlinux.c32: the core module loaded from the filesystem. */
  c32: Uint8Array;
  /** mbr.bin: the 440-byte MBR boot code. */
  mbr: Uint8Array;
}

/**
 * Installs SYSLINUX (BIOS) onto a FAT volume that is already written, doing what the
 * `syslinux` installer does (docs/syslinux.md): LDLINUX.SYS (the core plus an empty ADV) in
 * free clusters, patched with its own sector list, directory and checksum; LDLINUX.C32 beside
 * it; both read-only + hidden + system; and the boot sector's code replaced by ldlinux.bss
 * while its BPB is kept.
 */
export interface SyslinuxInstallOptions {
  bss: Uint8Array;
  sys: Uint8Array;
  c32: Uint8Array;
  /** Install directory, e.g. '/syslinux' or '/boot/syslinux' ('' or '/' for the root); created if missing. */
  directory: string;
  /** Timestamp of the new directory entries, seconds since the epoch (default 1980-01-01). */
  mtime?: number;
}

export interface SyslinuxInstallResult {
  /** LBAs (from the start of the volume) of every sector of LDLINUX.SYS, in file order. */
  sysSectors: number[];
  sysClusters: number[];
  c32Clusters: number[];
}

/** The attributes SYSLINUX gives its files so that tools leave them in place. */
export const SYSLINUX_ATTRIBUTES = ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM | ATTR_ARCHIVE;
const LDLINUX_SYS = 'LDLINUX SYS';
const LDLINUX_C32 = 'LDLINUX C32';
/** The boot-sector bytes SYSLINUX supplies: the jump and OEM name, and the code area. */
const BSS_HEAD = [0x000, 0x00b] as const;
const BSS_CODE = [0x05a, 0x1fe] as const;
const MAX_EXTENT_SECTORS = 127;

function bad(what: string): never {
  throw new KilnError('syslinux-bad-binary', what, 'use ldlinux.bss, ldlinux.sys and ldlinux.c32 from one SYSLINUX BIOS build');
}

function u32(buf: Uint8Array, at: number): number {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(at, true);
}

function normalizeDirectory(directory: string): string[] {
  const parts = directory.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new KilnError('syslinux-bad-dir', `install directory '${directory}' contains '..'`, 'give an absolute path inside the FAT volume, e.g. /syslinux');
  return parts;
}

/** Sector extents of ldlinux.sys sectors 1…N−3, merged as the installer does. */
export function generateExtents(sectors: number[]): { lba: number; length: number }[] {
  const out: { lba: number; length: number }[] = [];
  let addr = 0x8000; // where ldlinux.sys sector 1 is loaded
  let base = addr;
  let lba = 0;
  let len = 0;
  for (const sect of sectors) {
    if (len) {
      const xbytes = (len + 1) * SECTOR;
      if (sect === lba + len && xbytes < 65536 && len + 1 <= MAX_EXTENT_SECTORS && Math.floor(addr / 65536) === Math.floor((base + xbytes - 1) / 65536)) {
        len++;
        addr += SECTOR;
        continue;
      }
      out.push({ lba, length: len });
    }
    base = addr;
    lba = sect;
    len = 1;
    addr += SECTOR;
  }
  if (len) out.push({ lba, length: len });
  return out;
}

export function installSyslinux(fat: BlockTarget, options: SyslinuxInstallOptions): SyslinuxInstallResult {
  const { bss, sys, c32 } = options;
  if (bss.length !== SECTOR || u32(bss, 0x1f8) !== LDLINUX_MAGIC || bss[0x1fe] !== 0x55 || bss[0x1ff] !== 0xaa)
    bad('ldlinux.bss is not a 512-byte SYSLINUX boot sector');
  if (sys.length < 1024) bad(`ldlinux.sys is only ${sys.length} bytes`);
  if (c32.length < 4 || c32[0] !== 0x7f || c32[1] !== 0x45 || c32[2] !== 0x4c || c32[3] !== 0x46) bad('ldlinux.c32 is not an ELF object');
  const pa = findPatchArea(sys);
  const patch = PatchArea.decode(sys, pa);
  const epa = ExtPatchArea.decode(sys, patch.epaOffset);
  for (const [name, at] of [
    ['sect1Ptr0', epa.sect1Ptr0],
    ['sect1Ptr1', epa.sect1Ptr1],
  ] as const)
    if (at + 4 > SECTOR) bad(`ldlinux.sys points ${name} outside the boot sector`);
  const dirParts = normalizeDirectory(options.directory);
  const dirString = `/${dirParts.join('/')}`;
  if (dirParts.length > 0 && dirString.length + 1 > epa.dirLength) {
    throw new KilnError(
      'syslinux-bad-dir',
      `install directory '${dirString}' is longer than the ${epa.dirLength - 1} bytes ldlinux.sys has room for`,
      'use a shorter path',
    );
  }
  const time = options.mtime ?? FAT_MIN_SEC;

  const editor = new FatEditor(fat);
  const vol = editor.vol;
  if (!(vol.media === 0xf0 || vol.media >= 0xf8))
    throw new KilnError('syslinux-not-fat', `media byte 0x${vol.media.toString(16)} is not one SYSLINUX accepts`, 'write the volume with kiln or mkfs.fat');
  if (vol.fatType === 32) {
    const ebpb = fat.read(0x52, 8);
    if (String.fromCharCode(...ebpb) !== 'FAT32   ')
      throw new KilnError('syslinux-not-fat', 'the FAT32 boot sector does not say "FAT32"', 'write the volume with kiln or mkfs.fat');
  }

  const padded = Math.ceil(sys.length / SECTOR) * SECTOR;
  const sysBytes = padded + 2 * ADV_SIZE;
  const cb = editor.clusterBytes;
  const need = Math.ceil(sysBytes / cb) + Math.ceil(c32.length / cb) + dirParts.length + 2;
  if (editor.freeClusters() < need) {
    throw new KilnError(
      'fat-no-space',
      `SYSLINUX needs about ${need * cb} bytes free on the FAT volume; it has ${editor.freeClusters() * cb}`,
      'make the FAT volume larger',
    );
  }

  const dirCluster = editor.mkdirs(dirParts.join('/'), time);
  // A previous installation is replaced in place.
  const oldSys = editor.find(dirCluster, LDLINUX_SYS);
  const oldC32 = editor.find(dirCluster, LDLINUX_C32);
  if (oldSys && oldSys.cluster) editor.freeChain(oldSys.cluster);
  if (oldC32 && oldC32.cluster) editor.freeChain(oldC32.cluster);

  const sysClusters = editor.allocate(Math.ceil(sysBytes / cb), 'LDLINUX.SYS');
  const sectors: number[] = [];
  for (const c of sysClusters) for (let s = 0; s < vol.sectorsPerCluster; s++) sectors.push(editor.clusterSector(c) + s);
  const nsect = padded / SECTOR + 2;
  sectors.length = nsect;

  // Patch a copy of ldlinux.sys and of the boot sector template.
  const image = new Uint8Array(sysBytes);
  image.set(sys);
  image.set(encodeAdv(), padded);
  const boot = bss.slice();
  const view = new DataView(image.buffer);
  const bview = new DataView(boot.buffer);
  bview.setUint32(epa.sect1Ptr0, sectors[0]! >>> 0, true);
  bview.setUint32(epa.sect1Ptr1, Math.floor(sectors[0]! / 0x100000000), true);
  const dwords = sys.length >>> 2;
  PatchArea.encode({ dataSectors: nsect - 2, advSectors: 2, dwords }, image, pa);
  const extents = generateExtents(sectors.slice(1, nsect - 2));
  if (extents.length > epa.extentCount) {
    throw new KilnError(
      'syslinux-fragmented',
      `LDLINUX.SYS would need ${extents.length} extents; ldlinux.sys has room for ${epa.extentCount}`,
      'defragment the FAT volume or write it afresh',
    );
  }
  image.fill(0, epa.extentOffset, epa.extentOffset + epa.extentCount * Extent.size);
  extents.forEach((x, i) => Extent.encode(x, image, epa.extentOffset + i * Extent.size));
  view.setBigUint64(epa.advPtrOffset, BigInt(sectors[nsect - 2]!), true);
  view.setBigUint64(epa.advPtrOffset + 8, BigInt(sectors[nsect - 1]!), true);
  if (dirParts.length > 0) {
    image.fill(0, epa.dirOffset, epa.dirOffset + dirString.length + 1);
    for (let i = 0; i < dirString.length; i++) image[epa.dirOffset + i] = dirString.charCodeAt(i);
  }
  PatchArea.encode({ checksum: 0 }, image, pa);
  let sum = 0;
  for (let i = 0; i < dwords; i++) sum = (sum + view.getUint32(i * 4, true)) >>> 0;
  PatchArea.encode({ checksum: (LDLINUX_MAGIC - sum) >>> 0 }, image, pa);

  editor.writeChain(sysClusters, image);
  const sysSlot = oldSys?.offset ?? editor.freeSlot(dirCluster, 'LDLINUX.SYS');
  const lower = CASE_LOWER_BASE | CASE_LOWER_EXT;
  editor.writeEntry(sysSlot, { name: ascii(LDLINUX_SYS), attributes: SYSLINUX_ATTRIBUTES, ntCase: lower, cluster: sysClusters[0]!, size: sysBytes, time });

  const c32Clusters = editor.allocate(Math.ceil(c32.length / cb), 'LDLINUX.C32');
  editor.writeChain(c32Clusters, c32);
  const c32Slot = oldC32?.offset ?? editor.freeSlot(dirCluster, 'LDLINUX.C32');
  editor.writeEntry(c32Slot, { name: ascii(LDLINUX_C32), attributes: SYSLINUX_ATTRIBUTES, ntCase: lower, cluster: c32Clusters[0]!, size: c32.length, time });
  editor.commit();

  // The boot sector: SYSLINUX's jump, OEM name and code around the volume's own BPB. The
  // FAT32 backup copy gets the same so that fsck finds the two equal.
  const sector0 = fat.read(0, SECTOR);
  sector0.set(boot.subarray(BSS_HEAD[0], BSS_HEAD[1]), BSS_HEAD[0]);
  sector0.set(boot.subarray(BSS_CODE[0], BSS_CODE[1]), BSS_CODE[0]);
  fat.write(0, sector0);
  if (vol.fatType === 32) {
    const backupAt = new DataView(sector0.buffer).getUint16(0x32, true);
    if (backupAt > 0 && backupAt < vol.reservedSectors) fat.write(backupAt * SECTOR, sector0);
  }
  return { sysSectors: sectors, sysClusters, c32Clusters };
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
