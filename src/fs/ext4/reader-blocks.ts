import { KilnError } from '../../errors.js';
import {
  ExtentHeader,
  EXTENT_MAGIC,
  EXTENT_MAX_LEN,
  ExtentTail,
  decodeExtentIndex,
  decodeExtentLeaf,
  extentBlockChecksum,
  extentTailOffset,
} from './extent.js';

/**
 * Where a file's logical blocks live: a sorted list of runs, from an extent tree (ext4) or the
 * classic direct/indirect block map (ext2/ext3). Logical blocks no run covers are holes.
 */
export interface BlockRun {
  logical: number;
  length: number;
  physical: number;
  /** An unwritten (preallocated) extent: reads as zeros. */
  unwritten?: boolean;
}

export interface BlockDevice {
  blockSize: number;
  /** Blocks in the filesystem: every block number read from the image must lie below it. */
  blocks: number;
  readBlock(block: number): Uint8Array;
}

/** The deepest extent tree ext4 builds (EXT4_MAX_EXTENT_DEPTH): a root deeper than this is damage. */
export const MAX_EXTENT_DEPTH = 5;

/**
 * Walks an extent tree whose root is the inode's i_block; `checkBlock` sees every extent block
 * read (for checksum verification). Every node is read once: a block met twice (index entries
 * that share a child, or point back up) is damage, so the walk is bounded by the image's size.
 */
export function extentRuns(dev: BlockDevice, iBlock: Uint8Array, where: string, checkBlock?: (block: Uint8Array, where: string) => void): BlockRun[] {
  const runs: BlockRun[] = [];
  const seen = new Set<number>();
  const visit = (node: Uint8Array, depthExpected: number | undefined, nodeWhere: string): void => {
    const h = ExtentHeader.decode(node, 0);
    if (h.eh_magic !== EXTENT_MAGIC) throw corrupt(`${nodeWhere}: bad extent header magic 0x${h.eh_magic.toString(16)}`);
    if (depthExpected !== undefined && h.eh_depth !== depthExpected) throw corrupt(`${nodeWhere}: extent depth ${h.eh_depth}, expected ${depthExpected}`);
    if (h.eh_depth > MAX_EXTENT_DEPTH) throw corrupt(`${nodeWhere}: extent tree depth ${h.eh_depth} is more than ext4's ${MAX_EXTENT_DEPTH}`);
    if (12 + h.eh_entries * 12 > node.length) throw corrupt(`${nodeWhere}: ${h.eh_entries} extent entries overrun the node`);
    let lastLogical = -1;
    for (let i = 0; i < h.eh_entries; i++) {
      const at = 12 + i * 12;
      if (h.eh_depth === 0) {
        const e = decodeExtentLeaf(node, at);
        const unwritten = e.length > EXTENT_MAX_LEN;
        const length = unwritten ? e.length - EXTENT_MAX_LEN : e.length;
        if (e.logical <= lastLogical) throw corrupt(`${nodeWhere}: extent ${i} starts at logical block ${e.logical}, not after the one before`);
        lastLogical = e.logical;
        if (length === 0) continue;
        if (!unwritten && (e.physical === 0 || e.physical + length > dev.blocks)) {
          throw corrupt(`${nodeWhere}: extent ${i} (blocks ${e.physical}–${e.physical + length - 1}) lies outside the filesystem's ${dev.blocks} blocks`);
        }
        runs.push({ logical: e.logical, length, physical: e.physical, ...(unwritten ? { unwritten } : {}) });
      } else {
        const idx = decodeExtentIndex(node, at);
        if (idx.logical <= lastLogical) throw corrupt(`${nodeWhere}: index entry ${i} starts at logical block ${idx.logical}, not after the one before`);
        lastLogical = idx.logical;
        if (seen.has(idx.child)) throw corrupt(`${nodeWhere}: extent block ${idx.child} is referenced twice (a loop or shared node in the extent tree)`);
        seen.add(idx.child);
        const child = dev.readBlock(idx.child);
        const childWhere = `${where}, extent block ${idx.child}`;
        checkBlock?.(child, childWhere);
        visit(child, h.eh_depth - 1, childWhere);
      }
    }
  };
  visit(iBlock, undefined, where);
  runs.sort((a, b) => a.logical - b.logical);
  for (let i = 1; i < runs.length; i++) {
    const a = runs[i - 1]!;
    if (runs[i]!.logical < a.logical + a.length) throw corrupt(`${where}: extents overlap at logical block ${runs[i]!.logical}`);
  }
  return runs;
}

/** Verifies an extent block's tail checksum; returns [stored, computed]. */
export function extentBlockSums(inodeSeed: number, block: Uint8Array): [number, number] {
  const tail = extentTailOffset(block);
  if (tail + 4 > block.length) return [0, 0];
  return [ExtentTail.get(block, 'et_checksum', tail) as number, extentBlockChecksum(inodeSeed, block)];
}

/**
 * The classic map: 12 direct pointers, then single, double and triple indirect blocks. Only
 * blocks below `blockCount` (the file size in blocks) are looked at. Each indirect block is read
 * once: one met again (pointing at itself, or shared) is damage, which bounds the walk by the
 * image's size whatever the file size claims.
 */
export function blockMapRuns(dev: BlockDevice, iBlock: Uint8Array, blockCount: number, where: string): BlockRun[] {
  const perBlock = dev.blockSize / 4;
  const runs: BlockRun[] = [];
  const seen = new Set<number>();
  const add = (logical: number, physical: number): void => {
    if (physical === 0) return;
    if (physical >= dev.blocks) throw corrupt(`${where}: logical block ${logical} maps to block ${physical}, beyond the filesystem's ${dev.blocks} blocks`);
    const last = runs[runs.length - 1];
    if (last && last.logical + last.length === logical && last.physical + last.length === physical) last.length++;
    else runs.push({ logical, length: 1, physical });
  };
  const words = (b: Uint8Array): Uint32Array => {
    const copy = new Uint32Array(b.length / 4);
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < copy.length; i++) copy[i] = view.getUint32(i * 4, true);
    return copy;
  };
  const root = words(iBlock);
  for (let i = 0; i < 12 && i < blockCount; i++) add(i, root[i]!);
  // Covers `span` logical blocks starting at `first` through an indirect block of `level`.
  const indirect = (block: number, level: number, first: number): void => {
    if (block === 0 || first >= blockCount) return;
    if (block >= dev.blocks) throw corrupt(`${where}: indirect block ${block} is beyond the filesystem's ${dev.blocks} blocks`);
    if (seen.has(block)) throw corrupt(`${where}: indirect block ${block} is used twice (a loop in the block map)`);
    seen.add(block);
    const ptrs = words(dev.readBlock(block));
    const span = perBlock ** (level - 1);
    for (let i = 0; i < perBlock; i++) {
      const logical = first + i * span;
      if (logical >= blockCount) break;
      if (level === 1) add(logical, ptrs[i]!);
      else indirect(ptrs[i]!, level - 1, logical);
    }
  };
  let first = 12;
  for (let level = 1; level <= 3; level++) {
    indirect(root[11 + level]!, level, first);
    first += perBlock ** level;
  }
  return runs;
}

export function corrupt(message: string): KilnError {
  return new KilnError('ext4-corrupt', message, 'the image is damaged or not ext2/3/4; e2fsck -fn tells more');
}
