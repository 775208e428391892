import { Dirent } from './dirent.js';
import { DX_NODE_ENTRIES_OFFSET, DX_ROOT_INFO_OFFSET, DxCountLimit, DxEntry, DxRootInfo, dirHash } from './htree.js';
import { corrupt } from './reader-blocks.js';

/** A live entry of a directory block (inode ≠ 0). */
export interface RawDirent {
  ino: number;
  fileType: number;
  name: Uint8Array;
}

/**
 * The entries of a run of directory records (a leaf block, or the inline-data area). Index
 * blocks of a hashed directory parse too: their index data hides in a record with inode 0
 * (dx nodes) or behind '..' (dx root), so a linear scan lists exactly the names.
 */
export function parseDirents(buf: Uint8Array, start: number, end: number, where: string): RawDirent[] {
  const out: RawDirent[] = [];
  let at = start;
  while (at + 8 <= end) {
    const ino = Dirent.get(buf, 'inode', at) as number;
    const recLen = Dirent.get(buf, 'rec_len', at) as number;
    const nameLen = Dirent.get(buf, 'name_len', at) as number;
    // rec_len 0 means 65536 in 64 KiB blocks (EXT4_MAX_REC_LEN encoding).
    const len = recLen === 0 && end - at === 65536 ? 65536 : recLen;
    if (len < 8 || len % 4 !== 0 || at + len > end) throw corrupt(`${where}: bad directory record length ${recLen} at byte ${at - start}`);
    if (ino !== 0) {
      if (8 + nameLen > len) throw corrupt(`${where}: name of length ${nameLen} overruns its record at byte ${at - start}`);
      out.push({ ino, fileType: Dirent.get(buf, 'file_type', at) as number, name: buf.subarray(at + 8, at + 8 + nameLen) });
    }
    at += len;
  }
  return out;
}

export interface DxRoot {
  hashVersion: number;
  levels: number;
  /** Byte offset of the count/limit header. */
  entriesOffset: number;
}

export function parseDxRoot(block: Uint8Array, where: string): DxRoot {
  const info = DxRootInfo.decode(block, DX_ROOT_INFO_OFFSET);
  if (info.reserved_zero !== 0 || info.info_length !== 8) throw corrupt(`${where}: bad htree root (info length ${info.info_length})`);
  if (info.indirect_levels > 2) throw corrupt(`${where}: htree depth ${info.indirect_levels} is more than ext4 allows`);
  return { hashVersion: info.hash_version, levels: info.indirect_levels, entriesOffset: DX_ROOT_INFO_OFFSET + info.info_length };
}

export interface DxPair {
  /** Lowest hash of the subtree; bit 0 set = continues a hash run from the previous block. */
  hash: number;
  block: number;
}

/** The (hash, block) pairs of a root or node; the first pair's hash is implicitly 0. */
export function dxPairs(block: Uint8Array, entriesOffset: number, where: string): DxPair[] {
  const cl = DxCountLimit.decode(block, entriesOffset);
  if (cl.count === 0 || cl.count > cl.limit || entriesOffset + cl.limit * 8 > block.length) {
    throw corrupt(`${where}: bad htree count ${cl.count} / limit ${cl.limit}`);
  }
  const out: DxPair[] = [{ hash: 0, block: cl.block }];
  for (let i = 1; i < cl.count; i++) {
    const e = DxEntry.decode(block, entriesOffset + i * 8);
    out.push({ hash: e.hash, block: e.block });
  }
  return out;
}

/** Index of the last pair whose hash ≤ `hash` (the subtree a name with that hash lives in). */
export function dxFind(pairs: DxPair[], hash: number): number {
  let lo = 1;
  let hi = pairs.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pairs[mid]!.hash >>> 0 <= hash) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export { DX_NODE_ENTRIES_OFFSET, dirHash };
