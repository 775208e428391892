import { KilnError } from '../../errors.js';
import { Struct } from '../../fs/struct.js';

/**
 * The patch areas inside ldlinux.sys that the installer fills in: the fixed one found by its
 * magic number, and the extended one it points to (whose fields are offsets into ldlinux.sys
 * or, for the sect1ptr and RAID fields, into the boot sector).
 */
export const LDLINUX_MAGIC = 0x3eb202fe;

export const PatchArea = new Struct('SYSLINUX patch area', 28, [
  { name: 'magic', offset: 0, type: 'u32' },
  { name: 'instance', offset: 4, type: 'u32' },
  { name: 'dataSectors', offset: 8, type: 'u16' },
  { name: 'advSectors', offset: 10, type: 'u16' },
  { name: 'dwords', offset: 12, type: 'u32' },
  { name: 'checksum', offset: 16, type: 'u32' },
  { name: 'maxTransfer', offset: 20, type: 'u16' },
  { name: 'epaOffset', offset: 22, type: 'u16' },
] as const);

export const ExtPatchArea = new Struct('SYSLINUX extended patch area', 20, [
  { name: 'advPtrOffset', offset: 0, type: 'u16' },
  { name: 'dirOffset', offset: 2, type: 'u16' },
  { name: 'dirLength', offset: 4, type: 'u16' },
  { name: 'subvolOffset', offset: 6, type: 'u16' },
  { name: 'subvolLength', offset: 8, type: 'u16' },
  { name: 'extentOffset', offset: 10, type: 'u16' },
  { name: 'extentCount', offset: 12, type: 'u16' },
  { name: 'sect1Ptr0', offset: 14, type: 'u16' },
  { name: 'sect1Ptr1', offset: 16, type: 'u16' },
  { name: 'raidPatch', offset: 18, type: 'u16' },
] as const);

/** One entry of the sector extent table: a run of LBAs. */
export const Extent = new Struct('SYSLINUX sector extent', 10, [
  { name: 'lba', offset: 0, type: 'u64' },
  { name: 'length', offset: 8, type: 'u16' },
] as const);

/** Offset of the patch area: the first dword-aligned LDLINUX_MAGIC in the image. */
export function findPatchArea(sys: Uint8Array): number {
  const view = new DataView(sys.buffer, sys.byteOffset, sys.byteLength);
  for (let at = 0; at + 28 <= Math.min(sys.length, 4096); at += 4) if (view.getUint32(at, true) === LDLINUX_MAGIC) return at;
  throw new KilnError('syslinux-bad-binary', 'ldlinux.sys has no SYSLINUX patch area (magic 0x3EB202FE)', 'use ldlinux.sys from a SYSLINUX 4.x–6.x BIOS build');
}
