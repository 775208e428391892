import { crc32cUpdate } from '../checksum/crc32c.js';
import { Struct } from '../struct.js';
import { FT_DIR_CSUM } from './constants.js';

/** A directory entry (ext4_dir_entry_2): 8 bytes then the name, padded to 4 bytes. */
export const Dirent = new Struct('ext4 dir entry', 8, [
  { name: 'inode', offset: 0, type: 'u32' },
  { name: 'rec_len', offset: 4, type: 'u16' },
  { name: 'name_len', offset: 6, type: 'u8' },
  { name: 'file_type', offset: 7, type: 'u8' },
] as const);

/** The fake entry ending each leaf block with metadata_csum: inode 0, rec_len 12, type 0xDE. */
export const DirentTail = new Struct('ext4 dir entry tail', 12, [
  { name: 'det_reserved_zero1', offset: 0, type: 'u32' },
  { name: 'det_rec_len', offset: 4, type: 'u16' },
  { name: 'det_reserved_zero2', offset: 6, type: 'u8' },
  { name: 'det_reserved_ft', offset: 7, type: 'u8' },
  { name: 'det_checksum', offset: 8, type: 'u32' },
] as const);
export const DIRENT_TAIL_SIZE = 12;

/** Space an entry with a name of `nameLen` bytes needs. */
export function direntSize(nameLen: number): number {
  return (8 + nameLen + 3) & ~3;
}

export function encodeDirent(buf: Uint8Array, base: number, inode: number, recLen: number, fileType: number, name: Uint8Array): void {
  // Hot path (one call per name): plain byte stores in the layout of the table above.
  buf[base] = inode & 0xff;
  buf[base + 1] = (inode >>> 8) & 0xff;
  buf[base + 2] = (inode >>> 16) & 0xff;
  buf[base + 3] = (inode >>> 24) & 0xff;
  buf[base + 4] = recLen & 0xff;
  buf[base + 5] = recLen >>> 8;
  buf[base + 6] = name.length;
  buf[base + 7] = fileType;
  buf.set(name, base + 8);
}

/** Writes the checksum tail into the last 12 bytes of a leaf block and fills in its checksum. */
export function setDirBlockTail(inodeSeed: number, block: Uint8Array): void {
  const at = block.length - DIRENT_TAIL_SIZE;
  DirentTail.encode({ det_reserved_zero1: 0, det_rec_len: DIRENT_TAIL_SIZE, det_reserved_zero2: 0, det_reserved_ft: FT_DIR_CSUM }, block, at);
  DirentTail.encode({ det_checksum: crc32cUpdate(inodeSeed, block, 0, at) }, block, at);
}

/** True when the block ends with a checksum tail. */
export function hasDirBlockTail(block: Uint8Array): boolean {
  const t = DirentTail.decode(block, block.length - DIRENT_TAIL_SIZE);
  return t.det_reserved_zero1 === 0 && t.det_rec_len === DIRENT_TAIL_SIZE && t.det_reserved_ft === FT_DIR_CSUM;
}

export function dirBlockChecksum(inodeSeed: number, block: Uint8Array): number {
  return crc32cUpdate(inodeSeed, block, 0, block.length - DIRENT_TAIL_SIZE);
}
