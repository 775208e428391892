import { Struct } from '../struct.js';

/** A 32-byte short (8.3) directory entry; comments give the field names of Microsoft's FAT specification. */
export const DirEntry = new Struct('FAT directory entry', 32, [
  { name: 'name', offset: 0, type: 'bytes', size: 11 }, // DIR_Name
  { name: 'attributes', offset: 11, type: 'u8' }, // DIR_Attr
  /** Windows NT case bits: 0x08 base name lower case, 0x10 extension lower case. */
  { name: 'ntCase', offset: 12, type: 'u8' }, // DIR_NTRes
  { name: 'createTimeFine', offset: 13, type: 'u8' }, // DIR_CrtTimeTenth
  { name: 'createTime', offset: 14, type: 'u16' }, // DIR_CrtTime
  { name: 'createDate', offset: 16, type: 'u16' }, // DIR_CrtDate
  { name: 'accessDate', offset: 18, type: 'u16' }, // DIR_LstAccDate
  { name: 'clusterHigh', offset: 20, type: 'u16' }, // DIR_FstClusHI
  { name: 'writeTime', offset: 22, type: 'u16' }, // DIR_WrtTime
  { name: 'writeDate', offset: 24, type: 'u16' }, // DIR_WrtDate
  { name: 'clusterLow', offset: 26, type: 'u16' }, // DIR_FstClusLO
  { name: 'size', offset: 28, type: 'u32' }, // DIR_FileSize
] as const);

/** A VFAT long-name entry: 13 UTF-16 code units in three pieces, before its short entry. */
export const LfnEntry = new Struct('VFAT long-name entry', 32, [
  /** Sequence number 1…20; 0x40 marks the last (first stored) entry. */
  { name: 'order', offset: 0, type: 'u8' }, // LDIR_Ord
  { name: 'name1', offset: 1, type: 'bytes', size: 10 }, // LDIR_Name1
  { name: 'attributes', offset: 11, type: 'u8' }, // LDIR_Attr
  { name: 'type', offset: 12, type: 'u8' }, // LDIR_Type
  { name: 'checksum', offset: 13, type: 'u8' }, // LDIR_Chksum
  { name: 'name2', offset: 14, type: 'bytes', size: 12 }, // LDIR_Name2
  { name: 'clusterLow', offset: 26, type: 'u16' }, // LDIR_FstClusLO
  { name: 'name3', offset: 28, type: 'bytes', size: 4 }, // LDIR_Name3
] as const);

export const DIRENT_SIZE = 32;
export const LFN_CHARS = 13;
export const LFN_LAST = 0x40;

export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
export const ATTR_LFN = 0x0f;

export const CASE_LOWER_BASE = 0x08;
export const CASE_LOWER_EXT = 0x10;

/** First name byte of a deleted entry; 0x00 ends the directory. */
export const DELETED = 0xe5;
/** A real leading 0xE5 is stored as 0x05. */
export const KANJI_E5 = 0x05;

export function entryCluster(e: { clusterHigh: number; clusterLow: number }): number {
  return e.clusterHigh * 0x10000 + e.clusterLow;
}
