import { crc32cU32, crc32cUpdate } from '../checksum/crc32c.js';
import { Struct, type Values } from '../struct.js';
import { DESC_SIZE } from './constants.js';

/** A 64-byte (64bit feature) block group descriptor; the table follows the superblock. */
const FIELDS = [
  { name: 'bg_block_bitmap_lo', offset: 0x0, type: 'u32' },
  { name: 'bg_inode_bitmap_lo', offset: 0x4, type: 'u32' },
  { name: 'bg_inode_table_lo', offset: 0x8, type: 'u32' },
  { name: 'bg_free_blocks_count_lo', offset: 0xc, type: 'u16' },
  { name: 'bg_free_inodes_count_lo', offset: 0xe, type: 'u16' },
  { name: 'bg_used_dirs_count_lo', offset: 0x10, type: 'u16' },
  { name: 'bg_flags', offset: 0x12, type: 'u16' },
  { name: 'bg_exclude_bitmap_lo', offset: 0x14, type: 'u32' },
  { name: 'bg_block_bitmap_csum_lo', offset: 0x18, type: 'u16' },
  { name: 'bg_inode_bitmap_csum_lo', offset: 0x1a, type: 'u16' },
  { name: 'bg_itable_unused_lo', offset: 0x1c, type: 'u16' },
  { name: 'bg_checksum', offset: 0x1e, type: 'u16' },
  { name: 'bg_block_bitmap_hi', offset: 0x20, type: 'u32' },
  { name: 'bg_inode_bitmap_hi', offset: 0x24, type: 'u32' },
  { name: 'bg_inode_table_hi', offset: 0x28, type: 'u32' },
  { name: 'bg_free_blocks_count_hi', offset: 0x2c, type: 'u16' },
  { name: 'bg_free_inodes_count_hi', offset: 0x2e, type: 'u16' },
  { name: 'bg_used_dirs_count_hi', offset: 0x30, type: 'u16' },
  { name: 'bg_itable_unused_hi', offset: 0x32, type: 'u16' },
  { name: 'bg_exclude_bitmap_hi', offset: 0x34, type: 'u32' },
  { name: 'bg_block_bitmap_csum_hi', offset: 0x38, type: 'u16' },
  { name: 'bg_inode_bitmap_csum_hi', offset: 0x3a, type: 'u16' },
  { name: 'bg_reserved', offset: 0x3c, type: 'u32' },
] as const;

export const GroupDescriptor = new Struct('ext4 group descriptor', DESC_SIZE, FIELDS);
export type GroupDescriptorValues = Values<typeof FIELDS>;

/** A descriptor in plain numbers (64-bit fields joined). */
export interface GroupInfo {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocks: number;
  freeInodes: number;
  usedDirs: number;
  flags: number;
  itableUnused: number;
  blockBitmapCsum: number;
  inodeBitmapCsum: number;
}

const HI = 2 ** 32;

export function encodeGroupDescriptor(g: GroupInfo, buf: Uint8Array, base: number): void {
  GroupDescriptor.encode(
    {
      bg_block_bitmap_lo: g.blockBitmap % HI,
      bg_block_bitmap_hi: Math.floor(g.blockBitmap / HI),
      bg_inode_bitmap_lo: g.inodeBitmap % HI,
      bg_inode_bitmap_hi: Math.floor(g.inodeBitmap / HI),
      bg_inode_table_lo: g.inodeTable % HI,
      bg_inode_table_hi: Math.floor(g.inodeTable / HI),
      bg_free_blocks_count_lo: g.freeBlocks & 0xffff,
      bg_free_blocks_count_hi: g.freeBlocks >>> 16,
      bg_free_inodes_count_lo: g.freeInodes & 0xffff,
      bg_free_inodes_count_hi: g.freeInodes >>> 16,
      bg_used_dirs_count_lo: g.usedDirs & 0xffff,
      bg_used_dirs_count_hi: g.usedDirs >>> 16,
      bg_flags: g.flags,
      bg_itable_unused_lo: g.itableUnused & 0xffff,
      bg_itable_unused_hi: g.itableUnused >>> 16,
      bg_block_bitmap_csum_lo: g.blockBitmapCsum & 0xffff,
      bg_block_bitmap_csum_hi: g.blockBitmapCsum >>> 16,
      bg_inode_bitmap_csum_lo: g.inodeBitmapCsum & 0xffff,
      bg_inode_bitmap_csum_hi: g.inodeBitmapCsum >>> 16,
    },
    buf,
    base,
  );
}

export function decodeGroupDescriptor(buf: Uint8Array, base: number, descSize = DESC_SIZE): GroupInfo {
  const d = GroupDescriptor.decode(buf, base);
  const wide = descSize >= 64;
  const hi = (v: number): number => (wide ? v : 0);
  return {
    blockBitmap: d.bg_block_bitmap_lo + hi(d.bg_block_bitmap_hi) * HI,
    inodeBitmap: d.bg_inode_bitmap_lo + hi(d.bg_inode_bitmap_hi) * HI,
    inodeTable: d.bg_inode_table_lo + hi(d.bg_inode_table_hi) * HI,
    freeBlocks: d.bg_free_blocks_count_lo + hi(d.bg_free_blocks_count_hi) * 65536,
    freeInodes: d.bg_free_inodes_count_lo + hi(d.bg_free_inodes_count_hi) * 65536,
    usedDirs: d.bg_used_dirs_count_lo + hi(d.bg_used_dirs_count_hi) * 65536,
    flags: d.bg_flags,
    itableUnused: d.bg_itable_unused_lo + hi(d.bg_itable_unused_hi) * 65536,
    blockBitmapCsum: d.bg_block_bitmap_csum_lo + hi(d.bg_block_bitmap_csum_hi) * 65536,
    inodeBitmapCsum: d.bg_inode_bitmap_csum_lo + hi(d.bg_inode_bitmap_csum_hi) * 65536,
  };
}

/** metadata_csum: low 16 bits of crc32c(seed, group number, descriptor with bg_checksum as 0). */
export function groupDescriptorChecksum(seed: number, group: number, buf: Uint8Array, base: number, descSize = DESC_SIZE): number {
  const at = GroupDescriptor.offsetOf('bg_checksum');
  let c = crc32cU32(seed, group);
  c = crc32cUpdate(c, buf, base, base + at);
  c = crc32cUpdate(c, ZERO2);
  c = crc32cUpdate(c, buf, base + at + 2, base + descSize);
  return c & 0xffff;
}

const ZERO2 = new Uint8Array(2);

export function setGroupDescriptorChecksum(seed: number, group: number, buf: Uint8Array, base: number): void {
  GroupDescriptor.encode({ bg_checksum: groupDescriptorChecksum(seed, group, buf, base) }, buf, base);
}
