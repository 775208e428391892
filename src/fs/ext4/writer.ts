import { KilnError } from '../../errors.js';
import { formatSize } from '../../units.js';
import { WRITE_BYTES, type BlockTarget } from '../block-target.js';
import { printableName } from '../name-bytes.js';
import { crc32cUpdate } from '../checksum/crc32c.js';
import type { FileTree, Inode } from '../tree.js';
import { PlanCache } from '../tree-snapshot.js';
import { ProgressMeter, zeroTarget } from '../write-control.js';
import {
  CHECKSUM_CRC32C,
  COMPAT,
  DEFAULT_FEATURES,
  DEFM_ACL,
  DEFM_XATTR_USER,
  DESC_SIZE,
  ERRORS_CONTINUE,
  EXT4_MAGIC,
  EXTRA_ISIZE,
  FIRST_INO,
  FLAGS_SIGNED_HASH,
  HASH,
  INODE_FLAG,
  INODE_SIZE,
  JNL_BACKUP_BLOCKS,
  JOURNAL_INO,
  LOG_GROUPS_PER_FLEX,
  BG_INODE_ZEROED,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFREG,
  S_IFSOCK,
  STATE_CLEAN,
  SUPERBLOCK_OFFSET,
} from './constants.js';
import { renderDirectory } from './directory.js';
import { EXTENT_MAX_LEN, type Extent } from './extent.js';
import { addRun, buildExtentTree, extentTreeBlocks } from './extent-tree.js';
import { BlockAllocator, computeGeometry, groupStart, superRanges, type Geometry } from './geometry.js';
import { encodeGroupDescriptor, setGroupDescriptorChecksum } from './group-descriptor.js';
import { InodeStruct, encodeDevice, encodeTime, inodeSeed, setInodeChecksum } from './inode.js';
import { JOURNAL_SIZE_STEPS, defaultJournalBlocks, encodeJournalSuperblock } from './journal.js';
import { buildModel, clampTime, inodePath, isFastSymlink, type Ext4Model } from './model.js';
import { formatUuid } from '../uuid.js';
import { defaultInodeRatio, resolveOptions, type Ext4Options, type Ext4Plan, type Ext4Result, type ResolvedOptions } from './options.js';
import { Superblock, groupHasSuper, setSuperblockChecksum } from './superblock.js';
import { encodeIbodyXattrs, encodeXattrBlock } from './xattr-layout.js';
import { XattrBlockHeader, xattrBlockChecksum } from './xattr.js';

/**
 * The native ext4 writer. One allocation pass, run twice: first "dense" (every file block
 * counted, nothing read or written) to prove the tree fits, then for real, streaming each
 * file once, turning all-zero blocks into holes and batching contiguous blocks into large
 * writes. Metadata (inode tables, bitmaps, descriptors, superblocks) is written last.
 *
 * Layout: superblock copies where sparse_super puts them; all groups' bitmaps and inode
 * tables packed from the start (flex_bg allows any placement); then the journal; then, in
 * inode order, each inode's xattr block, data and extent-tree blocks.
 */

interface Tables {
  blockBitmap: number[];
  inodeBitmap: number[];
  inodeTable: number[];
}

interface Layout {
  geo: Geometry;
  journalBlocks: number;
  inodeRatio: number;
}

/** Models of the trees planned or written lately (see PlanCache). */
const models = new PlanCache<Ext4Model>();

function modelOf(tree: FileTree, opts: ResolvedOptions): Ext4Model {
  const key = JSON.stringify(opts, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
  return models.get(tree, key, (snapshot) => buildModel(snapshot, opts));
}

/**
 * Collects contiguous block writes into one large write. Where the target lends memory of its
 * write queue (a large image file), blocks are staged there, so file data read into `tail()`
 * is copied once on its way out instead of twice.
 */
class Stager {
  /** The stager's own buffer: where the target lends none, and to keep data a lent buffer is given back under. */
  private readonly own: Uint8Array;
  /** Where blocks are staged: `own`, or memory the target lent. */
  private buf: Uint8Array;
  private lent = false;
  /** The staging buffer's memory as words, for scanning file data read into `tail()` for all-zero blocks. */
  words: Uint32Array;
  private start = -1;
  private len = 0;
  private readonly capacity: number;
  constructor(
    readonly target: BlockTarget,
    private readonly bs: number,
    readonly bytes: number,
  ) {
    this.own = new Uint8Array(bytes);
    this.buf = this.own;
    this.words = new Uint32Array(this.own.buffer);
    this.capacity = bytes / bs;
  }
  /** Stages into the target's memory from here on, where it lends some (only between writes: len is 0). */
  private borrow(): void {
    if (this.lent || this.len > 0 || !this.target.lend) return;
    const memory = this.target.lend(this.bytes);
    if (!memory) return;
    this.buf = memory;
    this.lent = true;
    if (this.words.buffer !== memory.buffer) this.words = new Uint32Array(memory.buffer);
  }
  private holds(data: Uint8Array): boolean {
    return data.buffer === this.buf.buffer && data.byteOffset >= this.buf.byteOffset && data.byteOffset < this.buf.byteOffset + this.buf.length;
  }
  /**
   * Room for `bytes` (whole blocks, at most `this.bytes`) where the next staged block goes, for
   * file data to be read into in place: putting data that lies there costs no copy.
   */
  tail(bytes: number): Uint8Array {
    if ((this.capacity - this.len) * this.bs < bytes) this.flush();
    this.borrow();
    return this.buf.subarray(this.len * this.bs, this.len * this.bs + bytes);
  }
  /** Whole blocks (the data is `blocks * bs` bytes; callers zero-pad partial blocks). */
  put(block: number, data: Uint8Array): void {
    const blocks = data.length / this.bs;
    if (this.len > 0 && (this.start + this.len !== block || this.len + blocks > this.capacity)) {
      // data read into tail() past the staged blocks: lent memory given back may be reused under it
      if (this.lent && this.holds(data)) {
        this.own.set(data);
        data = this.own.subarray(0, data.length);
      }
      this.flush();
    }
    if (this.len === 0 && blocks * 2 >= this.capacity && !(this.lent && this.holds(data))) {
      this.flush();
      this.target.write(block * this.bs, data);
      return;
    }
    if (this.len === 0) {
      this.borrow();
      this.start = block;
    }
    const at = this.len * this.bs;
    // (set copies overlapping ranges of one buffer correctly: data read into tail() and moved down past a hole)
    if (data.buffer !== this.buf.buffer || data.byteOffset !== this.buf.byteOffset + at) this.buf.set(data, at);
    this.len += blocks;
  }
  /** Writes what is staged; lent memory goes back to the target (even unused: nothing else may be written while it is out). */
  flush(): void {
    const staged = this.buf.subarray(0, this.len * this.bs);
    if (this.lent) {
      this.lent = false;
      this.buf = this.own;
      this.target.writeLent!(this.len > 0 ? this.start * this.bs : 0, staged);
    } else if (this.len > 0) this.target.write(this.start * this.bs, staged);
    this.len = 0;
  }
}

class NoSpace extends Error {}

/**
 * The inode tables, written a group at a time: inodes are encoded in ascending order (the
 * journal's first, then every record's), so a group is complete (checksummed, every inode of it
 * up to the last used one, and written, all-zero blocks left as holes) when an inode of a later
 * group comes. One group's table is held, not the whole filesystem's.
 */
class InodeTables {
  readonly bytes: Uint8Array;
  private group = 0;
  constructor(
    /** Staged blocks are written out before a table is (the target may have lent the stager memory). */
    private readonly stager: Stager,
    /** First block of each group's inode table. */
    private readonly blocks: number[],
    private readonly perGroup: number,
    private readonly maxIno: number,
    private readonly fsSeed: number,
    private readonly bs: number,
  ) {
    this.bytes = new Uint8Array(Math.min(perGroup, maxIno) * INODE_SIZE);
  }
  /** Offset in `bytes` of inode `ino`, once the groups before its own are written. */
  offsetOf(ino: number): number {
    const g = Math.floor((ino - 1) / this.perGroup);
    if (g < this.group) throw new Error(`ext4 writer: inode ${ino} comes after its group was written (a bug)`);
    while (this.group < g) this.flush();
    return ((ino - 1) % this.perGroup) * INODE_SIZE;
  }
  private flush(): void {
    const from = this.group * this.perGroup;
    const to = Math.min(this.maxIno, from + this.perGroup);
    for (let ino = from + 1; ino <= to; ino++) setInodeChecksum(this.fsSeed, ino, this.bytes, (ino - 1 - from) * INODE_SIZE);
    this.stager.flush();
    writeSparse(this.stager.target, this.blocks[this.group]! * this.bs, this.bytes.subarray(0, (to - from) * INODE_SIZE));
    this.bytes.fill(0);
    this.group++;
  }
  /** Writes the groups not written yet, up to the one holding the last used inode. */
  finish(): void {
    while (this.group * this.perGroup < this.maxIno) this.flush();
  }
}

interface Io {
  target: BlockTarget;
  stager: Stager;
  /** Set by the pass once the tables are placed. */
  itable?: InodeTables;
  fsSeed: number;
  meter: ProgressMeter;
}

/** Staged writes: one write each (a file target's write queue holds many while the stager fills the next in memory it lent). */
const STAGE_BYTES = WRITE_BYTES;

const TYPE_BITS: Record<Inode['type'], number> = {
  file: S_IFREG,
  dir: S_IFDIR,
  symlink: S_IFLNK,
  char: S_IFCHR,
  block: S_IFBLK,
  fifo: S_IFIFO,
  socket: S_IFSOCK,
};

/** Allocates `count` blocks as runs, adding them to `extents` from logical block `logical`. */
function allocateRuns(
  alloc: BlockAllocator,
  extents: Extent[],
  logical: number,
  count: number,
  onRun?: (start: number, len: number, offset: number) => void,
): void {
  let done = 0;
  while (done < count) {
    const run = alloc.run(count - done);
    if (!run) throw new NoSpace();
    addRun(extents, logical + done, run[0], run[1], EXTENT_MAX_LEN);
    onRun?.(run[0], run[1], done);
    done += run[1];
  }
}

function oneBlock(alloc: BlockAllocator): number {
  const run = alloc.run(1);
  if (!run) throw new NoSpace();
  return run[0];
}

/** Streams a file: reads it once, skips all-zero blocks, allocates and stages the rest. */
function streamFile(model: Ext4Model, ino: number, alloc: BlockAllocator, io: Io, bs: number, extents: Extent[]): number {
  const content = model.nodes[ino]!.content;
  const size = content?.size ?? 0;
  if (!content || size === 0) return 0;
  const reader = content.open();
  let dataBlocks = 0;
  // Read straight into the stager, a stager full at a time: the blocks kept are written from where they were read.
  const chunk = io.stager.bytes;
  const wordsPerBlock = bs / 4;
  try {
    for (let off = 0; off < size; off += chunk) {
      const want = Math.min(chunk, size - off);
      const buf = io.stager.tail(Math.ceil(want / bs) * bs);
      const words = io.stager.words;
      const first = buf.byteOffset / 4;
      const got = reader.read(off, buf.subarray(0, want));
      if (got !== want)
        throw new KilnError(
          'short-read',
          `'${printableName(inodePath(model, ino)) || '/'}': expected ${size} bytes, the content ended at ${off + got}`,
          'the file changed while the image was written; try again',
        );
      io.meter.bytes(want);
      const blocks = Math.ceil(want / bs);
      // Zero the last block's tail: bytes up to a word, then words (byte-wise fills of shared memory, where the stager may stage, are slow).
      let pad = want;
      while (pad & 3 && pad < blocks * bs) buf[pad++] = 0;
      words.fill(0, first + pad / 4, first + (blocks * bs) / 4);
      const firstLogical = off / bs;
      let b = 0;
      while (b < blocks) {
        // Find the next run of non-zero blocks [b, e).
        while (b < blocks && isZeroBlock(words, first + b * wordsPerBlock, wordsPerBlock)) b++;
        let e = b;
        while (e < blocks && !isZeroBlock(words, first + e * wordsPerBlock, wordsPerBlock)) e++;
        if (e > b) {
          const runStart = b;
          allocateRuns(alloc, extents, firstLogical + b, e - b, (start, len, offset) => {
            io.stager.put(start, buf.subarray((runStart + offset) * bs, (runStart + offset + len) * bs));
          });
          dataBlocks += e - b;
        }
        b = e;
      }
    }
  } finally {
    reader.close();
  }
  return dataBlocks;
}

function isZeroBlock(words: Uint32Array, from: number, count: number): boolean {
  for (let i = from, end = from + count; i < end; i++) if (words[i] !== 0) return false;
  return true;
}

interface PassResult {
  alloc: BlockAllocator;
  tables: Tables;
  journalIBlock?: Uint8Array;
}

/** Flags of DenseNeeds. */
const NEEDS_XATTR_BLOCK = 1;
const NEEDS_EXTENTS = 2;

/**
 * What each inode takes in the dense pass, in inode order, as flat arrays: the pass runs for
 * every size minimumBlocks probes, so it must not touch the inodes' objects.
 */
interface DenseNeeds {
  flags: Uint8Array;
  /** Blocks mapped by extents: directory blocks, a slow symlink's block, file content counted dense. */
  blocks: Float64Array;
}

const denseNeedsOf = new WeakMap<Ext4Model, DenseNeeds>();

function denseNeeds(model: Ext4Model, bs: number): DenseNeeds {
  let needs = denseNeedsOf.get(model);
  if (needs) return needs;
  needs = { flags: new Uint8Array(model.maxIno + 1), blocks: new Float64Array(model.maxIno + 1) };
  for (let ino = 1; ino <= model.maxIno; ino++) {
    const node = model.nodes[ino];
    if (!node) continue;
    const xattrs = node.xattrs && model.xattrs.get(ino);
    let flags = xattrs && xattrs.inBlock.length > 0 ? NEEDS_XATTR_BLOCK : 0;
    if (node.type === 'dir') {
      flags |= NEEDS_EXTENTS;
      needs.blocks[ino] = model.dirs.get(ino)!.layout.blocks;
    } else if (node.type === 'symlink') {
      if (!isFastSymlink(model.symlinks.get(ino)!)) {
        flags |= NEEDS_EXTENTS;
        needs.blocks[ino] = 1;
      }
    } else if (node.type === 'file') {
      flags |= NEEDS_EXTENTS;
      needs.blocks[ino] = Math.ceil((node.content?.size ?? 0) / bs);
    }
    needs.flags[ino] = flags;
  }
  denseNeedsOf.set(model, needs);
  return needs;
}

/**
 * Allocates `count` blocks as runs and returns how many extents they make: what allocateRuns
 * and addRun would build, counted without building it.
 */
function denseExtents(alloc: BlockAllocator, count: number): number {
  let extents = 0;
  let lastEnd = -1;
  let lastLen = 0;
  for (let done = 0; done < count; ) {
    const run = alloc.run(count - done);
    if (!run) throw new NoSpace();
    let [start, len] = run;
    done += len;
    while (len > 0) {
      let take: number;
      if (extents > 0 && lastEnd === start && lastLen < EXTENT_MAX_LEN) {
        take = Math.min(len, EXTENT_MAX_LEN - lastLen);
        lastLen += take;
      } else {
        take = Math.min(len, EXTENT_MAX_LEN);
        extents++;
        lastLen = take;
      }
      start += take;
      lastEnd = start;
      len -= take;
    }
  }
  return extents;
}

/**
 * Blocks the allocator hands out as one run from where it stands: what is left of the first gap,
 * or up to the next superblock copy or the end (0 when it stands on a copy and would step over).
 */
function room(alloc: BlockAllocator): number {
  const gap = alloc.gaps[0];
  if (gap) return gap[1] - gap[0];
  const at = alloc.next;
  for (const [start, end] of alloc.fixed) if (end > at) return start > at ? Math.min(start, alloc.limit) - at : 0;
  return alloc.limit - at;
}

/**
 * The dense pass over the inodes: the allocations the real pass makes when no block is a hole.
 * Inodes that fit one after another in the allocator's current room get one run together (each
 * of them one extent, so no extent-tree blocks); an inode that crosses the room's end, or needs
 * more than one extent, is allocated as the real pass would. The pass runs for every size
 * minimumBlocks tries, so this is the planner's inner loop.
 */
function denseInodes(model: Ext4Model, alloc: BlockAllocator, bs: number): void {
  const { flags, blocks } = denseNeeds(model, bs);
  let ino = 1;
  while (ino <= model.maxIno) {
    const free = room(alloc);
    let total = 0;
    for (; ino <= model.maxIno; ino++) {
      const f = flags[ino]!;
      const data = f & NEEDS_EXTENTS ? blocks[ino]! : 0;
      const take = (f & NEEDS_XATTR_BLOCK ? 1 : 0) + data;
      if (data > EXTENT_MAX_LEN || total + take > free) break;
      total += take;
    }
    if (total > 0 && alloc.run(total)?.[1] !== total) throw new Error('ext4 writer: a batch of the dense pass did not get one run (a bug)');
    if (ino > model.maxIno) break;
    const f = flags[ino]!;
    if (f & NEEDS_XATTR_BLOCK) oneBlock(alloc);
    if (f & NEEDS_EXTENTS) {
      const treeBlocks = extentTreeBlocks(denseExtents(alloc, blocks[ino]!), bs);
      for (let i = 0; i < treeBlocks; i++) oneBlock(alloc);
    }
    ino++;
  }
}

/**
 * The allocation pass. Without `io` it only counts (dense: every file block allocated) and
 * throws NoSpace when the tree does not fit; with `io` it writes data and fills the inode table.
 */
function pass(model: Ext4Model, layout: Layout, opts: ResolvedOptions, io: Io | undefined): PassResult {
  const { geo } = layout;
  const bs = geo.blockSize;
  const alloc = new BlockAllocator(geo.blocks, superRanges(geo), geo.firstDataBlock);
  const tables: Tables = { blockBitmap: [], inodeBitmap: [], inodeTable: [] };
  const need = (b: number | undefined): number => {
    if (b === undefined) throw new NoSpace();
    return b;
  };
  for (let g = 0; g < geo.groups; g++) tables.blockBitmap.push(need(alloc.contiguous(1)));
  for (let g = 0; g < geo.groups; g++) tables.inodeBitmap.push(need(alloc.contiguous(1)));
  for (let g = 0; g < geo.groups; g++) tables.inodeTable.push(need(alloc.contiguous(geo.inodeTableBlocks)));
  if (model.maxIno > geo.inodes) throw new NoSpace();
  if (io) io.itable = new InodeTables(io.stager, tables.inodeTable, geo.inodesPerGroup, model.maxIno, io.fsSeed, bs);

  const result: PassResult = { alloc, tables };
  if (layout.journalBlocks > 0) {
    const extents: Extent[] = [];
    let first = -1;
    allocateRuns(alloc, extents, 0, layout.journalBlocks, (start, _len, offset) => {
      if (offset === 0) first = start;
    });
    const seed = io ? inodeSeed(io.fsSeed, JOURNAL_INO, 0) : 0;
    const tree = buildExtentTree(extents, bs, () => oneBlock(alloc), seed);
    if (io) {
      const jsb = new Uint8Array(bs);
      jsb.set(encodeJournalSuperblock(bs, layout.journalBlocks, model.uuid));
      io.stager.put(first, jsb);
      for (const t of tree.blocks) io.stager.put(t.block, t.data);
      const journalNode: Inode = { type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: { sec: model.fsTime, nsec: 0 } };
      encodeInode(
        io,
        JOURNAL_INO,
        journalNode,
        1,
        layout.journalBlocks * bs,
        layout.journalBlocks + tree.blocks.length,
        INODE_FLAG.EXTENTS,
        tree.iBlock,
        0,
        opts,
        bs,
      );
      result.journalIBlock = tree.iBlock;
    }
  }

  if (!io) {
    denseInodes(model, alloc, bs);
    return result;
  }
  for (let ino = 1; ino <= model.maxIno; ino++) {
    if (model.nodes[ino]) placeInode(model, ino, alloc, io, bs, opts);
  }
  io.stager.flush();
  return result;
}

/** Allocates, renders and stages one inode's blocks and encodes the inode. */
function placeInode(model: Ext4Model, ino: number, alloc: BlockAllocator, io: Io, bs: number, opts: ResolvedOptions): void {
  const node = model.nodes[ino]!;
  const seed = inodeSeed(io.fsSeed, ino, 0);
  const xattrs = node.xattrs && model.xattrs.get(ino);
  let xattrBlock = 0;
  let blocks = 0;
  if (xattrs && xattrs.inBlock.length > 0) {
    xattrBlock = oneBlock(alloc);
    blocks++;
    const data = encodeXattrBlock(xattrs.inBlock, bs);
    XattrBlockHeader.encode({ h_checksum: xattrBlockChecksum(io.fsSeed, xattrBlock, data) }, data);
    io.stager.put(xattrBlock, data);
  }
  const extents: Extent[] = [];
  let size = 0;
  let flags = 0;
  let iBlock: Uint8Array | undefined;
  if (node.type === 'dir') {
    const { layout, parent } = model.dirs.get(ino)!;
    const data = renderDirectory(layout, ino, parent, bs, seed);
    allocateRuns(alloc, extents, 0, layout.blocks, (start, len, offset) => io.stager.put(start, data.subarray(offset * bs, (offset + len) * bs)));
    blocks += layout.blocks;
    size = layout.blocks * bs;
    flags = INODE_FLAG.EXTENTS | (layout.htree ? INODE_FLAG.INDEX : 0);
  } else if (node.type === 'symlink') {
    const target = model.symlinks.get(ino)!;
    size = target.length;
    if (isFastSymlink(target)) {
      iBlock = new Uint8Array(60);
      iBlock.set(target);
    } else {
      flags = INODE_FLAG.EXTENTS;
      allocateRuns(alloc, extents, 0, 1, (start) => {
        const data = new Uint8Array(bs);
        data.set(target);
        io.stager.put(start, data);
      });
      blocks += 1;
    }
  } else if (node.type === 'file') {
    flags = INODE_FLAG.EXTENTS;
    size = node.content?.size ?? 0;
    blocks += streamFile(model, ino, alloc, io, bs, extents);
    io.meter.file();
  } else if (node.type === 'char' || node.type === 'block') {
    iBlock = new Uint8Array(60);
    encodeDevice(node.rdev?.major ?? 0, node.rdev?.minor ?? 0, iBlock);
  } else iBlock = new Uint8Array(60);

  if (flags & INODE_FLAG.EXTENTS) {
    const tree = buildExtentTree(extents, bs, () => oneBlock(alloc), seed);
    for (const t of tree.blocks) io.stager.put(t.block, t.data);
    blocks += tree.blocks.length;
    iBlock = tree.iBlock;
  }
  encodeInode(io, ino, node, model.links[ino]!, size, blocks, flags, iBlock!, xattrBlock, opts, bs);
  if (xattrs) encodeIbodyXattrs(xattrs.inInode, io.itable!.bytes, io.itable!.offsetOf(ino));
}

function encodeInode(
  io: Io,
  ino: number,
  node: Inode,
  links: number,
  size: number,
  blocks: number,
  flags: number,
  iBlock: Uint8Array,
  xattrBlock: number,
  opts: ResolvedOptions,
  bs: number,
): void {
  const epoch = opts.sourceDateEpoch;
  const mtime = encodeTime(clampTime(node.mtime, epoch));
  const atime = encodeTime(clampTime(node.atime ?? node.mtime, epoch));
  const ctime = encodeTime(clampTime(node.ctime ?? node.mtime, epoch));
  const crtime = encodeTime(clampTime(node.crtime ?? node.mtime, epoch));
  const sectors = blocks * (bs / 512);
  InodeStruct.encode(
    {
      i_mode: TYPE_BITS[node.type] | (node.mode & 0o7777),
      i_uid: node.uid & 0xffff,
      i_uid_high: (node.uid >>> 16) & 0xffff,
      i_gid: node.gid & 0xffff,
      i_gid_high: (node.gid >>> 16) & 0xffff,
      i_size_lo: size % 2 ** 32,
      i_size_high: Math.floor(size / 2 ** 32),
      i_atime: atime.sec,
      i_atime_extra: atime.extra,
      i_ctime: ctime.sec,
      i_ctime_extra: ctime.extra,
      i_mtime: mtime.sec,
      i_mtime_extra: mtime.extra,
      i_crtime: crtime.sec,
      i_crtime_extra: crtime.extra,
      i_links_count: links,
      i_blocks_lo: sectors % 2 ** 32,
      i_blocks_high: Math.floor(sectors / 2 ** 32),
      i_flags: flags,
      i_block: iBlock,
      i_file_acl_lo: xattrBlock % 2 ** 32,
      i_file_acl_high: Math.floor(xattrBlock / 2 ** 32),
      i_extra_isize: EXTRA_ISIZE,
    },
    io.itable!.bytes,
    io.itable!.offsetOf(ino),
  );
}

// ---- fitting ----

function journalCandidates(blocks: number, opts: ResolvedOptions): number[] {
  if (!opts.journal) return [0];
  const j0 = defaultJournalBlocks(blocks);
  if (j0 === 0) return [0];
  return [j0, ...JOURNAL_SIZE_STEPS.filter((s) => s < j0)];
}

/**
 * Inode ratios to try: the given one, or mke2fs's default for the size and then denser ones,
 * so that a tree with many small files still fits in a larger filesystem whose default
 * ratio would give it fewer inodes than a smaller one.
 */
function ratioCandidates(blocks: number, opts: ResolvedOptions): number[] {
  if (opts.inodeRatio !== undefined) return [opts.inodeRatio];
  const def = defaultInodeRatio(blocks * opts.blockSize);
  return [def, ...[16384, 8192, 4096].filter((r) => r < def && r >= opts.blockSize)];
}

/** The layout for `blocks` blocks, or undefined when the tree does not fit. */
function chooseLayout(model: Ext4Model, blocks: number, opts: ResolvedOptions): Layout | undefined {
  const bs = opts.blockSize;
  for (const inodeRatio of ratioCandidates(blocks, opts)) {
    const geo = computeGeometry(blocks, bs, inodeRatio);
    if (!geo) return undefined;
    if (model.maxIno > geo.inodes) continue;
    for (const journalBlocks of journalCandidates(geo.blocks, opts)) {
      const layout = { geo, journalBlocks, inodeRatio };
      try {
        pass(model, layout, opts, undefined);
        return layout;
      } catch (e) {
        if (!(e instanceof NoSpace)) throw e;
      }
    }
  }
  return undefined;
}

/**
 * Smallest block count that fits: grow by doubling from just above the content, then bisect.
 * The content's own blocks are a floor that never fits (metadata needs room too).
 */
function minimumBlocks(model: Ext4Model, opts: ResolvedOptions): number {
  let lo = Math.floor(model.contentBytes / opts.blockSize);
  let hi = Math.max(64, Math.ceil(lo * 1.25));
  while (!chooseLayout(model, hi, opts)) {
    lo = hi;
    hi *= 2;
    if (hi > 2 ** 40) throw new KilnError('too-large', 'the tree does not fit in any ext4 filesystem kiln can write');
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (chooseLayout(model, mid, opts)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Plans an image of `tree`: the smallest size that holds it (file content counted dense, so
 * sparse files only make the real need smaller), plus the identities the write would use.
 */
export function planExt4(tree: FileTree, options: Ext4Options = {}): Ext4Plan {
  const opts = resolveOptions(options);
  const model = modelOf(tree, opts);
  const blocks = minimumBlocks(model, opts);
  return {
    minimumSize: blocks * opts.blockSize,
    blockSize: opts.blockSize,
    inodesNeeded: model.maxIno,
    contentBytes: model.contentBytes,
    uuid: formatUuid(model.uuid),
    hashSeed: formatUuid(model.hashSeed),
  };
}

/**
 * The bytes an ext4 filesystem of `size` bytes would have free after `tree` is written (file
 * content counted dense, so a lower bound), or undefined when the tree does not fit: how
 * `--size auto --margin` checks that the margin is really free (the journal and the inode
 * tables grow with the size).
 */
export function ext4FreeBytes(tree: FileTree, size: number, options: Ext4Options = {}): number | undefined {
  const opts = resolveOptions(options);
  const model = modelOf(tree, opts);
  const layout = chooseLayout(model, Math.floor(size / opts.blockSize), opts);
  if (!layout) return undefined;
  const { geo } = layout;
  const { alloc } = pass(model, layout, opts, undefined);
  let used = 0;
  for (const [s, e] of alloc.usedRanges(geo.firstDataBlock)) used += Math.max(0, Math.min(e, geo.blocks) - Math.max(s, geo.firstDataBlock));
  return Math.max(0, geo.blocks - geo.firstDataBlock - used) * opts.blockSize;
}

// ---- writing ----

const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();

function setBits(bitmap: Uint8Array, from: number, to: number): void {
  let i = from;
  while (i < to && i % 8 !== 0) {
    bitmap[i >> 3]! |= 1 << (i & 7);
    i++;
  }
  if (to - i >= 8) {
    bitmap.fill(0xff, i >> 3, to >> 3);
    i = to & ~7;
  }
  for (; i < to; i++) bitmap[i >> 3]! |= 1 << (i & 7);
}

/**
 * Writes `tree` as an ext4 filesystem into `target`. A target that declares `zeroed` (a new
 * sparse file, a new MemoryTarget, a partition of a new disk) is written sparsely; any other is
 * zeroed over the filesystem's size first, so the image is the same bytes either way. Throws a
 * KilnError before writing anything when the tree does not fit or cannot be represented.
 * `options.onProgress` is called per file (content bytes and regular files; hard links once);
 * `options.signal` aborts at the next file or 4 MiB chunk with KilnError('aborted').
 */
export function writeExt4(tree: FileTree, target: BlockTarget, options: Ext4Options = {}): Ext4Result {
  const opts = resolveOptions(options);
  const bs = opts.blockSize;
  const size = options.size ?? target.size;
  if (size > target.size) throw new KilnError('bad-option', `ext4 size ${size} is larger than the target (${target.size} bytes)`);
  const model = modelOf(tree, opts);
  const blocks = Math.floor(size / bs);
  const layout = chooseLayout(model, blocks, opts);
  if (!layout) {
    const needed = minimumBlocks(model, opts) * bs;
    throw new KilnError(
      'no-space',
      `the tree needs an ext4 filesystem of at least ${needed} bytes (${formatSize(needed)}; ${model.maxIno} inodes, ${formatSize(model.contentBytes)} of file content) but the target has ${blocks * bs} bytes (${formatSize(blocks * bs)})`,
      'give a larger size, or --size auto',
    );
  }
  const { geo } = layout;
  // Checks are done: from here on the target is written. A target not known to be zero is zeroed first.
  zeroTarget(target, geo.blocks * bs, options.signal);
  let files = 0;
  for (const node of model.nodes) if (node?.type === 'file') files++;
  const meter = new ProgressMeter(options, model.contentBytes, files);
  const fsSeed = crc32cUpdate(0xffffffff, model.uuid);
  // The stager sized to the job: small trees (tests, initramfs-sized images) stay cheap.
  const io: Io = {
    target,
    stager: new Stager(target, bs, Math.min(STAGE_BYTES, Math.max(bs * 16, Math.ceil((model.contentBytes + model.maxIno * 64) / bs) * bs))),
    fsSeed,
    meter,
  };
  let passResult: PassResult;
  try {
    passResult = pass(model, layout, opts, io);
  } catch (e) {
    if (e instanceof NoSpace) throw new Error('ext4 writer: the real pass ran out of space after the dense pass fit (a bug)');
    throw e;
  }
  const { alloc, tables } = passResult;

  io.itable!.finish();
  const ipg = geo.inodesPerGroup;

  // Block bitmaps: one bit per block from the first data block; bits past the end are set.
  const bpg = geo.blocksPerGroup;
  const blockBitmap = new Uint8Array((geo.groups * bpg) / 8);
  for (const [s, e] of alloc.usedRanges(geo.firstDataBlock)) {
    const from = Math.max(s, geo.firstDataBlock) - geo.firstDataBlock;
    const to = Math.min(e, geo.blocks) - geo.firstDataBlock;
    if (to > from) setBits(blockBitmap, from, to);
  }
  setBits(blockBitmap, geo.blocks - geo.firstDataBlock, geo.groups * bpg);

  const gdt = new Uint8Array(geo.gdtBlocks * bs);
  let freeBlocks = 0;
  const usedDirs = new Array<number>(geo.groups).fill(0);
  for (const ino of model.dirs.keys()) usedDirs[Math.floor((ino - 1) / ipg)]!++;
  for (let g = 0; g < geo.groups; g++) {
    const bb = blockBitmap.subarray((g * bpg) / 8, ((g + 1) * bpg) / 8);
    let used = 0;
    for (let i = 0; i < bb.length; i++) used += POPCOUNT[bb[i]!]!;
    const free = bpg - used;
    freeBlocks += free;
    const ib = new Uint8Array(bs);
    const usedInodes = Math.max(0, Math.min(ipg, model.maxIno - g * ipg));
    setBits(ib, 0, usedInodes);
    setBits(ib, ipg, bs * 8);
    writeSparse(target, tables.blockBitmap[g]! * bs, bb);
    writeSparse(target, tables.inodeBitmap[g]! * bs, ib);
    encodeGroupDescriptor(
      {
        blockBitmap: tables.blockBitmap[g]!,
        inodeBitmap: tables.inodeBitmap[g]!,
        inodeTable: tables.inodeTable[g]!,
        freeBlocks: free,
        freeInodes: ipg - usedInodes,
        usedDirs: usedDirs[g]!,
        flags: BG_INODE_ZEROED,
        itableUnused: ipg - usedInodes,
        blockBitmapCsum: crc32cUpdate(fsSeed, bb),
        inodeBitmapCsum: crc32cUpdate(fsSeed, ib, 0, ipg / 8),
      },
      gdt,
      g * DESC_SIZE,
    );
    setGroupDescriptorChecksum(fsSeed, g, gdt, g * DESC_SIZE);
  }

  // Superblock and its copies.
  const reserved = Math.floor((geo.blocks * opts.reservedPercent) / 100);
  const freeInodes = geo.inodes - model.maxIno;
  const jnl = new Uint8Array(68);
  if (passResult.journalIBlock) {
    jnl.set(passResult.journalIBlock);
    const v = new DataView(jnl.buffer);
    const jsize = layout.journalBlocks * bs;
    v.setUint32(60, Math.floor(jsize / 2 ** 32), true);
    v.setUint32(64, jsize % 2 ** 32, true);
  }
  const hasJournal = layout.journalBlocks > 0;
  const sb = new Uint8Array(1024);
  Superblock.encode(
    {
      s_inodes_count: geo.inodes,
      s_blocks_count_lo: geo.blocks % 2 ** 32,
      s_blocks_count_hi: Math.floor(geo.blocks / 2 ** 32),
      s_r_blocks_count_lo: reserved % 2 ** 32,
      s_r_blocks_count_hi: Math.floor(reserved / 2 ** 32),
      s_free_blocks_count_lo: freeBlocks % 2 ** 32,
      s_free_blocks_count_hi: Math.floor(freeBlocks / 2 ** 32),
      s_free_inodes_count: freeInodes,
      s_first_data_block: geo.firstDataBlock,
      s_log_block_size: Math.log2(bs) - 10,
      s_log_cluster_size: Math.log2(bs) - 10,
      s_blocks_per_group: bpg,
      s_clusters_per_group: bpg,
      s_inodes_per_group: ipg,
      s_wtime: model.fsTime >>> 0,
      s_max_mnt_count: 0xffff,
      s_magic: EXT4_MAGIC,
      s_state: STATE_CLEAN,
      s_errors: ERRORS_CONTINUE,
      s_lastcheck: model.fsTime >>> 0,
      s_creator_os: 0,
      s_rev_level: 1,
      s_first_ino: FIRST_INO,
      s_inode_size: INODE_SIZE,
      s_feature_compat: hasJournal ? DEFAULT_FEATURES.compat : DEFAULT_FEATURES.compat & ~COMPAT.HAS_JOURNAL,
      s_feature_incompat: DEFAULT_FEATURES.incompat,
      s_feature_ro_compat: DEFAULT_FEATURES.roCompat,
      s_uuid: model.uuid,
      s_volume_name: opts.label,
      s_journal_inum: hasJournal ? JOURNAL_INO : 0,
      s_hash_seed: model.hashSeed,
      s_def_hash_version: HASH.HALF_MD4,
      s_jnl_backup_type: hasJournal ? JNL_BACKUP_BLOCKS : 0,
      s_desc_size: DESC_SIZE,
      s_default_mount_opts: DEFM_XATTR_USER | DEFM_ACL,
      s_mkfs_time: model.fsTime >>> 0,
      s_jnl_blocks: jnl,
      s_min_extra_isize: EXTRA_ISIZE,
      s_want_extra_isize: EXTRA_ISIZE,
      s_flags: FLAGS_SIGNED_HASH,
      s_log_groups_per_flex: LOG_GROUPS_PER_FLEX,
      s_checksum_type: CHECKSUM_CRC32C,
    },
    sb,
  );
  for (let g = 0; g < geo.groups; g++) {
    if (!groupHasSuper(g)) continue;
    Superblock.encode({ s_block_group_nr: g }, sb);
    setSuperblockChecksum(sb);
    const start = groupStart(geo, g);
    if (g === 0) target.write(SUPERBLOCK_OFFSET, sb);
    else target.write(start * bs, sb);
    writeSparse(target, (start + 1) * bs, gdt);
  }
  meter.finish();
  return {
    size: geo.blocks * bs,
    blockSize: bs,
    blocks: geo.blocks,
    freeBlocks,
    inodes: geo.inodes,
    freeInodes,
    journalBlocks: layout.journalBlocks,
    uuid: formatUuid(model.uuid),
    hashSeed: formatUuid(model.hashSeed),
  };
}

/** Writes metadata, leaving all-zero blocks as holes. */
function writeSparse(target: BlockTarget, offset: number, data: Uint8Array): void {
  const step = 4096;
  let start = -1;
  for (let pos = 0; pos < data.length; pos += step) {
    const end = Math.min(pos + step, data.length);
    let zero = true;
    for (let i = pos; i < end; i++) {
      if (data[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) {
      if (start >= 0) target.write(offset + start, data.subarray(start, pos));
      start = -1;
    } else if (start < 0) start = pos;
  }
  if (start >= 0) target.write(offset + start, data.subarray(start));
}
