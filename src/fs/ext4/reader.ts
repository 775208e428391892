import { KilnError } from '../../errors.js';
import { bytesToName, nameToBytes } from '../name-bytes.js';
import type { BlockSource } from '../block-target.js';
import { crc32cUpdate } from '../checksum/crc32c.js';
import { readContent, type ContentReader, type FileContent } from '../file-content.js';
import { checkedSource, type FsDirEntry, type FsReader, type FsStat } from '../reader.js';
import type { NodeType, Timestamp } from '../tree.js';
import {
  BG_BLOCK_UNINIT,
  BG_INODE_UNINIT,
  COMPAT,
  EXT4_MAGIC,
  FLAGS_UNSIGNED_HASH,
  GOOD_OLD_INODE_SIZE,
  HASH,
  INCOMPAT,
  INODE_FLAG,
  ROOT_INO,
  RO_COMPAT,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
} from './constants.js';
import { DIRENT_TAIL_SIZE, DirentTail, dirBlockChecksum, hasDirBlockTail } from './dirent.js';
import { decodeGroupDescriptor, groupDescriptorChecksum, GroupDescriptor, type GroupInfo } from './group-descriptor.js';
import { DX_NODE_ENTRIES_OFFSET, DxTail, dxChecksum } from './htree.js';
import { InodeStruct, decodeDevice, decodeTime, inodeChecksum, inodeSeed, type InodeValues } from './inode.js';
import { blockMapRuns, corrupt, extentBlockSums, extentRuns, type BlockDevice, type BlockRun } from './reader-blocks.js';
import { dirHash, dxFind, dxPairs, parseDirents, parseDxRoot, type RawDirent } from './reader-dir.js';
import { parseIbodyXattrs, parseXattrBlock, type RawXattr } from './reader-xattr.js';
import { Superblock, blocksCount, checksumSeed, groupHasSuper, superblockChecksum, type SuperblockValues } from './superblock.js';
import { XattrBlockHeader, xattrBlockChecksum } from './xattr.js';

/**
 * A reader for ext2, ext3 and ext4 images: ours and mke2fs's. It resolves paths through
 * linear and hashed directories, maps file blocks through extent trees or the classic block
 * map, and decodes everything `FsStat` carries. With `verify`, every crc32c it reads past
 * (superblock, group descriptors, inodes, extent, directory, htree and xattr blocks; bitmaps in
 * `verifyAll`) is checked and mismatches are collected in `checksumErrors`.
 */

export interface Ext4ReadOptions {
  /** Check metadata checksums as they are read (metadata_csum filesystems). */
  verify?: boolean;
  /**
   * Called for each mismatch as it is found (after it is recorded in `checksumErrors`), before
   * the structure is used: throw from it to stop at the first bad checksum.
   */
  onChecksumError?: (error: ChecksumError) => void;
}

export interface ChecksumError {
  /** What was checked, e.g. 'inode 12' or 'directory block 530 of inode 2'. */
  what: string;
  stored: number;
  computed: number;
}

export interface Ext4Info {
  blockSize: number;
  blocksCount: number;
  inodesCount: number;
  groups: number;
  inodeSize: number;
  label: string;
  uuid: string;
  features: { compat: number; incompat: number; roCompat: number };
}

/** A decoded inode, with the raw 60-byte i_block and the in-inode xattr area. */
export interface Ext4Inode {
  ino: number;
  fields: InodeValues;
  mode: number;
  type: NodeType;
  size: number;
  uid: number;
  gid: number;
  links: number;
  flags: number;
  /** Extra inode fields in use beyond the first 128 bytes. */
  extraIsize: number;
  xattrBlock: number;
  iBlock: Uint8Array;
  ibodyXattrArea: Uint8Array;
}

const TYPE_BY_MODE = new Map<number, NodeType>([
  [S_IFREG, 'file'],
  [S_IFDIR, 'dir'],
  [S_IFLNK, 'symlink'],
  [S_IFCHR, 'char'],
  [S_IFBLK, 'block'],
  [S_IFIFO, 'fifo'],
  [S_IFSOCK, 'socket'],
]);

const utf8 = new TextDecoder();

/** Incompat features whose on-disk layout this reader follows; any other bit is refused. */
const READABLE_INCOMPAT =
  INCOMPAT.FILETYPE |
  INCOMPAT.RECOVER |
  INCOMPAT.META_BG |
  INCOMPAT.EXTENTS |
  INCOMPAT.BIT64 |
  INCOMPAT.MMP |
  INCOMPAT.FLEX_BG |
  INCOMPAT.EA_INODE |
  INCOMPAT.CSUM_SEED |
  INCOMPAT.LARGEDIR |
  INCOMPAT.INLINE_DATA |
  INCOMPAT.ENCRYPT |
  INCOMPAT.CASEFOLD;

/** Longest symlink target Linux creates (PATH_MAX less the NUL); ext4 also caps it below a block. */
const SYMLINK_MAX = 4095;
/** Largest xattr value Linux accepts (XATTR_SIZE_MAX): the bound for values kept in an EA inode. */
const XATTR_VALUE_MAX = 65536;

/** An inline-data inode's system.data entry holds the rest of its bytes in the inode itself, never in an EA inode. */
function checkSystemData(x: RawXattr, ino: number): void {
  if (x.valueInode) throw corrupt(`inode ${ino}: its inline data (system.data) points at inode ${x.valueInode}; inline data lies in the inode itself`);
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

export class Ext4Reader implements FsReader {
  readonly kind = 'ext4' as const;
  readonly sb: SuperblockValues;
  readonly blockSize: number;
  readonly groupCount: number;
  readonly inodeSize: number;
  readonly descSize: number;
  readonly checksumErrors: ChecksumError[] = [];
  private readonly groups: GroupInfo[] = [];
  private readonly compat: number;
  private readonly incompat: number;
  private readonly roCompat: number;
  private readonly csum: boolean;
  private readonly seed: number;
  private readonly verify: boolean;
  private readonly dev: BlockDevice;
  private readonly inodeCache = new Map<number, Ext4Inode>();
  private readonly onChecksumError: ((error: ChecksumError) => void) | undefined;
  /** Every read goes through this: one outside the image is an ext4-corrupt KilnError. */
  readonly source: BlockSource;
  /** Blocks in the filesystem (s_blocks_count): block numbers read from the image are checked against it. */
  readonly blocks: number;

  constructor(source: BlockSource, options: Ext4ReadOptions = {}) {
    source = checkedSource(source, 'ext4-corrupt', 'ext4 image');
    this.source = source;
    this.onChecksumError = options.onChecksumError;
    if (source.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) throw corrupt(`image of ${source.size} bytes is too small for an ext2/3/4 superblock`);
    const sbBytes = source.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE);
    const sb = Superblock.decode(sbBytes);
    if (sb.s_magic !== EXT4_MAGIC)
      throw new KilnError(
        'not-ext4',
        `no ext2/3/4 superblock (magic 0x${sb.s_magic.toString(16)} at byte 1080)`,
        'is it another filesystem, or a partitioned disk (IMAGE:N)?',
      );
    this.sb = sb;
    this.verify = options.verify === true;
    this.compat = sb.s_feature_compat;
    this.incompat = sb.s_feature_incompat;
    this.roCompat = sb.s_feature_ro_compat;
    if (sb.s_log_block_size > 6) throw corrupt(`block size 2^${10 + sb.s_log_block_size} is out of range`);
    this.blockSize = 1024 << sb.s_log_block_size;
    if (this.incompat & (INCOMPAT.COMPRESSION | INCOMPAT.JOURNAL_DEV)) {
      throw new KilnError(
        'ext4-unsupported',
        `this ext filesystem uses features kiln cannot read (incompat 0x${this.incompat.toString(16)})`,
        'compressed filesystems and external journal devices are not supported',
      );
    }
    const unknown = this.incompat & ~READABLE_INCOMPAT;
    if (unknown !== 0) {
      throw new KilnError(
        'ext4-unsupported',
        `this ext filesystem has incompatible features kiln does not know (incompat bits 0x${(unknown >>> 0).toString(16)})`,
        'a newer tool may read it; if the image is damaged, e2fsck -fn tells more',
      );
    }
    // bigalloc allocates in clusters, but extents, block maps and inode tables still count
    // blocks: reading needs only the cluster geometry to be consistent.
    const bigalloc = (this.roCompat & RO_COMPAT.BIGALLOC) !== 0;
    const clusterLog = bigalloc ? sb.s_log_cluster_size - sb.s_log_block_size : 0;
    if (clusterLog < 0 || clusterLog > 16)
      throw corrupt(`superblock: cluster size 2^${10 + sb.s_log_cluster_size} with 2^${10 + sb.s_log_block_size}-byte blocks`);
    this.inodeSize = sb.s_rev_level === 0 ? GOOD_OLD_INODE_SIZE : sb.s_inode_size;
    if (this.inodeSize < GOOD_OLD_INODE_SIZE || this.inodeSize > this.blockSize || (this.inodeSize & (this.inodeSize - 1)) !== 0) {
      throw corrupt(`inode size ${this.inodeSize} is invalid`);
    }
    this.descSize = this.incompat & INCOMPAT.BIT64 ? sb.s_desc_size : 32;
    if (this.descSize < 32 || this.descSize > 1024 || (this.descSize & (this.descSize - 1)) !== 0)
      throw corrupt(`group descriptor size ${this.descSize} is invalid`);
    // The bounds libext2fs's ext2fs_open checks: every later index is derived from these.
    const bitsPerBlock = this.blockSize * 8;
    const clustersPerGroup = bigalloc ? sb.s_clusters_per_group : sb.s_blocks_per_group;
    if (clustersPerGroup === 0 || clustersPerGroup > bitsPerBlock || sb.s_blocks_per_group !== clustersPerGroup * 2 ** clusterLog) {
      throw corrupt(`superblock: ${sb.s_blocks_per_group} blocks per group (${clustersPerGroup} clusters; 1 to ${bitsPerBlock} fit a bitmap)`);
    }
    if (sb.s_inodes_per_group === 0 || sb.s_inodes_per_group > bitsPerBlock)
      throw corrupt(`superblock: ${sb.s_inodes_per_group} inodes per group (1 to ${bitsPerBlock} fit an inode bitmap)`);
    this.blocks = blocksCount(sb);
    if (sb.s_first_data_block >= this.blocks || sb.s_first_data_block > 1) {
      throw corrupt(`superblock: first data block ${sb.s_first_data_block} in a filesystem of ${this.blocks} blocks (it is 0, or 1 with 1 KiB blocks)`);
    }
    this.groupCount = Math.ceil((this.blocks - sb.s_first_data_block) / sb.s_blocks_per_group);
    if (sb.s_inodes_count === 0 || sb.s_inodes_count > this.groupCount * sb.s_inodes_per_group) {
      throw corrupt(
        `superblock: ${sb.s_inodes_count} inodes, but ${this.groupCount} groups of ${sb.s_inodes_per_group} hold ${this.groupCount * sb.s_inodes_per_group}`,
      );
    }
    // The descriptor table must fit in the image before it is read (one descriptor per group).
    if (this.groupCount * this.descSize > source.size) {
      throw corrupt(`superblock: ${this.blocks} blocks make ${this.groupCount} groups, whose descriptors alone exceed the ${source.size}-byte image`);
    }
    this.csum = (this.roCompat & RO_COMPAT.METADATA_CSUM) !== 0;
    this.seed = this.csum ? checksumSeed(sb, (this.incompat & INCOMPAT.CSUM_SEED) !== 0) : 0;
    if (this.verify && this.csum) this.check('superblock', sb.s_checksum, superblockChecksum(sbBytes));
    this.dev = { blockSize: this.blockSize, blocks: this.blocks, readBlock: (b) => this.readBlock(b) };
    this.readGroupDescriptors();
  }

  // ---- the FsReader interface ----

  stat(path: string): FsStat {
    return this.statInode(this.lookup(path));
  }

  list(path: string): FsDirEntry[] {
    const ino = this.lookup(path);
    const inode = this.inode(ino);
    if (inode.type !== 'dir') throw new KilnError('not-a-directory', `'${path}' is not a directory in the image`, 'list a directory');
    return this.dirEntries(inode).map((e) => ({ name: bytesToName(e.name), stat: this.statInode(e.ino) }));
  }

  readFile(path: string): Uint8Array {
    return readContent(this.content(path));
  }

  content(path: string): FileContent {
    const inode = this.inode(this.lookup(path));
    if (inode.type !== 'file') throw new KilnError('not-a-file', `'${path}' is not a regular file in the image`, 'name a regular file');
    return this.inodeContent(inode);
  }

  // ---- beyond FsReader ----

  info(): Ext4Info {
    const u = this.sb.s_uuid;
    const h = [...u].map((b) => b.toString(16).padStart(2, '0')).join('');
    return {
      blockSize: this.blockSize,
      blocksCount: blocksCount(this.sb),
      inodesCount: this.sb.s_inodes_count,
      groups: this.groupCount,
      inodeSize: this.inodeSize,
      label: this.sb.s_volume_name,
      uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
      features: { compat: this.compat, incompat: this.incompat, roCompat: this.roCompat },
    };
  }

  /** The inode number a path names (no symlinks are followed). */
  lookup(path: string): number {
    let ino = ROOT_INO;
    let walked = '';
    const root = this.inode(ROOT_INO);
    if (root.type !== 'dir') throw corrupt(`the root inode (2) is a ${root.type}, not a directory`);
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      const dir = this.inode(ino);
      if (dir.type !== 'dir') throw new KilnError('not-a-directory', `'${walked}' is not a directory in the image`, 'check the path');
      const found = this.findEntry(dir, nameToBytes(part));
      walked = walked ? `${walked}/${part}` : part;
      if (found === undefined) throw new KilnError('no-such-path', `no '${walked}' in the image`, "list the directory with 'kiln image ls'");
      ino = found;
    }
    return ino;
  }

  /** Reads and decodes inode `ino` (cached). */
  inode(ino: number): Ext4Inode {
    const cached = this.inodeCache.get(ino);
    if (cached) return cached;
    if (ino < 1 || ino > this.sb.s_inodes_count) throw corrupt(`inode number ${ino} is out of range`);
    const group = Math.floor((ino - 1) / this.sb.s_inodes_per_group);
    const index = (ino - 1) % this.sb.s_inodes_per_group;
    const g = this.groups[group];
    if (!g) throw corrupt(`inode ${ino} is in group ${group}, but the filesystem has ${this.groups.length} groups`);
    const tableBlocks = Math.ceil((this.sb.s_inodes_per_group * this.inodeSize) / this.blockSize);
    if (g.inodeTable <= this.sb.s_first_data_block || g.inodeTable + tableBlocks > this.blocks) {
      throw corrupt(`group ${group}: inode table at block ${g.inodeTable} (${tableBlocks} blocks) lies outside the filesystem's ${this.blocks} blocks`);
    }
    const at = g.inodeTable * this.blockSize + index * this.inodeSize;
    if (at + this.inodeSize > this.source.size) throw corrupt(`inode ${ino} lies outside the ${this.source.size}-byte image`);
    const raw = this.source.read(at, this.inodeSize);
    // Decode through a 256-byte view so 128-byte inodes read their (absent) extra fields as 0.
    const buf = raw.length >= InodeStruct.size ? raw : padded(raw, InodeStruct.size);
    const f = InodeStruct.decode(buf);
    const extraIsize = this.inodeSize > GOOD_OLD_INODE_SIZE ? f.i_extra_isize : 0;
    if (GOOD_OLD_INODE_SIZE + extraIsize > this.inodeSize) throw corrupt(`inode ${ino}: i_extra_isize ${extraIsize} overruns the ${this.inodeSize}-byte inode`);
    if (this.verify && this.csum) {
      const computed = inodeChecksum(this.seed, ino, raw, 0, this.inodeSize);
      const wide = this.inodeSize > GOOD_OLD_INODE_SIZE && extraIsize >= 4;
      const stored = f.i_checksum_lo + (wide ? f.i_checksum_hi * 65536 : 0);
      this.check(`inode ${ino}`, stored, wide ? computed : computed & 0xffff);
    }
    const mode = f.i_mode;
    const type = TYPE_BY_MODE.get(mode & S_IFMT);
    if (!type) throw corrupt(`inode ${ino}: unknown file type in mode 0${mode.toString(8)}`);
    const inode: Ext4Inode = {
      ino,
      fields: f,
      mode,
      type,
      size: f.i_size_lo + f.i_size_high * 2 ** 32,
      uid: f.i_uid + f.i_uid_high * 65536,
      gid: f.i_gid + f.i_gid_high * 65536,
      links: f.i_links_count,
      flags: f.i_flags,
      extraIsize,
      xattrBlock: f.i_file_acl_lo + f.i_file_acl_high * 2 ** 32,
      iBlock: f.i_block,
      ibodyXattrArea: raw.subarray(GOOD_OLD_INODE_SIZE + extraIsize, this.inodeSize),
    };
    this.inodeCache.set(ino, inode);
    return inode;
  }

  statInode(ino: number): FsStat {
    const inode = this.inode(ino);
    const f = inode.fields;
    // An _extra field exists when i_extra_isize covers it.
    const extra = (offset: number): boolean => inode.extraIsize >= offset + 4 - GOOD_OLD_INODE_SIZE;
    const time = (sec: number, extraField: number, extraOffset: number): Timestamp => decodeTime(sec, extra(extraOffset) ? extraField : undefined);
    const st: FsStat = {
      type: inode.type,
      mode: inode.mode & 0o7777,
      uid: inode.uid,
      gid: inode.gid,
      size: inode.size,
      mtime: time(f.i_mtime, f.i_mtime_extra, InodeStruct.offsetOf('i_mtime_extra')),
      atime: time(f.i_atime, f.i_atime_extra, InodeStruct.offsetOf('i_atime_extra')),
      ctime: time(f.i_ctime, f.i_ctime_extra, InodeStruct.offsetOf('i_ctime_extra')),
      ino,
      nlink: inode.links,
    };
    if (extra(InodeStruct.offsetOf('i_crtime_extra'))) st.crtime = decodeTime(f.i_crtime, f.i_crtime_extra);
    if (inode.type === 'symlink') st.target = bytesToName(this.symlinkBytes(inode));
    if (inode.type === 'char' || inode.type === 'block') st.rdev = decodeDevice(inode.iBlock);
    const xattrs = this.xattrsOf(inode);
    if (xattrs.size > 0) st.xattrs = xattrs;
    return st;
  }

  /** Entries of a directory inode, '.' and '..' left out, in on-disk order. */
  dirEntries(dir: Ext4Inode): RawDirent[] {
    const where = `directory inode ${dir.ino}`;
    if (dir.flags & INODE_FLAG.ENCRYPT) {
      // Without the key its names are ciphertext: listing them as names would be wrong.
      throw new KilnError(
        'ext4-encrypted',
        `${where} is encrypted (fscrypt); its names cannot be read without the key`,
        'list an unencrypted directory, or read the filesystem where the key is loaded',
      );
    }
    if (dir.flags & INODE_FLAG.INLINE_DATA) {
      const data = this.inlineData(dir);
      // The parent's inode number comes first; records follow in i_block, then in system.data.
      const inIBlock = Math.min(data.length, dir.iBlock.length);
      return [...parseDirents(data, 4, inIBlock, where), ...parseDirents(data, inIBlock, data.length, where)];
    }
    const out: RawDirent[] = [];
    const runs = this.runsOf(dir);
    const nblocks = Math.ceil(dir.size / this.blockSize);
    // Walk the mapped blocks, not every logical block below i_size: a damaged i_size_high must
    // not make billions of holes to step over. A directory cannot hold more blocks than the
    // filesystem has.
    let mapped = 0;
    for (const run of runs) {
      // Neither is ever written for a directory; listing around them would hide entries that
      // debugfs (which reads every mapped block) shows, so the damage is named instead.
      if (run.unwritten) throw corrupt(`${where}: has an unwritten (preallocated) extent at block ${run.logical}; directories never do`);
      if (run.logical + run.length > nblocks) throw corrupt(`${where}: maps block ${Math.max(run.logical, nblocks)}, past its size of ${dir.size} bytes`);
      const end = run.logical + run.length;
      mapped += Math.max(0, end - run.logical);
      if (mapped > this.blocks) throw corrupt(`${where}: maps more blocks than the filesystem's ${this.blocks}`);
      for (let lb = run.logical; lb < end; lb++) {
        const block = this.dirBlock(dir, runs, lb);
        if (!block) continue;
        for (const e of parseDirents(block, 0, block.length, `${where}, block ${lb}`)) {
          if (isDotOrDotDot(e.name)) continue;
          out.push(e);
        }
      }
    }
    return out;
  }

  /** Extended attributes of an inode, in-inode ones first. */
  xattrsOf(inode: Ext4Inode): Map<string, Uint8Array> {
    const raw: RawXattr[] = [];
    if (inode.ibodyXattrArea.length > 0) raw.push(...parseIbodyXattrs(inode.ibodyXattrArea, `inode ${inode.ino}`));
    if (inode.xattrBlock !== 0) {
      const block = this.readBlock(inode.xattrBlock);
      const where = `xattr block ${inode.xattrBlock} of inode ${inode.ino}`;
      if (this.verify && this.csum) {
        this.check(where, XattrBlockHeader.get(block, 'h_checksum') as number, xattrBlockChecksum(this.seed, inode.xattrBlock, block));
      }
      raw.push(...parseXattrBlock(block, where));
    }
    const out = new Map<string, Uint8Array>();
    for (const x of raw) {
      // system.data holds inline file data (inline_data), not a user-visible attribute.
      if (x.name === 'system.data') {
        checkSystemData(x, inode.ino);
        continue;
      }
      out.set(x.name, x.valueInode ? this.eaInodeValue(inode, x.name, x.valueInode) : x.value);
    }
    return out;
  }

  /**
   * Walks every inode reachable from the root and every group's bitmaps and returns the
   * checksum errors found (verify mode is turned on for the walk).
   */
  verifyAll(): ChecksumError[] {
    const v = new Ext4Reader(this.source, { verify: true });
    v.checkBitmaps();
    const seen = new Set<number>();
    const walk = (ino: number): void => {
      if (seen.has(ino)) return;
      seen.add(ino);
      const inode = v.inode(ino);
      v.xattrsOf(inode);
      if (inode.type === 'dir') {
        v.checkHtree(inode);
        for (const e of v.dirEntries(inode)) walk(e.ino);
      } else if (inode.type === 'file' || (inode.type === 'symlink' && !v.isFastSymlink(inode))) v.runsOf(inode);
    };
    walk(ROOT_INO);
    return v.checksumErrors;
  }

  // ---- internals ----

  private check(what: string, stored: number, computed: number): void {
    if (stored >>> 0 === computed >>> 0) return;
    const error = { what, stored: stored >>> 0, computed: computed >>> 0 };
    this.checksumErrors.push(error);
    this.onChecksumError?.(error);
  }

  readBlock(block: number): Uint8Array {
    const at = block * this.blockSize;
    if (block <= 0 || block >= this.blocks) throw corrupt(`block ${block} is outside the filesystem's ${this.blocks} blocks`);
    if (at + this.blockSize > this.source.size) throw corrupt(`block ${block} is outside the ${this.source.size}-byte image`);
    return this.source.read(at, this.blockSize);
  }

  /** A value kept in an EA inode (ea_inode): a regular file of at most XATTR_SIZE_MAX bytes. */
  private eaInodeValue(owner: Ext4Inode, name: string, valueIno: number): Uint8Array {
    const v = this.inode(valueIno);
    if (v.type !== 'file' || v.size > XATTR_VALUE_MAX) {
      throw corrupt(
        `inode ${owner.ino}: xattr ${name} has its value in inode ${valueIno}, a ${v.size}-byte ${v.type} (a value is a file of at most ${XATTR_VALUE_MAX} bytes)`,
      );
    }
    return this.readAll(v);
  }

  private groupFirstBlock(group: number): number {
    return this.sb.s_first_data_block + group * this.sb.s_blocks_per_group;
  }

  private readGroupDescriptors(): void {
    const perBlock = this.blockSize / this.descSize;
    const descBlocks = Math.ceil(this.groupCount / perBlock);
    const metaBg = (this.incompat & INCOMPAT.META_BG) !== 0;
    for (let i = 0; i < descBlocks; i++) {
      // The table follows the superblock's block (block 2 with 1 KiB blocks, also when bigalloc
      // makes the first data block 0).
      let blockNo = Math.floor(SUPERBLOCK_OFFSET / this.blockSize) + 1 + i;
      if (metaBg && i >= this.sb.s_first_meta_bg) {
        const g = i * perBlock;
        blockNo = this.groupFirstBlock(g) + (groupHasSuper(g, (this.roCompat & RO_COMPAT.SPARSE_SUPER) !== 0) ? 1 : 0);
      }
      const block = this.readBlock(blockNo);
      for (let j = 0; j < perBlock && i * perBlock + j < this.groupCount; j++) {
        const group = i * perBlock + j;
        const base = j * this.descSize;
        // 32-byte descriptors: decode through a zero-padded copy of the full-size table.
        const desc =
          this.descSize >= GroupDescriptor.size
            ? block.subarray(base, base + this.descSize)
            : padded(block.subarray(base, base + this.descSize), GroupDescriptor.size);
        this.groups.push(decodeGroupDescriptor(desc, 0, this.descSize));
        if (this.verify && this.csum) {
          this.check(
            `group descriptor ${group}`,
            GroupDescriptor.get(desc, 'bg_checksum') as number,
            groupDescriptorChecksum(this.seed, group, block, base, this.descSize),
          );
        }
      }
    }
  }

  private checkBitmaps(): void {
    if (!this.csum) return;
    const wide = this.descSize >= 64;
    const mask = (v: number): number => (wide ? v : v & 0xffff);
    for (let g = 0; g < this.groupCount; g++) {
      const d = this.groups[g]!;
      if (!(d.flags & BG_BLOCK_UNINIT)) {
        const bitmap = this.readBlock(d.blockBitmap);
        const bytes = Math.min(bitmap.length, Math.ceil(this.sb.s_clusters_per_group / 8));
        this.check(`block bitmap of group ${g}`, d.blockBitmapCsum, mask(crc32cUpdate(this.seed, bitmap, 0, bytes)));
      }
      if (!(d.flags & BG_INODE_UNINIT)) {
        const bitmap = this.readBlock(d.inodeBitmap);
        const bytes = Math.min(bitmap.length, Math.ceil(this.sb.s_inodes_per_group / 8));
        this.check(`inode bitmap of group ${g}`, d.inodeBitmapCsum, mask(crc32cUpdate(this.seed, bitmap, 0, bytes)));
      }
    }
  }

  private inodeSeedOf(inode: Ext4Inode): number {
    return inodeSeed(this.seed, inode.ino, inode.fields.i_generation);
  }

  /** Logical-to-physical runs of an inode's data. */
  runsOf(inode: Ext4Inode): BlockRun[] {
    const where = `inode ${inode.ino}`;
    // inline data lives in i_block and an xattr: i_block holds bytes, not block numbers
    if (inode.flags & INODE_FLAG.INLINE_DATA) return [];
    if (inode.flags & INODE_FLAG.EXTENTS) {
      const seed = this.inodeSeedOf(inode);
      const check = this.verify && this.csum ? (block: Uint8Array, w: string): void => this.check(w, ...extentBlockSums(seed, block)) : undefined;
      return extentRuns(this.dev, inode.iBlock, where, check);
    }
    return blockMapRuns(this.dev, inode.iBlock, Math.ceil(inode.size / this.blockSize), where);
  }

  /** Directory block `lb` (verified), or undefined for a hole. */
  private dirBlock(dir: Ext4Inode, runs: BlockRun[], lb: number): Uint8Array | undefined {
    const phys = physicalOf(runs, lb);
    if (phys === undefined) return undefined;
    const block = this.readBlock(phys);
    if (this.verify && this.csum && hasDirBlockTail(block)) {
      const at = block.length - DIRENT_TAIL_SIZE;
      this.check(
        `directory block ${lb} (block ${phys}) of inode ${dir.ino}`,
        DirentTail.get(block, 'det_checksum', at) as number,
        dirBlockChecksum(this.inodeSeedOf(dir), block),
      );
    }
    return block;
  }

  private hashedLookupPossible(dir: Ext4Inode): boolean {
    return (
      (dir.flags & INODE_FLAG.INDEX) !== 0 &&
      (this.compat & COMPAT.DIR_INDEX) !== 0 &&
      (this.incompat & (INCOMPAT.CASEFOLD | INCOMPAT.ENCRYPT)) === 0 &&
      (dir.flags & INODE_FLAG.INLINE_DATA) === 0
    );
  }

  /** Finds a name: through the htree in an indexed directory (as the kernel does), else by scanning. */
  private findEntry(dir: Ext4Inode, name: Uint8Array): number | undefined {
    if (this.hashedLookupPossible(dir)) return this.htreeLookup(dir, name);
    for (const e of this.dirEntries(dir)) if (sameBytes(e.name, name)) return e.ino;
    return undefined;
  }

  private hashVersion(rootVersion: number): number {
    const unsigned = (this.sb.s_flags & FLAGS_UNSIGNED_HASH) !== 0;
    return unsigned && rootVersion <= HASH.TEA ? rootVersion + 3 : rootVersion;
  }

  private htreeLookup(dir: Ext4Inode, name: Uint8Array): number | undefined {
    const runs = this.runsOf(dir);
    const where = `htree of directory inode ${dir.ino}`;
    const rootBlock = this.dirIndexBlock(dir, runs, 0, where);
    const root = parseDxRoot(rootBlock, where);
    // on disk 0 legacy, 1 half-MD4, 2 TEA; the unsigned variants come from the superblock's flags
    if (root.hashVersion > HASH.TEA) throw corrupt(`${where}: hash version ${root.hashVersion} is not one ext4 defines (0 legacy, 1 half-MD4, 2 TEA)`);
    const { hash } = dirHash(name, this.hashVersion(root.hashVersion), this.sb.s_hash_seed);
    let pairs = dxPairs(rootBlock, root.entriesOffset, where);
    let i = dxFind(pairs, hash);
    for (let level = 0; level < root.levels; level++) {
      const node = this.dirIndexBlock(dir, runs, pairs[i]!.block, where);
      pairs = dxPairs(node, DX_NODE_ENTRIES_OFFSET, where);
      i = dxFind(pairs, hash);
    }
    // A run of equal hashes may continue into the next leaves (their index hash has bit 0 set).
    for (;;) {
      const leaf = this.dirBlock(dir, runs, pairs[i]!.block);
      if (leaf) {
        for (const e of parseDirents(leaf, 0, leaf.length, `${where}, leaf ${pairs[i]!.block}`)) if (sameBytes(e.name, name)) return e.ino;
      }
      const next = pairs[i + 1];
      if (!next || (next.hash & 1) === 0 || (next.hash & ~1) >>> 0 !== hash) return undefined;
      i++;
    }
  }

  /** An htree root or node block (checksum verified). */
  private dirIndexBlock(dir: Ext4Inode, runs: BlockRun[], lb: number, where: string): Uint8Array {
    const phys = physicalOf(runs, lb);
    if (phys === undefined) throw corrupt(`${where}: index block ${lb} is a hole`);
    const block = this.readBlock(phys);
    if (this.verify && this.csum) {
      const entriesOffset = lb === 0 ? parseDxRoot(block, where).entriesOffset : DX_NODE_ENTRIES_OFFSET;
      const limit = block[entriesOffset]! | (block[entriesOffset + 1]! << 8);
      const tail = entriesOffset + limit * 8;
      if (tail + DxTail.size <= block.length) {
        this.check(
          `htree block ${lb} (block ${phys}) of inode ${dir.ino}`,
          DxTail.get(block, 'dt_checksum', tail) as number,
          dxChecksum(this.inodeSeedOf(dir), block, entriesOffset),
        );
      }
    }
    return block;
  }

  /** Checks every index block of a hashed directory and that each name sits in the leaf its hash leads to. */
  private checkHtree(dir: Ext4Inode): void {
    if (!this.hashedLookupPossible(dir)) return;
    for (const e of this.dirEntries(dir)) {
      if (this.htreeLookup(dir, e.name) !== e.ino) {
        this.checksumErrors.push({ what: `htree of directory inode ${dir.ino} does not lead to '${utf8.decode(e.name)}'`, stored: 0, computed: 0 });
      }
    }
  }

  isFastSymlink(inode: Ext4Inode): boolean {
    if (inode.flags & INODE_FLAG.INLINE_DATA) return false;
    const f = inode.fields;
    const blocks = f.i_blocks_lo + f.i_blocks_high * 2 ** 32;
    const eaBlocks = inode.xattrBlock !== 0 ? this.blockSize / 512 : 0;
    return blocks - eaBlocks === 0 && inode.size < inode.iBlock.length;
  }

  private symlinkBytes(inode: Ext4Inode): Uint8Array {
    // Bounded before anything is allocated: a damaged i_size must not become a 3 GiB buffer.
    const max = Math.min(SYMLINK_MAX, this.blockSize - 1);
    if (inode.size > max) throw corrupt(`symlink inode ${inode.ino}: target of ${inode.size} bytes (a symlink target is at most ${max} bytes here)`);
    if (inode.flags & INODE_FLAG.INLINE_DATA) return this.inlineData(inode).subarray(0, inode.size);
    if (this.isFastSymlink(inode)) return inode.iBlock.slice(0, inode.size);
    return this.readAll(inode);
  }

  /** Inline data: i_block, then the system.data xattr. */
  private inlineData(inode: Ext4Inode): Uint8Array {
    const data = parseIbodyXattrs(inode.ibodyXattrArea, `inode ${inode.ino}`).find((x) => x.name === 'system.data');
    if (data) checkSystemData(data, inode.ino);
    const rest = data?.value ?? new Uint8Array(0);
    const out = new Uint8Array(inode.iBlock.length + rest.length);
    out.set(inode.iBlock);
    out.set(rest, inode.iBlock.length);
    return out;
  }

  private readAll(inode: Ext4Inode): Uint8Array {
    const c = this.inodeContent(inode);
    const out = new Uint8Array(c.size);
    const r = c.open();
    r.read(0, out);
    r.close();
    return out;
  }

  private inodeContent(inode: Ext4Inode): FileContent {
    const size = inode.size;
    if (inode.flags & INODE_FLAG.INLINE_DATA) {
      const data = this.inlineData(inode).subarray(0, size);
      return { size, open: () => bytesReader(data) };
    }
    return { size, open: () => new RunReader(this.source, this.blockSize, this.runsOf(inode), size) };
  }
}

function bytesReader(data: Uint8Array): ContentReader {
  return {
    read(offset, into) {
      const n = Math.max(0, Math.min(into.length, data.length - offset));
      into.set(data.subarray(offset, offset + n));
      return n;
    },
    close() {},
  };
}

/** Reads a file through its block runs: holes and unwritten extents read as zeros. */
class RunReader implements ContentReader {
  constructor(
    private readonly source: BlockSource,
    private readonly blockSize: number,
    private readonly runs: BlockRun[],
    private readonly size: number,
  ) {}

  read(offset: number, into: Uint8Array): number {
    const want = Math.max(0, Math.min(into.length, this.size - offset));
    const bs = this.blockSize;
    let done = 0;
    let i = 0;
    while (done < want) {
      const pos = offset + done;
      const lb = Math.floor(pos / bs);
      i = runIndex(this.runs, lb, i);
      const run = this.runs[i];
      let n: number;
      if (run && lb >= run.logical && lb < run.logical + run.length) {
        n = Math.min(want - done, (run.logical + run.length) * bs - pos);
        const from = (run.physical - run.logical) * bs + pos;
        if (run.unwritten) into.fill(0, done, done + n);
        else if (from + n > this.source.size) throw corrupt(`file data at byte ${from} lies outside the ${this.source.size}-byte image`);
        else into.set(this.source.read(from, n), done);
      } else {
        const next = run && run.logical > lb ? run : this.runs[i + 1];
        const holeEnd = next && next.logical > lb ? next.logical * bs : Infinity;
        n = Math.min(want - done, holeEnd - pos);
        into.fill(0, done, done + n);
      }
      done += n;
    }
    return want;
  }

  close(): void {}
}

/** Index of the last run starting at or before `lb` (or 0), searching from `hint`. */
function runIndex(runs: BlockRun[], lb: number, hint: number): number {
  if (runs.length === 0) return 0;
  let lo = 0;
  let hi = runs.length - 1;
  if (hint < runs.length && runs[hint]!.logical <= lb && (hint + 1 >= runs.length || runs[hint + 1]!.logical > lb)) return hint;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (runs[mid]!.logical <= lb) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function physicalOf(runs: BlockRun[], lb: number): number | undefined {
  const run = runs[runIndex(runs, lb, 0)];
  if (!run || lb < run.logical || lb >= run.logical + run.length || run.unwritten) return undefined;
  return run.physical + (lb - run.logical);
}

function padded(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isDotOrDotDot(name: Uint8Array): boolean {
  return name[0] === 0x2e && (name.length === 1 || (name.length === 2 && name[1] === 0x2e));
}

/** Opens an ext2/3/4 filesystem held in `source`. */
export function readExt4(source: BlockSource, options: Ext4ReadOptions = {}): Ext4Reader {
  return new Ext4Reader(source, options);
}

export { hex as formatChecksum };
