import { Struct } from '../struct.js';

/**
 * The FAT boot sector: the BIOS parameter block (BPB) common to all three FAT types, the
 * FAT32 extension, and the extended BPB (drive, signature, volume id, label) that sits at
 * 0x24 on FAT12/16 and at 0x40 on FAT32.
 */
export const SECTOR = 512;

export const BootSector = new Struct('FAT boot sector', SECTOR, [
  { name: 'jump', offset: 0x00, type: 'bytes', size: 3 },
  { name: 'oemName', offset: 0x03, type: 'string', size: 8, pad: 0x20 },
  { name: 'bytesPerSector', offset: 0x0b, type: 'u16' },
  { name: 'sectorsPerCluster', offset: 0x0d, type: 'u8' },
  { name: 'reservedSectors', offset: 0x0e, type: 'u16' },
  { name: 'numFats', offset: 0x10, type: 'u8' },
  { name: 'rootEntries', offset: 0x11, type: 'u16' },
  { name: 'totalSectors16', offset: 0x13, type: 'u16' },
  { name: 'media', offset: 0x15, type: 'u8' },
  { name: 'fatSectors16', offset: 0x16, type: 'u16' },
  { name: 'sectorsPerTrack', offset: 0x18, type: 'u16' },
  { name: 'heads', offset: 0x1a, type: 'u16' },
  { name: 'hiddenSectors', offset: 0x1c, type: 'u32' },
  { name: 'totalSectors32', offset: 0x20, type: 'u32' },
  { name: 'signature', offset: 0x1fe, type: 'u16' },
] as const);

/** Fields that exist only on FAT32, following the common BPB. */
export const Fat32Bpb = new Struct('FAT32 BPB extension', SECTOR, [
  { name: 'fatSectors32', offset: 0x24, type: 'u32' },
  { name: 'extFlags', offset: 0x28, type: 'u16' },
  { name: 'fsVersion', offset: 0x2a, type: 'u16' },
  { name: 'rootCluster', offset: 0x2c, type: 'u32' },
  { name: 'fsInfoSector', offset: 0x30, type: 'u16' },
  { name: 'backupBootSector', offset: 0x32, type: 'u16' },
] as const);

/** The extended BPB, relative to EBPB_OFFSET[fatType]. */
export const ExtendedBpb = new Struct('FAT extended BPB', 26, [
  { name: 'driveNumber', offset: 0, type: 'u8' },
  { name: 'reserved', offset: 1, type: 'u8' },
  { name: 'bootSignature', offset: 2, type: 'u8' },
  { name: 'volumeId', offset: 3, type: 'u32' },
  { name: 'volumeLabel', offset: 7, type: 'string', size: 11, pad: 0x20 },
  { name: 'fsType', offset: 18, type: 'string', size: 8, pad: 0x20 },
] as const);

export type FatType = 12 | 16 | 32;

export function ebpbOffset(fatType: FatType): number {
  return fatType === 32 ? 0x40 : 0x24;
}

/** Where boot code starts (the jump at 0 lands here). */
export function bootCodeOffset(fatType: FatType): number {
  return fatType === 32 ? 0x5a : 0x3e;
}

export const EXTENDED_BOOT_SIGNATURE = 0x29;
export const BOOT_SIGNATURE = 0xaa55;
export const MEDIA_FIXED = 0xf8;
export const NO_NAME = 'NO NAME';
