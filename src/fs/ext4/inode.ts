import { crc32cU32, crc32cUpdate } from '../checksum/crc32c.js';
import { Struct, type Values } from '../struct.js';
import type { Timestamp } from '../tree.js';
import { GOOD_OLD_INODE_SIZE, INODE_SIZE } from './constants.js';

/** An on-disk inode: the classic 128 bytes plus the extra fields up to i_projid. */
const FIELDS = [
  { name: 'i_mode', offset: 0x0, type: 'u16' },
  { name: 'i_uid', offset: 0x2, type: 'u16' },
  { name: 'i_size_lo', offset: 0x4, type: 'u32' },
  { name: 'i_atime', offset: 0x8, type: 'u32' },
  { name: 'i_ctime', offset: 0xc, type: 'u32' },
  { name: 'i_mtime', offset: 0x10, type: 'u32' },
  { name: 'i_dtime', offset: 0x14, type: 'u32' },
  { name: 'i_gid', offset: 0x18, type: 'u16' },
  { name: 'i_links_count', offset: 0x1a, type: 'u16' },
  { name: 'i_blocks_lo', offset: 0x1c, type: 'u32' },
  { name: 'i_flags', offset: 0x20, type: 'u32' },
  { name: 'i_version', offset: 0x24, type: 'u32' },
  /** 60 bytes: extent tree root, fast symlink target, or device numbers. */
  { name: 'i_block', offset: 0x28, type: 'bytes', size: 60 },
  { name: 'i_generation', offset: 0x64, type: 'u32' },
  { name: 'i_file_acl_lo', offset: 0x68, type: 'u32' },
  { name: 'i_size_high', offset: 0x6c, type: 'u32' },
  { name: 'i_obso_faddr', offset: 0x70, type: 'u32' },
  { name: 'i_blocks_high', offset: 0x74, type: 'u16' },
  { name: 'i_file_acl_high', offset: 0x76, type: 'u16' },
  { name: 'i_uid_high', offset: 0x78, type: 'u16' },
  { name: 'i_gid_high', offset: 0x7a, type: 'u16' },
  { name: 'i_checksum_lo', offset: 0x7c, type: 'u16' },
  { name: 'i_reserved', offset: 0x7e, type: 'u16' },
  { name: 'i_extra_isize', offset: 0x80, type: 'u16' },
  { name: 'i_checksum_hi', offset: 0x82, type: 'u16' },
  { name: 'i_ctime_extra', offset: 0x84, type: 'u32' },
  { name: 'i_mtime_extra', offset: 0x88, type: 'u32' },
  { name: 'i_atime_extra', offset: 0x8c, type: 'u32' },
  { name: 'i_crtime', offset: 0x90, type: 'u32' },
  { name: 'i_crtime_extra', offset: 0x94, type: 'u32' },
  { name: 'i_version_hi', offset: 0x98, type: 'u32' },
  { name: 'i_projid', offset: 0x9c, type: 'u32' },
] as const;

export const InodeStruct = new Struct('ext4 inode', INODE_SIZE, FIELDS);
export type InodeValues = Values<typeof FIELDS>;

/** Offset of the in-inode xattr area (after the extra fields). */
export const IBODY_XATTR_OFFSET = GOOD_OLD_INODE_SIZE + 32;

/**
 * Seconds the writer stores: a signed 32-bit value plus two epoch bits reach 1901 … 2446, but
 * e2fsck reads times from 2310 on whose low word has the sign bit set as mis-encoded pre-1970
 * dates, so later times are clamped to 2310-04-04 (the kernel clamps past 2446 likewise).
 */
export const TIME_MIN = -(2 ** 31);
export const TIME_MAX = 3 * 2 ** 32 - 2 ** 31 - 1;

/**
 * Splits a timestamp into the 32-bit seconds field and the `_extra` field (two epoch bits,
 * then nanoseconds << 2), as the kernel does; out-of-range seconds are clamped.
 */
export function encodeTime(t: Timestamp): { sec: number; extra: number } {
  const sec = Math.min(TIME_MAX, Math.max(TIME_MIN, Math.floor(t.sec)));
  const low = sec | 0; // the signed 32-bit value the field holds
  const epoch = ((sec - low) / 2 ** 32) & 3;
  const nsec = Math.min(999_999_999, Math.max(0, Math.floor(t.nsec)));
  return { sec: low >>> 0, extra: (epoch | (nsec << 2)) >>> 0 };
}

export function decodeTime(field: number, extra: number | undefined): Timestamp {
  const base = field | 0;
  if (extra === undefined) return { sec: base, nsec: 0 };
  return { sec: base + (extra & 3) * 2 ** 32, nsec: extra >>> 2 };
}

/** Device numbers in i_block: the old 8:8 encoding in word 0 when both fit, else the new one in word 1. */
export function encodeDevice(major: number, minor: number, iBlock: Uint8Array): void {
  const view = new DataView(iBlock.buffer, iBlock.byteOffset, iBlock.byteLength);
  if (major < 256 && minor < 256) view.setUint32(0, (major << 8) | minor, true);
  else view.setUint32(4, ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, true);
}

export function decodeDevice(iBlock: Uint8Array): { major: number; minor: number } {
  const view = new DataView(iBlock.buffer, iBlock.byteOffset, iBlock.byteLength);
  const old = view.getUint32(0, true);
  if (old !== 0) return { major: (old >>> 8) & 0xff, minor: old & 0xff };
  const v = view.getUint32(4, true);
  return { major: (v >>> 8) & 0xfff, minor: (v & 0xff) | ((v >>> 12) & 0xfff00) };
}

/** Per-inode checksum seed: crc32c(fs seed, inode number, generation). */
export function inodeSeed(fsSeed: number, ino: number, generation: number): number {
  return crc32cU32(crc32cU32(fsSeed, ino), generation);
}

const ZERO2 = new Uint8Array(2);

/** i_checksum_hi exists when the extra fields reach past it (i_extra_isize >= 4). */
function hasChecksumHi(view: DataView, base: number, inodeSize: number): boolean {
  return inodeSize > GOOD_OLD_INODE_SIZE && view.getUint16(base + 0x80, true) >= 4;
}

/**
 * crc32c over the whole inode record with the checksum field(s) taken as zero, seeded per
 * inode. `inodeSize` is the on-disk record size (256).
 */
export function inodeChecksum(fsSeed: number, ino: number, buf: Uint8Array, base: number, inodeSize = INODE_SIZE): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const gen = view.getUint32(base + 0x64, true);
  let c = inodeSeed(fsSeed, ino, gen);
  c = crc32cUpdate(c, buf, base, base + 0x7c);
  c = crc32cUpdate(c, ZERO2);
  if (hasChecksumHi(view, base, inodeSize)) {
    c = crc32cUpdate(c, buf, base + 0x7e, base + 0x82);
    c = crc32cUpdate(c, ZERO2);
    c = crc32cUpdate(c, buf, base + 0x84, base + inodeSize);
  } else c = crc32cUpdate(c, buf, base + 0x7e, base + inodeSize);
  return c >>> 0;
}

/** Stores the checksum: low half always, high half where the inode has the field. */
export function setInodeChecksum(fsSeed: number, ino: number, buf: Uint8Array, base: number, inodeSize = INODE_SIZE): void {
  const c = inodeChecksum(fsSeed, ino, buf, base, inodeSize);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint16(base + 0x7c, c & 0xffff, true);
  if (hasChecksumHi(view, base, inodeSize)) view.setUint16(base + 0x82, c >>> 16, true);
}
