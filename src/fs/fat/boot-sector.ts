import { KilnError } from '../../errors.js';
import { Struct } from '../struct.js';
import { DIRENT_SIZE } from './dirent.js';

/**
 * The FAT boot sector: the BIOS parameter block (BPB) common to all three FAT types, the
 * FAT32 extension, and the extended BPB (drive, signature, volume id, label) that sits at
 * 0x24 on FAT12/16 and at 0x40 on FAT32. Comments give each field's name in Microsoft's FAT
 * specification (BPB_*, BS_*).
 */
export const SECTOR = 512;

export const BootSector = new Struct('FAT boot sector', SECTOR, [
  { name: 'jump', offset: 0x00, type: 'bytes', size: 3 }, // BS_jmpBoot
  { name: 'oemName', offset: 0x03, type: 'string', size: 8, pad: 0x20 }, // BS_OEMName
  { name: 'bytesPerSector', offset: 0x0b, type: 'u16' }, // BPB_BytsPerSec
  { name: 'sectorsPerCluster', offset: 0x0d, type: 'u8' }, // BPB_SecPerClus
  { name: 'reservedSectors', offset: 0x0e, type: 'u16' }, // BPB_RsvdSecCnt
  { name: 'numFats', offset: 0x10, type: 'u8' }, // BPB_NumFATs
  { name: 'rootEntries', offset: 0x11, type: 'u16' }, // BPB_RootEntCnt
  { name: 'totalSectors16', offset: 0x13, type: 'u16' }, // BPB_TotSec16
  { name: 'media', offset: 0x15, type: 'u8' }, // BPB_Media
  { name: 'fatSectors16', offset: 0x16, type: 'u16' }, // BPB_FATSz16
  { name: 'sectorsPerTrack', offset: 0x18, type: 'u16' }, // BPB_SecPerTrk
  { name: 'heads', offset: 0x1a, type: 'u16' }, // BPB_NumHeads
  { name: 'hiddenSectors', offset: 0x1c, type: 'u32' }, // BPB_HiddSec
  { name: 'totalSectors32', offset: 0x20, type: 'u32' }, // BPB_TotSec32
  { name: 'signature', offset: 0x1fe, type: 'u16' }, // Signature_word (0xAA55)
] as const);

/** Fields that exist only on FAT32, following the common BPB. */
export const Fat32Bpb = new Struct('FAT32 BPB extension', SECTOR, [
  { name: 'fatSectors32', offset: 0x24, type: 'u32' }, // BPB_FATSz32
  { name: 'extFlags', offset: 0x28, type: 'u16' }, // BPB_ExtFlags
  { name: 'fsVersion', offset: 0x2a, type: 'u16' }, // BPB_FSVer
  { name: 'rootCluster', offset: 0x2c, type: 'u32' }, // BPB_RootClus
  { name: 'fsInfoSector', offset: 0x30, type: 'u16' }, // BPB_FSInfo
  { name: 'backupBootSector', offset: 0x32, type: 'u16' }, // BPB_BkBootSec
] as const);

/** The extended BPB, at ebpbOffset(fatType). */
export const ExtendedBpb = new Struct('FAT extended BPB', 26, [
  { name: 'driveNumber', offset: 0, type: 'u8' }, // BS_DrvNum
  { name: 'reserved', offset: 1, type: 'u8' }, // BS_Reserved1
  { name: 'bootSignature', offset: 2, type: 'u8' }, // BS_BootSig
  { name: 'volumeId', offset: 3, type: 'u32' }, // BS_VolID
  { name: 'volumeLabel', offset: 7, type: 'string', size: 11, pad: 0x20 }, // BS_VolLab
  { name: 'fsType', offset: 18, type: 'string', size: 8, pad: 0x20 }, // BS_FilSysType
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

/** The FAT type follows from the cluster count alone (the spec's rule): up to 4084 clusters FAT12, up to 65524 FAT16. */
export const MAX_CLUST_12 = 4084;
export const MIN_CLUST_16 = 4085;
export const MAX_CLUST_16 = 65524;
export const MIN_CLUST_32 = 65525;
export const MAX_CLUST_32 = 0x0ffffff5;

/** What the boot sector says, as the reader and the SYSLINUX installer need it. */
export interface FatVolume {
  fatType: FatType;
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numFats: number;
  fatSectors: number;
  rootEntries: number;
  totalSectors: number;
  hiddenSectors: number;
  firstDataSector: number;
  clusterCount: number;
  rootCluster: number;
  fsInfoSector: number;
  volumeId: number;
  label: string;
  media: number;
}

/** Parses and checks a FAT boot sector; the type follows from the cluster count, as the spec says. */
export function parseFatBootSector(sector: Uint8Array): FatVolume {
  const bs = BootSector.decode(sector);
  const fail = (why: string): never => {
    throw new KilnError('not-fat', `not a FAT filesystem: ${why}`, 'check that the image (or partition) holds a FAT volume');
  };
  if (bs.signature !== BOOT_SIGNATURE) fail('no 55 AA boot signature');
  if (bs.bytesPerSector !== SECTOR) fail(`${bs.bytesPerSector}-byte sectors (kiln reads 512-byte sectors only)`);
  if (bs.sectorsPerCluster === 0 || (bs.sectorsPerCluster & (bs.sectorsPerCluster - 1)) !== 0) fail(`bad sectors per cluster ${bs.sectorsPerCluster}`);
  if (bs.numFats === 0 || bs.reservedSectors === 0) fail('no FATs or no reserved sectors');
  const f32 = Fat32Bpb.decode(sector);
  const fatSectors = bs.fatSectors16 || f32.fatSectors32;
  const totalSectors = bs.totalSectors16 || bs.totalSectors32;
  const rootDirSectors = Math.ceil((bs.rootEntries * DIRENT_SIZE) / SECTOR);
  const firstDataSector = bs.reservedSectors + bs.numFats * fatSectors + rootDirSectors;
  if (fatSectors === 0 || totalSectors <= firstDataSector) fail('inconsistent sizes in the BPB');
  const clusterCount = Math.floor((totalSectors - firstDataSector) / bs.sectorsPerCluster);
  const fatType: FatType = clusterCount <= MAX_CLUST_12 ? 12 : clusterCount <= MAX_CLUST_16 ? 16 : 32;
  const ebpb = ExtendedBpb.decode(sector, ebpbOffset(fatType));
  return {
    fatType,
    bytesPerSector: bs.bytesPerSector,
    sectorsPerCluster: bs.sectorsPerCluster,
    reservedSectors: bs.reservedSectors,
    numFats: bs.numFats,
    fatSectors,
    rootEntries: bs.rootEntries,
    totalSectors,
    hiddenSectors: bs.hiddenSectors,
    firstDataSector,
    clusterCount,
    rootCluster: fatType === 32 ? f32.rootCluster : 0,
    fsInfoSector: fatType === 32 ? f32.fsInfoSector : 0,
    volumeId: ebpb.bootSignature === 0x29 || ebpb.bootSignature === 0x28 ? ebpb.volumeId : 0,
    label: ebpb.bootSignature === 0x29 ? ebpb.volumeLabel : '',
    media: bs.media,
  };
}
