import { crc32cUpdate } from '../checksum/crc32c.js';
import { Struct } from '../struct.js';

/**
 * Extended attributes: in the inode after the extra fields (a 4-byte magic, then entries,
 * values packed from the end) and in one xattr block (a 32-byte header, entries, values
 * from the end of the block). Entries are sorted by (index, name length, name) in the block.
 */
export const XATTR_MAGIC = 0xea020000;

export const XattrIbodyHeader = new Struct('ext4 xattr ibody header', 4, [{ name: 'h_magic', offset: 0, type: 'u32' }] as const);

export const XattrBlockHeader = new Struct('ext4 xattr block header', 32, [
  { name: 'h_magic', offset: 0, type: 'u32' },
  { name: 'h_refcount', offset: 4, type: 'u32' },
  { name: 'h_blocks', offset: 8, type: 'u32' },
  { name: 'h_hash', offset: 12, type: 'u32' },
  { name: 'h_checksum', offset: 16, type: 'u32' },
  { name: 'h_reserved', offset: 20, type: 'bytes', size: 12 },
] as const);

/** An entry: 16 bytes, then the name (without its prefix), padded to 4 bytes. */
export const XattrEntry = new Struct('ext4 xattr entry', 16, [
  { name: 'e_name_len', offset: 0, type: 'u8' },
  { name: 'e_name_index', offset: 1, type: 'u8' },
  { name: 'e_value_offs', offset: 2, type: 'u16' },
  { name: 'e_value_inum', offset: 4, type: 'u32' },
  { name: 'e_value_size', offset: 8, type: 'u32' },
  { name: 'e_hash', offset: 12, type: 'u32' },
] as const);

export function xattrEntrySize(nameLen: number): number {
  return (16 + nameLen + 3) & ~3;
}
export function xattrValueSize(len: number): number {
  return (len + 3) & ~3;
}

/** Name prefixes and their index numbers (longest prefix first where they overlap). */
export const XATTR_PREFIXES: readonly (readonly [number, string])[] = [
  [2, 'system.posix_acl_access'],
  [3, 'system.posix_acl_default'],
  [1, 'user.'],
  [4, 'trusted.'],
  [6, 'security.'],
  [8, 'system.richacl'],
  [7, 'system.'],
];

export function splitXattrName(full: string): { index: number; suffix: string } | undefined {
  for (const [index, prefix] of XATTR_PREFIXES) {
    if (full.startsWith(prefix)) {
      if ((index === 2 || index === 3 || index === 8) && full !== prefix) continue;
      return { index, suffix: full.slice(prefix.length) };
    }
  }
  return undefined;
}

export function joinXattrName(index: number, suffix: string): string {
  const p = XATTR_PREFIXES.find(([i]) => i === index);
  return p ? p[1] + suffix : suffix;
}

/** ext2fs_ext_attr_hash_entry: name bytes then the value's 32-bit little-endian words. */
export function xattrEntryHash(name: Uint8Array, value: Uint8Array): number {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = ((hash << 5) ^ (hash >>> 27) ^ name[i]!) >>> 0;
  if (value.length > 0) {
    const words = xattrValueSize(value.length) / 4;
    for (let w = 0; w < words; w++) {
      const o = w * 4;
      const v = ((value[o] ?? 0) | ((value[o + 1] ?? 0) << 8) | ((value[o + 2] ?? 0) << 16) | ((value[o + 3] ?? 0) << 24)) >>> 0;
      hash = ((hash << 16) ^ (hash >>> 16) ^ v) >>> 0;
    }
  }
  return hash >>> 0;
}

/** The block header's h_hash: a rotation-mix of the entry hashes (0 if any entry has none). */
export function xattrBlockHash(entryHashes: readonly number[]): number {
  let hash = 0;
  for (const h of entryHashes) {
    if (h === 0) return 0;
    hash = ((hash << 16) ^ (hash >>> 16) ^ h) >>> 0;
  }
  return hash;
}

const ZERO4 = new Uint8Array(4);

/** crc32c(fs seed, 64-bit block number, block with h_checksum as zero). */
export function xattrBlockChecksum(fsSeed: number, blockNumber: number, block: Uint8Array): number {
  const num = new Uint8Array(8);
  const view = new DataView(num.buffer);
  view.setUint32(0, blockNumber % 2 ** 32, true);
  view.setUint32(4, Math.floor(blockNumber / 2 ** 32), true);
  const at = XattrBlockHeader.offsetOf('h_checksum');
  let c = crc32cUpdate(fsSeed, num);
  c = crc32cUpdate(c, block, 0, at);
  c = crc32cUpdate(c, ZERO4);
  return crc32cUpdate(c, block, at + 4, block.length);
}
