import { Struct } from '../struct.js';

/** A 32-byte short (8.3) directory entry. */
export const DirEntry = new Struct('FAT directory entry', 32, [
  { name: 'name', offset: 0, type: 'bytes', size: 11 },
  { name: 'attributes', offset: 11, type: 'u8' },
  /** Windows NT case bits: 0x08 base name lower case, 0x10 extension lower case. */
  { name: 'ntCase', offset: 12, type: 'u8' },
  { name: 'createTimeFine', offset: 13, type: 'u8' },
  { name: 'createTime', offset: 14, type: 'u16' },
  { name: 'createDate', offset: 16, type: 'u16' },
  { name: 'accessDate', offset: 18, type: 'u16' },
  { name: 'clusterHigh', offset: 20, type: 'u16' },
  { name: 'writeTime', offset: 22, type: 'u16' },
  { name: 'writeDate', offset: 24, type: 'u16' },
  { name: 'clusterLow', offset: 26, type: 'u16' },
  { name: 'size', offset: 28, type: 'u32' },
] as const);

/** A VFAT long-name entry: 13 UTF-16 code units in three pieces, before its short entry. */
export const LfnEntry = new Struct('VFAT long-name entry', 32, [
  /** Sequence number 1…20; 0x40 marks the last (first stored) entry. */
  { name: 'order', offset: 0, type: 'u8' },
  { name: 'name1', offset: 1, type: 'bytes', size: 10 },
  { name: 'attributes', offset: 11, type: 'u8' },
  { name: 'type', offset: 12, type: 'u8' },
  { name: 'checksum', offset: 13, type: 'u8' },
  { name: 'name2', offset: 14, type: 'bytes', size: 12 },
  { name: 'clusterLow', offset: 26, type: 'u16' },
  { name: 'name3', offset: 28, type: 'bytes', size: 4 },
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
