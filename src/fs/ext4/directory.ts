import { KilnError } from '../../errors.js';
import { FT, HASH } from './constants.js';
import { DIRENT_TAIL_SIZE, direntSize, encodeDirent, setDirBlockTail } from './dirent.js';
import {
  DX_NODE_ENTRIES_OFFSET,
  DX_ROOT_ENTRIES_OFFSET,
  DX_ROOT_INFO_OFFSET,
  DxCountLimit,
  DxEntry,
  DxRootInfo,
  dirHash,
  dxLimit,
  setDxChecksum,
} from './htree.js';

/**
 * Directory contents: a single linear block when everything fits, else an htree (dx_root,
 * optional dx_nodes, hash-ordered leaf blocks). The layout depends only on the names, the
 * block size and the hash seed, so planning and writing compute the same block count.
 */
export interface DirChild {
  name: Uint8Array;
  ino: number;
  fileType: number;
}

export interface DirLayout {
  blocks: number;
  htree: boolean;
  children: DirChild[];
  /** Linear: first child index of each block (block 0 also holds '.' and '..'). Htree: of each leaf, in `order`. */
  starts: number[];
  /** Htree: children indices sorted by hash. */
  order?: Uint32Array;
  /** Htree: hash of each leaf's index entry (bit 0 set when a hash run continues from the previous leaf). */
  leafHashes?: number[];
  /** Htree: leaves per dx_node (empty when the root indexes the leaves directly). */
  nodeSizes?: number[];
}

const DOT_SIZE = 12;

/** Packs entries greedily into blocks of `usable` bytes; returns each block's first index. */
function pack(children: DirChild[], order: ArrayLike<number> | undefined, usable: number, firstBlockUsed: number): number[] {
  const starts = [0];
  let used = firstBlockUsed;
  for (let i = 0; i < children.length; i++) {
    const c = children[order ? order[i]! : i]!;
    const size = direntSize(c.name.length);
    if (used + size > usable) {
      starts.push(i);
      used = 0;
    }
    used += size;
  }
  return starts;
}

export function layoutDirectory(children: DirChild[], blockSize: number, hashSeed: Uint8Array, minBlocks = 1): DirLayout {
  const usable = blockSize - DIRENT_TAIL_SIZE;
  const linear = pack(children, undefined, usable, 2 * DOT_SIZE);
  if (linear.length === 1 || linear.length <= minBlocks) {
    return { blocks: Math.max(linear.length, minBlocks), htree: false, children, starts: linear };
  }
  const hashes = new Uint32Array(children.length);
  const minors = new Uint32Array(children.length);
  for (let i = 0; i < children.length; i++) {
    const h = dirHash(children[i]!.name, HASH.HALF_MD4, hashSeed);
    hashes[i] = h.hash;
    minors[i] = h.minor;
  }
  const order = new Uint32Array(children.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => hashes[a]! - hashes[b]! || minors[a]! - minors[b]! || a - b);
  const starts = pack(children, order, usable, 0);
  const leafHashes = starts.map((s, i) => {
    if (i === 0) return 0;
    const h = hashes[order[s]!]!;
    return h === hashes[order[s - 1]!]! ? h | 1 : h;
  });
  const rootLimit = dxLimit(blockSize, DX_ROOT_ENTRIES_OFFSET);
  const nodeLimit = dxLimit(blockSize, DX_NODE_ENTRIES_OFFSET);
  let nodeSizes: number[] = [];
  if (starts.length > rootLimit) {
    const nodes = Math.ceil(starts.length / nodeLimit);
    if (nodes > rootLimit) {
      throw new KilnError(
        'dir-too-large',
        `a directory with ${children.length} entries needs ${starts.length} blocks, more than a two-level htree indexes (${rootLimit * nodeLimit})`,
        'split the directory',
      );
    }
    const per = Math.ceil(starts.length / nodes);
    nodeSizes = [];
    for (let left = starts.length; left > 0; left -= per) nodeSizes.push(Math.min(per, left));
  }
  return { blocks: 1 + starts.length + nodeSizes.length, htree: true, children, starts, order, leafHashes, nodeSizes };
}

/** Fills `block` (zeroed) with children [from, to) of the given order; the last entry absorbs the slack. */
function renderLeaf(block: Uint8Array, layout: DirLayout, from: number, to: number, at: number, order: ArrayLike<number> | undefined): void {
  const usable = block.length - DIRENT_TAIL_SIZE;
  let last = -1;
  for (let i = from; i < to; i++) {
    const c = layout.children[order ? order[i]! : i]!;
    const size = direntSize(c.name.length);
    encodeDirent(block, at, c.ino, size, c.fileType, c.name);
    last = at;
    at += size;
  }
  if (last < 0) encodeDirent(block, at, 0, usable - at, 0, EMPTY);
  else {
    block[last + 4] = (usable - last) & 0xff;
    block[last + 5] = (usable - last) >>> 8;
  }
}

const EMPTY = new Uint8Array(0);
const DOT = new Uint8Array([0x2e]);
const DOTDOT = new Uint8Array([0x2e, 0x2e]);

/** Renders every block of the directory, in logical order, into one buffer. */
export function renderDirectory(layout: DirLayout, ino: number, parentIno: number, blockSize: number, inodeSeed: number): Uint8Array {
  const out = new Uint8Array(layout.blocks * blockSize);
  const blockAt = (i: number): Uint8Array => out.subarray(i * blockSize, (i + 1) * blockSize);
  const n = layout.children.length;
  if (!layout.htree) {
    for (let b = 0; b < layout.blocks; b++) {
      const block = blockAt(b);
      let at = 0;
      if (b === 0) {
        encodeDirent(block, 0, ino, DOT_SIZE, FT.DIR, DOT);
        encodeDirent(block, DOT_SIZE, parentIno, DOT_SIZE, FT.DIR, DOTDOT);
        at = 2 * DOT_SIZE;
      }
      const from = b < layout.starts.length ? layout.starts[b]! : n;
      const to = b + 1 < layout.starts.length ? layout.starts[b + 1]! : n;
      if (b === 0 && from === to) {
        // Only '.' and '..': '..' spans the block.
        const rec = blockSize - DIRENT_TAIL_SIZE - DOT_SIZE;
        block[DOT_SIZE + 4] = rec & 0xff;
        block[DOT_SIZE + 5] = rec >>> 8;
      } else renderLeaf(block, layout, from, to, at, undefined);
      setDirBlockTail(inodeSeed, block);
    }
    return out;
  }
  const order = layout.order!;
  const leaves = layout.starts.length;
  const leafHashes = layout.leafHashes!;
  for (let l = 0; l < leaves; l++) {
    const block = blockAt(1 + l);
    renderLeaf(block, layout, layout.starts[l]!, l + 1 < leaves ? layout.starts[l + 1]! : n, 0, order);
    setDirBlockTail(inodeSeed, block);
  }
  const root = blockAt(0);
  encodeDirent(root, 0, ino, DOT_SIZE, FT.DIR, DOT);
  encodeDirent(root, DOT_SIZE, parentIno, blockSize - DOT_SIZE, FT.DIR, DOTDOT);
  const nodeSizes = layout.nodeSizes!;
  DxRootInfo.encode(
    { reserved_zero: 0, hash_version: HASH.HALF_MD4, info_length: 8, indirect_levels: nodeSizes.length > 0 ? 1 : 0, unused_flags: 0 },
    root,
    DX_ROOT_INFO_OFFSET,
  );
  const writeIndex = (block: Uint8Array, offset: number, limit: number, entries: { hash: number; block: number }[]): void => {
    DxCountLimit.encode({ limit, count: entries.length, block: entries[0]!.block }, block, offset);
    for (let i = 1; i < entries.length; i++) DxEntry.encode(entries[i]!, block, offset + i * 8);
  };
  const rootLimit = dxLimit(blockSize, DX_ROOT_ENTRIES_OFFSET);
  if (nodeSizes.length === 0) {
    writeIndex(
      root,
      DX_ROOT_ENTRIES_OFFSET,
      rootLimit,
      leafHashes.map((hash, l) => ({ hash, block: 1 + l })),
    );
  } else {
    const nodeLimit = dxLimit(blockSize, DX_NODE_ENTRIES_OFFSET);
    const rootEntries: { hash: number; block: number }[] = [];
    let first = 0;
    nodeSizes.forEach((size, k) => {
      const nodeBlock = 1 + leaves + k;
      const node = blockAt(nodeBlock);
      encodeDirent(node, 0, 0, blockSize, 0, EMPTY);
      const entries: { hash: number; block: number }[] = [];
      for (let l = first; l < first + size; l++) entries.push({ hash: leafHashes[l]!, block: 1 + l });
      writeIndex(node, DX_NODE_ENTRIES_OFFSET, nodeLimit, entries);
      setDxChecksum(inodeSeed, node, DX_NODE_ENTRIES_OFFSET);
      rootEntries.push({ hash: leafHashes[first]!, block: nodeBlock });
      first += size;
    });
    writeIndex(root, DX_ROOT_ENTRIES_OFFSET, rootLimit, rootEntries);
  }
  setDxChecksum(inodeSeed, root, DX_ROOT_ENTRIES_OFFSET);
  return out;
}
