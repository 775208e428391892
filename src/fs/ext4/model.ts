import { createHash } from '../checksum/sha256.js';
import { KilnError } from '../../errors.js';
import { hasRawBytes, nameToBytes, printableName } from '../name-bytes.js';
import { makeInode, parentOf, type Inode, type Timestamp } from '../tree.js';
import type { TreeSnapshot } from '../tree-snapshot.js';
import { FAST_SYMLINK_MAX, FIRST_INO, FT, LINK_MAX, LOST_FOUND_INO, NAME_MAX, ROOT_INO } from './constants.js';
import { layoutDirectory, type DirChild, type DirLayout } from './directory.js';
import { formatUuid } from '../uuid.js';
import type { ResolvedOptions } from './options.js';
import { placeXattrs, prepareXattrs, type XattrPlacement } from './xattr-layout.js';

/**
 * The tree as ext4 will hold it, independent of the filesystem size: inode numbers, link
 * counts, directory layouts and xattr placement. Planning and writing both start here.
 */
export interface InodeRecord {
  ino: number;
  node: Inode;
  /** First path naming the inode (for messages). */
  path: string;
  links: number;
  dir?: { parent: number; layout: DirLayout };
  symlink?: Uint8Array;
  xattrs?: XattrPlacement;
}

export interface Ext4Model {
  /** By inode number; holes for the reserved inodes. */
  records: (InodeRecord | undefined)[];
  maxIno: number;
  uuid: Uint8Array;
  hashSeed: Uint8Array;
  contentBytes: number;
  /** The time the filesystem itself is stamped with (superblock, journal, lost+found). */
  fsTime: number;
}

const utf8 = new TextEncoder();
/** Names and targets are bytes (name-bytes.ts); this is what lands in dirents and symlinks. */
const bytesOf = nameToBytes;

const FILE_TYPES: Record<Inode['type'], number> = {
  file: FT.REG,
  dir: FT.DIR,
  symlink: FT.SYMLINK,
  char: FT.CHR,
  block: FT.BLK,
  fifo: FT.FIFO,
  socket: FT.SOCK,
};

function uuidFrom(digest: Uint8Array, version: number): Uint8Array {
  const b = Uint8Array.from(digest.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | (version << 4);
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b;
}

/** Times later than SOURCE_DATE_EPOCH become SOURCE_DATE_EPOCH. */
export function clampTime(t: Timestamp, epoch: number | undefined): Timestamp {
  if (epoch !== undefined && (t.sec > epoch || (t.sec === epoch && t.nsec > 0))) return { sec: epoch, nsec: 0 };
  return t;
}

/**
 * Names as bytes in shared blocks: a directory entry's name is a view into one, not an array
 * of its own (a buffer per name costs a hundred bytes and an allocation, times every path).
 */
class NamePool {
  private block = new Uint8Array(0);
  private used = 0;
  bytes(name: string): Uint8Array {
    if (hasRawBytes(name)) return bytesOf(name);
    if (this.block.length - this.used < name.length * 3) {
      this.block = new Uint8Array(Math.max(1 << 16, name.length * 3));
      this.used = 0;
    }
    const at = this.used;
    this.used += utf8.encodeInto(name, this.block.subarray(at)).written;
    return this.block.subarray(at, this.used);
  }
}

/**
 * The model's digest input, gathered: text pieces are joined into one string and encoded when it
 * is long (one encode per piece cost more than the hash). Joining cannot pair surrogates across
 * pieces: every text piece begins or ends next to a NUL or to bytes.
 */
class TextDigest {
  private readonly hash = createHash('sha256');
  private text = '';
  update(data: string | Uint8Array): this {
    if (typeof data === 'string') {
      this.text += data;
      if (this.text.length > 1 << 14) this.flush();
    } else {
      this.flush();
      this.hash.update(data);
    }
    return this;
  }
  private flush(): void {
    if (this.text) this.hash.update(this.text);
    this.text = '';
  }
  digest(): Uint8Array {
    this.flush();
    return this.hash.digest();
  }
}

/** The model of the tree `snapshot` was taken of (its recorded walk: parents first, names in byte order). */
export function buildModel(snapshot: TreeSnapshot, opts: ResolvedOptions): Ext4Model {
  const bs = opts.blockSize;
  const fsTime = opts.sourceDateEpoch ?? 0;
  const records: (InodeRecord | undefined)[] = [];
  const { paths, inodeIndex, inodes } = snapshot;
  /** Inode number by the snapshot's index of the inode (0: not numbered yet). */
  const inoOf = new Int32Array(inodes.length);
  /** Each directory's inode number and entries, by path. */
  const dirs = new Map<string, { ino: number; entries: DirChild[] }>();
  const names = new NamePool();
  const digest = new TextDigest();
  digest.update(`kiln-ext4\0${opts.label}\0${bs}\0${opts.inodeRatio ?? '-'}\0${opts.journal}\0${opts.reservedPercent}\0${opts.sourceDateEpoch ?? '-'}\0`);
  // Identities follow what lands on disk, so times are digested after clamping.
  const describeTime = (t: Timestamp | undefined): string => {
    if (!t) return '-';
    const c = clampTime(t, opts.sourceDateEpoch);
    return `${c.sec}.${c.nsec}`;
  };
  let next = FIRST_INO + 1;
  let contentBytes = 0;

  const lf = paths.indexOf('lost+found');
  if (lf >= 0 && inodes[inodeIndex[lf]!]!.type !== 'dir') {
    throw new KilnError('bad-tree', "'lost+found' in the tree is not a directory; ext4 needs that name for its lost+found directory", 'rename or remove it');
  }
  for (let n = 0; n < paths.length; n++) {
    const path = paths[n]!;
    const node = inodes[inodeIndex[n]!]!;
    const slash = path.lastIndexOf('/');
    const nameBytes = names.bytes(path.slice(slash + 1));
    const where = (): string => printableName(path);
    if (nameBytes.length > NAME_MAX) {
      throw new KilnError('name-too-long', `'${where()}': the name is ${nameBytes.length} bytes; ext4 allows ${NAME_MAX}`, 'shorten the name');
    }
    if (nameBytes.includes(0)) throw new KilnError('bad-name', `'${where()}': names cannot contain NUL bytes`);
    let ino = inoOf[inodeIndex[n]!]!;
    if (ino === 0) {
      ino = path === '' ? ROOT_INO : path === 'lost+found' ? LOST_FOUND_INO : next++;
      inoOf[inodeIndex[n]!] = ino;
      const rec: InodeRecord = { ino, node, path, links: 0 };
      if (node.type === 'symlink') {
        rec.symlink = bytesOf(node.target ?? '');
        if (rec.symlink.length === 0) throw new KilnError('bad-tree', `'${where()}': symlink has an empty target`);
        if (rec.symlink.length >= bs) throw new KilnError('bad-tree', `'${where()}': symlink target is ${rec.symlink.length} bytes; at most ${bs - 1} fit`);
      }
      if (node.type === 'file') contentBytes += node.content?.size ?? 0;
      if (node.xattrs && node.xattrs.size > 0) rec.xattrs = placeXattrs(prepareXattrs(node.xattrs, `'${where() || '/'}'`), bs, `'${where() || '/'}'`);
      records[ino] = rec;
      // Names and targets as their bytes (for text: the UTF-8 this digest always took)
      digest.update(hasRawBytes(path) ? bytesOf(path) : path);
      digest.update(
        `\0${ino}\0${node.type}\0${node.mode}\0${node.uid}\0${node.gid}\0${describeTime(node.mtime)}\0${describeTime(node.atime)}\0${describeTime(node.ctime)}\0${describeTime(node.crtime)}\0${node.content?.size ?? '-'}\0`,
      );
      digest.update(node.target !== undefined ? bytesOf(node.target) : '-');
      digest.update(`\0${node.rdev ? `${node.rdev.major}:${node.rdev.minor}` : '-'}\0`);
      if (node.xattrs)
        for (const [k, v] of [...node.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) digest.update(bytesOf(k)).update(`\0${v.length}\0`).update(v);
    } else digest.update(hasRawBytes(path) ? bytesOf(path) : path).update(`\0=${ino}\0`);
    const rec = records[ino]!;
    rec.links++;
    if (rec.links > LINK_MAX && node.type !== 'dir') {
      throw new KilnError('too-many-links', `'${printableName(rec.path)}' has more than ${LINK_MAX} hard links`, 'ext4 allows at most 65000 links to one file');
    }
    if (node.type === 'dir') dirs.set(path, { ino, entries: [] });
    if (path !== '') dirs.get(slash < 0 ? '' : path.slice(0, slash))!.entries.push({ name: nameBytes, ino, fileType: FILE_TYPES[node.type] });
  }
  if (!records[LOST_FOUND_INO]) {
    const node = makeInode('dir', 0o700, { mtime: { sec: fsTime, nsec: 0 } });
    records[LOST_FOUND_INO] = { ino: LOST_FOUND_INO, node, path: 'lost+found', links: 1 };
    dirs.set('lost+found', { ino: LOST_FOUND_INO, entries: [] });
    dirs.get('')!.entries.unshift({ name: utf8.encode('lost+found'), ino: LOST_FOUND_INO, fileType: FT.DIR });
  }
  const sum = digest.digest();
  const uuid = opts.uuid ?? uuidFrom(sum, 5);
  const hashSeed = opts.hashSeed ?? uuidFrom(createHash('sha256').update(sum).update('hash seed').digest(), 4);

  // Directories: layouts and link counts (2 + subdirectories; 1 when past the limit, per dir_nlink).
  for (const [path, { ino, entries }] of dirs) {
    const rec = records[ino]!;
    const parent = path === '' || path === 'lost+found' ? ROOT_INO : dirs.get(parentOf(path))!.ino;
    // mke2fs gives lost+found 16 KiB (at least two blocks) so fsck can link files in without allocating.
    const minBlocks = ino === LOST_FOUND_INO ? Math.max(2, Math.min(12, 16384 / bs)) : 1;
    rec.dir = { parent, layout: layoutDirectory(entries, bs, hashSeed, minBlocks) };
    const subdirs = entries.reduce((k, c) => k + (c.fileType === FT.DIR ? 1 : 0), 0);
    rec.links = 2 + subdirs >= LINK_MAX ? 1 : 2 + subdirs;
  }
  return { records, maxIno: Math.max(FIRST_INO, next - 1), uuid, hashSeed, contentBytes, fsTime };
}

export function isFastSymlink(rec: InodeRecord): boolean {
  return rec.symlink !== undefined && rec.symlink.length <= FAST_SYMLINK_MAX;
}

export { formatUuid };
