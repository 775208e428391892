import { KilnError } from '../../errors.js';
import { putNameBytes } from '../name-bytes.js';
import { grown } from '../typed-array.js';
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
 * The entries of a tree's directories in flat arrays: each entry's name bytes, inode number and
 * file type (an object and a byte view per entry would cost about 140 bytes of heap; this costs
 * the name and 9). An entry is its index here; a directory is the indices of its entries.
 */
export class DirEntryStore {
  private names = new Uint8Array(1 << 16);
  /** Where each entry's name starts; entry i's ends where entry i + 1's starts. */
  private nameAt = new Uint32Array(1024);
  private inos = new Uint32Array(1024);
  private types = new Uint8Array(1024);
  private count = 0;

  /** Adds an entry; returns its index. */
  add(name: string, ino: number, fileType: number): number {
    const i = this.count;
    if (i + 2 > this.nameAt.length) {
      this.nameAt = grown(this.nameAt, this.nameAt.length * 2);
      this.inos = grown(this.inos, this.nameAt.length);
      this.types = grown(this.types, this.nameAt.length);
    }
    const at = this.nameAt[i]!;
    if (at + name.length * 3 > this.names.length) this.names = grown(this.names, Math.max(this.names.length * 2, at + name.length * 3));
    this.nameAt[i + 1] = at + putNameBytes(name, this.names, at);
    this.inos[i] = ino;
    this.types[i] = fileType;
    this.count++;
    return i;
  }

  nameLength(i: number): number {
    return this.nameAt[i + 1]! - this.nameAt[i]!;
  }

  name(i: number): Uint8Array {
    return this.names.subarray(this.nameAt[i]!, this.nameAt[i + 1]!);
  }

  ino(i: number): number {
    return this.inos[i]!;
  }

  fileType(i: number): number {
    return this.types[i]!;
  }

  /** Gives back the room kept for more entries (once every entry is added). */
  trim(): void {
    this.names = this.names.slice(0, this.nameAt[this.count]);
    this.nameAt = this.nameAt.slice(0, this.count + 1);
    this.inos = this.inos.slice(0, this.count);
    this.types = this.types.slice(0, this.count);
  }
}

/**
 * Directory contents: a single linear block when everything fits, else an htree (dx_root,
 * optional dx_nodes, hash-ordered leaf blocks). The layout depends only on the names, the
 * block size and the hash seed, so planning and writing compute the same block count.
 */
export interface DirLayout {
  blocks: number;
  htree: boolean;
  store: DirEntryStore;
  /** The directory's entries (indices into `store`), in name order. */
  entries: Uint32Array;
  /** Linear: first entry's position of each block (block 0 also holds '.' and '..'). Htree: of each leaf, in `order`. */
  starts: number[];
  /** Htree: positions in `entries` sorted by hash. */
  order?: Uint32Array;
  /** Htree: hash of each leaf's index entry (bit 0 set when a hash run continues from the previous leaf). */
  leafHashes?: number[];
  /** Htree: leaves per dx_node (empty when the root indexes the leaves directly). */
  nodeSizes?: number[];
}

const DOT_SIZE = 12;

/** Packs entries greedily into blocks of `usable` bytes; returns each block's first index. */
function pack(store: DirEntryStore, entries: Uint32Array, order: ArrayLike<number> | undefined, usable: number, firstBlockUsed: number): number[] {
  const starts = [0];
  let used = firstBlockUsed;
  for (let i = 0; i < entries.length; i++) {
    const size = direntSize(store.nameLength(entries[order ? order[i]! : i]!));
    if (used + size > usable) {
      starts.push(i);
      used = 0;
    }
    used += size;
  }
  return starts;
}

export function layoutDirectory(store: DirEntryStore, entries: Uint32Array, blockSize: number, hashSeed: Uint8Array, minBlocks = 1): DirLayout {
  const usable = blockSize - DIRENT_TAIL_SIZE;
  const linear = pack(store, entries, undefined, usable, 2 * DOT_SIZE);
  if (linear.length === 1 || linear.length <= minBlocks) {
    return { blocks: Math.max(linear.length, minBlocks), htree: false, store, entries, starts: linear };
  }
  const hashes = new Uint32Array(entries.length);
  const minors = new Uint32Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const h = dirHash(store.name(entries[i]!), HASH.HALF_MD4, hashSeed);
    hashes[i] = h.hash;
    minors[i] = h.minor;
  }
  const order = new Uint32Array(entries.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => hashes[a]! - hashes[b]! || minors[a]! - minors[b]! || a - b);
  const starts = pack(store, entries, order, usable, 0);
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
        `a directory with ${entries.length} entries needs ${starts.length} blocks, more than a two-level htree indexes (${rootLimit * nodeLimit})`,
        'split the directory',
      );
    }
    const per = Math.ceil(starts.length / nodes);
    nodeSizes = [];
    for (let left = starts.length; left > 0; left -= per) nodeSizes.push(Math.min(per, left));
  }
  return { blocks: 1 + starts.length + nodeSizes.length, htree: true, store, entries, starts, order, leafHashes, nodeSizes };
}

/** Fills `block` (zeroed) with entries [from, to) of the given order; the last entry absorbs the slack. */
function renderLeaf(block: Uint8Array, layout: DirLayout, from: number, to: number, at: number, order: ArrayLike<number> | undefined): void {
  const usable = block.length - DIRENT_TAIL_SIZE;
  let last = -1;
  const store = layout.store;
  for (let i = from; i < to; i++) {
    const e = layout.entries[order ? order[i]! : i]!;
    const name = store.name(e);
    const size = direntSize(name.length);
    encodeDirent(block, at, store.ino(e), size, store.fileType(e), name);
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
  const n = layout.entries.length;
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
