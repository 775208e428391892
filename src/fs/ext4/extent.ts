import { crc32cUpdate } from '../checksum/crc32c.js';
import { Struct } from '../struct.js';

/** Extent tree nodes: a 12-byte header followed by 12-byte index or leaf entries. */
export const EXTENT_MAGIC = 0xf30a;
export const EXTENT_ENTRY_SIZE = 12;
/** An initialized extent covers at most 32768 blocks (longer lengths mean "unwritten"). */
export const EXTENT_MAX_LEN = 32768;
/** Entries in the inode's i_block (60 bytes). */
export const EXTENTS_IN_INODE = 4;

export const ExtentHeader = new Struct('ext4 extent header', 12, [
  { name: 'eh_magic', offset: 0, type: 'u16' },
  { name: 'eh_entries', offset: 2, type: 'u16' },
  { name: 'eh_max', offset: 4, type: 'u16' },
  { name: 'eh_depth', offset: 6, type: 'u16' },
  { name: 'eh_generation', offset: 8, type: 'u32' },
] as const);

/** Interior node entry: the first logical block covered and the child node's block. */
export const ExtentIndex = new Struct('ext4 extent index', 12, [
  { name: 'ei_block', offset: 0, type: 'u32' },
  { name: 'ei_leaf_lo', offset: 4, type: 'u32' },
  { name: 'ei_leaf_hi', offset: 8, type: 'u16' },
  { name: 'ei_unused', offset: 10, type: 'u16' },
] as const);

/** Leaf entry: logical block, length and physical start of one run. */
export const ExtentLeaf = new Struct('ext4 extent', 12, [
  { name: 'ee_block', offset: 0, type: 'u32' },
  { name: 'ee_len', offset: 4, type: 'u16' },
  { name: 'ee_start_hi', offset: 6, type: 'u16' },
  { name: 'ee_start_lo', offset: 8, type: 'u32' },
] as const);

/** Follows eh_max entries in an extent block. */
export const ExtentTail = new Struct('ext4 extent tail', 4, [{ name: 'et_checksum', offset: 0, type: 'u32' }] as const);

export interface Extent {
  /** First logical block. */
  logical: number;
  length: number;
  /** First physical block. */
  physical: number;
}

/** Entries that fit in one extent block. */
export function extentsPerBlock(blockSize: number): number {
  return Math.floor((blockSize - 12) / EXTENT_ENTRY_SIZE);
}

export function encodeExtentHeader(buf: Uint8Array, base: number, entries: number, max: number, depth: number): void {
  ExtentHeader.encode({ eh_magic: EXTENT_MAGIC, eh_entries: entries, eh_max: max, eh_depth: depth, eh_generation: 0 }, buf, base);
}

export function encodeExtentLeaf(buf: Uint8Array, base: number, e: Extent): void {
  ExtentLeaf.encode({ ee_block: e.logical, ee_len: e.length, ee_start_hi: Math.floor(e.physical / 2 ** 32), ee_start_lo: e.physical % 2 ** 32 }, buf, base);
}

export function encodeExtentIndex(buf: Uint8Array, base: number, logical: number, child: number): void {
  ExtentIndex.encode({ ei_block: logical, ei_leaf_lo: child % 2 ** 32, ei_leaf_hi: Math.floor(child / 2 ** 32), ei_unused: 0 }, buf, base);
}

export function decodeExtentLeaf(buf: Uint8Array, base: number): Extent {
  const v = ExtentLeaf.decode(buf, base);
  return { logical: v.ee_block, length: v.ee_len, physical: v.ee_start_lo + v.ee_start_hi * 2 ** 32 };
}

export function decodeExtentIndex(buf: Uint8Array, base: number): { logical: number; child: number } {
  const v = ExtentIndex.decode(buf, base);
  return { logical: v.ei_block, child: v.ei_leaf_lo + v.ei_leaf_hi * 2 ** 32 };
}

/** Offset of the tail checksum in an extent block: after eh_max entries. */
export function extentTailOffset(block: Uint8Array): number {
  return 12 + (ExtentHeader.get(block, 'eh_max') as number) * EXTENT_ENTRY_SIZE;
}

/** crc32c(inode seed, header and eh_max entries). */
export function extentBlockChecksum(inodeSeed: number, block: Uint8Array): number {
  return crc32cUpdate(inodeSeed, block, 0, extentTailOffset(block));
}

export function setExtentBlockChecksum(inodeSeed: number, block: Uint8Array): void {
  ExtentTail.encode({ et_checksum: extentBlockChecksum(inodeSeed, block) }, block, extentTailOffset(block));
}
