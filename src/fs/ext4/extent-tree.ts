import {
  EXTENT_ENTRY_SIZE,
  EXTENTS_IN_INODE,
  encodeExtentHeader,
  encodeExtentIndex,
  encodeExtentLeaf,
  extentsPerBlock,
  setExtentBlockChecksum,
  type Extent,
} from './extent.js';

/**
 * Builds an inode's extent tree: up to four extents live in i_block; more go into full leaf
 * blocks (340 per 4 KiB block) under as few index levels as needed, the shape e2fsck
 * considers optimal (it would otherwise offer to make the tree "shorter" or "narrower").
 */
export function extentTreeBlocks(extentCount: number, blockSize: number): number {
  let entries = extentCount;
  let blocks = 0;
  const per = extentsPerBlock(blockSize);
  while (entries > EXTENTS_IN_INODE) {
    entries = Math.ceil(entries / per);
    blocks += entries;
  }
  return blocks;
}

export interface ExtentTreeOutput {
  /** The 60 bytes of i_block. */
  iBlock: Uint8Array;
  /** Tree blocks with their block numbers, checksummed, in the order allocated. */
  blocks: { block: number; data: Uint8Array }[];
}

/**
 * `allocate()` returns one block number per call. `inodeSeed` seeds the tail checksums.
 */
export function buildExtentTree(extents: Extent[], blockSize: number, allocate: () => number, inodeSeed: number): ExtentTreeOutput {
  const iBlock = new Uint8Array(60);
  const blocks: { block: number; data: Uint8Array }[] = [];
  if (extents.length <= EXTENTS_IN_INODE) {
    encodeExtentHeader(iBlock, 0, extents.length, EXTENTS_IN_INODE, 0);
    extents.forEach((e, i) => encodeExtentLeaf(iBlock, 12 + i * EXTENT_ENTRY_SIZE, e));
    return { iBlock, blocks };
  }
  const per = extentsPerBlock(blockSize);
  // Level 0: leaf blocks of full runs of extents.
  let level: { logical: number; block: number }[] = [];
  for (let i = 0; i < extents.length; i += per) {
    const chunk = extents.slice(i, i + per);
    const data = new Uint8Array(blockSize);
    encodeExtentHeader(data, 0, chunk.length, per, 0);
    chunk.forEach((e, k) => encodeExtentLeaf(data, 12 + k * EXTENT_ENTRY_SIZE, e));
    setExtentBlockChecksum(inodeSeed, data);
    const block = allocate();
    blocks.push({ block, data });
    level.push({ logical: chunk[0]!.logical, block });
  }
  let depth = 1;
  while (level.length > EXTENTS_IN_INODE) {
    const up: { logical: number; block: number }[] = [];
    for (let i = 0; i < level.length; i += per) {
      const chunk = level.slice(i, i + per);
      const data = new Uint8Array(blockSize);
      encodeExtentHeader(data, 0, chunk.length, per, depth);
      chunk.forEach((e, k) => encodeExtentIndex(data, 12 + k * EXTENT_ENTRY_SIZE, e.logical, e.block));
      setExtentBlockChecksum(inodeSeed, data);
      const block = allocate();
      blocks.push({ block, data });
      up.push({ logical: chunk[0]!.logical, block });
    }
    level = up;
    depth++;
  }
  encodeExtentHeader(iBlock, 0, level.length, EXTENTS_IN_INODE, depth);
  level.forEach((e, i) => encodeExtentIndex(iBlock, 12 + i * EXTENT_ENTRY_SIZE, e.logical, e.block));
  return { iBlock, blocks };
}

/** Appends a run to an extent list, merging with the last extent where contiguous. */
export function addRun(extents: Extent[], logical: number, physical: number, length: number, maxLen: number): void {
  while (length > 0) {
    const last = extents[extents.length - 1];
    if (last && last.logical + last.length === logical && last.physical + last.length === physical && last.length < maxLen) {
      const take = Math.min(length, maxLen - last.length);
      last.length += take;
      logical += take;
      physical += take;
      length -= take;
      continue;
    }
    const take = Math.min(length, maxLen);
    extents.push({ logical, physical, length: take });
    logical += take;
    physical += take;
    length -= take;
  }
}
