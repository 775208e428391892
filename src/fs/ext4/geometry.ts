import { DESC_SIZE, INODE_SIZE } from './constants.js';
import { groupHasSuper } from './superblock.js';

/**
 * Where things go for a given block count: groups, inodes per group, the superblock and
 * descriptor copies. Follows ext2fs_initialize: inodes fill whole inode-table blocks, and
 * a last group too small to carry its own metadata (plus 50 blocks) is dropped.
 */
export interface Geometry {
  blockSize: number;
  blocks: number;
  firstDataBlock: number;
  blocksPerGroup: number;
  groups: number;
  inodesPerGroup: number;
  inodeTableBlocks: number;
  gdtBlocks: number;
  inodes: number;
}

export function groupStart(g: Geometry, group: number): number {
  return g.firstDataBlock + group * g.blocksPerGroup;
}

/** Undefined when no filesystem of this kind fits in `blocks`. */
export function computeGeometry(blocks: number, blockSize: number, inodeRatio: number): Geometry | undefined {
  const firstDataBlock = blockSize === 1024 ? 1 : 0;
  const blocksPerGroup = blockSize * 8;
  const perBlock = blockSize / INODE_SIZE;
  const maxIpg = Math.min(blockSize * 8, 65536 - perBlock);
  const wantInodes = Math.max(12, Math.min(2 ** 32 - 1, Math.floor((blocks * blockSize) / inodeRatio)));
  for (;;) {
    if (blocks <= firstDataBlock + 16) return undefined;
    const groups = Math.ceil((blocks - firstDataBlock) / blocksPerGroup);
    const gdtBlocks = Math.ceil((groups * DESC_SIZE) / blockSize);
    let ipg = Math.min(maxIpg, Math.ceil(wantInodes / groups));
    let inodeTableBlocks = Math.ceil((ipg * INODE_SIZE) / blockSize);
    ipg = ((inodeTableBlocks * blockSize) / INODE_SIZE) & ~7;
    if (ipg > maxIpg) ipg = Math.floor(maxIpg / perBlock) * perBlock;
    inodeTableBlocks = Math.ceil((ipg * INODE_SIZE) / blockSize);
    let overhead = 3 + inodeTableBlocks;
    if (groupHasSuper(groups - 1)) overhead += 1 + gdtBlocks;
    if (overhead > blocksPerGroup) return undefined;
    const rem = (blocks - firstDataBlock) % blocksPerGroup;
    if (groups === 1 && rem > 0 && rem < overhead) return undefined;
    if (rem > 0 && rem < overhead + 50) {
      blocks -= rem;
      continue;
    }
    if (groups * ipg > 2 ** 32 - 1) return undefined;
    return { blockSize, blocks, firstDataBlock, blocksPerGroup, groups, inodesPerGroup: ipg, inodeTableBlocks, gdtBlocks, inodes: groups * ipg };
  }
}

/** Block ranges [start, end) holding a superblock and descriptor table (group 0 includes the boot block). */
export function superRanges(g: Geometry): [number, number][] {
  const out: [number, number][] = [];
  for (let grp = 0; grp < g.groups; grp++) {
    if (!groupHasSuper(grp)) continue;
    const start = grp === 0 ? 0 : groupStart(g, grp);
    out.push([start, groupStart(g, grp) + 1 + g.gdtBlocks]);
  }
  return out;
}

/**
 * Hands out blocks in increasing order, stepping over the superblock copies. Contiguous
 * requests (inode tables) that do not fit before the next copy leave a gap, which later
 * single-block and data requests fill first. Nothing is ever freed, so the used set is
 * "everything below the cursor except the open gaps, plus the fixed ranges".
 */
export class BlockAllocator {
  private cursor: number;
  private fixedIndex = 0;
  readonly gaps: [number, number][] = [];

  constructor(
    readonly limit: number,
    readonly fixed: [number, number][],
    start: number,
  ) {
    this.cursor = start;
    this.skipFixed();
  }

  private skipFixed(): void {
    while (this.fixedIndex < this.fixed.length) {
      const [s, e] = this.fixed[this.fixedIndex]!;
      if (this.cursor >= e) this.fixedIndex++;
      else if (this.cursor >= s) {
        this.cursor = e;
        this.fixedIndex++;
      } else break;
    }
  }

  private nextFixedStart(): number {
    return this.fixedIndex < this.fixed.length ? this.fixed[this.fixedIndex]![0] : this.limit;
  }

  get next(): number {
    return this.cursor;
  }

  /** Up to `max` contiguous blocks (at least one); undefined when the filesystem is full. */
  run(max: number): [number, number] | undefined {
    if (this.gaps.length > 0) {
      const gap = this.gaps[0]!;
      const len = Math.min(max, gap[1] - gap[0]);
      const start = gap[0];
      gap[0] += len;
      if (gap[0] >= gap[1]) this.gaps.shift();
      return [start, len];
    }
    this.skipFixed();
    const room = Math.min(this.nextFixedStart(), this.limit) - this.cursor;
    if (room <= 0) return undefined;
    const len = Math.min(max, room);
    const start = this.cursor;
    this.cursor += len;
    return [start, len];
  }

  /** Exactly `len` contiguous blocks, from the cursor onwards (gaps are not used). */
  contiguous(len: number): number | undefined {
    for (;;) {
      this.skipFixed();
      const end = Math.min(this.nextFixedStart(), this.limit);
      if (this.cursor + len <= end) {
        const start = this.cursor;
        this.cursor += len;
        return start;
      }
      if (end >= this.limit) return undefined;
      if (end > this.cursor) this.gaps.push([this.cursor, end]);
      this.cursor = end;
    }
  }

  /** Blocks in use: [firstBlock, cursor) minus gaps, plus the fixed ranges. */
  usedRanges(firstBlock: number): [number, number][] {
    const out: [number, number][] = [];
    let at = firstBlock;
    for (const [s, e] of [...this.gaps].sort((a, b) => a[0] - b[0])) {
      if (s > at) out.push([at, s]);
      at = e;
    }
    if (this.cursor > at) out.push([at, this.cursor]);
    for (const r of this.fixed) out.push(r);
    return out;
  }
}
