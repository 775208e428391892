import { createHash } from '../checksum/sha256.js';
import { KilnError } from '../../errors.js';
import { hasRawBytes, nameToBytes, printableName, putUtf8 } from '../name-bytes.js';
import { makeInode, type Inode, type Timestamp } from '../tree.js';
import type { TreeSnapshot } from '../tree-snapshot.js';
import { FAST_SYMLINK_MAX, FIRST_INO, FT, LINK_MAX, LOST_FOUND_INO, NAME_MAX, ROOT_INO } from './constants.js';
import { DirEntryStore, layoutDirectory, type DirLayout } from './directory.js';
import { formatUuid } from '../uuid.js';
import type { ResolvedOptions } from './options.js';
import { placeXattrs, prepareXattrs, type XattrPlacement } from './xattr-layout.js';

/**
 * The tree as ext4 will hold it, independent of the filesystem size: inode numbers, link
 * counts, directory layouts and xattr placement. Planning and writing both start here.
 */
export interface Ext4Model {
  /**
   * Each inode number's inode; holes for the reserved inodes. What an inode needs besides is in
   * arrays by inode number and, for the few types that have it, maps (an object per inode would
   * cost some 60 bytes each).
   */
  nodes: (Inode | undefined)[];
  links: Uint16Array;
  /** What the model was made from (for the paths of messages; see `inodePath`). */
  snapshot: TreeSnapshot;
  dirs: Map<number, { parent: number; layout: DirLayout }>;
  /** Symlinks' targets as bytes. */
  symlinks: Map<number, Uint8Array>;
  xattrs: Map<number, XattrPlacement>;
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
 * The model's digest, fed field by field into one buffer that is hashed when full: numbers are
 * written as their decimal digits (what `${n}` gives) and text as UTF-8, without the strings a
 * template per inode would make.
 */
class DigestWriter {
  private readonly hash = createHash('sha256');
  private readonly buf = new Uint8Array(1 << 16);
  private len = 0;
  private room(bytes: number): void {
    if (this.len + bytes > this.buf.length) {
      this.hash.update(this.buf.subarray(0, this.len));
      this.len = 0;
    }
  }
  text(text: string): this {
    if (text.length * 3 > this.buf.length) return this.bytes(utf8.encode(text));
    this.room(text.length * 3);
    this.len += putUtf8(text, this.buf, this.len);
    return this;
  }
  bytes(bytes: Uint8Array): this {
    this.room(bytes.length);
    if (bytes.length > this.buf.length) this.hash.update(bytes);
    else {
      this.buf.set(bytes, this.len);
      this.len += bytes.length;
    }
    return this;
  }
  /** A name or target: its bytes (name-bytes.ts), which for text are its UTF-8. */
  name(name: string): this {
    return hasRawBytes(name) ? this.bytes(bytesOf(name)) : this.text(name);
  }
  /** A NUL: the separator between fields. */
  nul(): this {
    this.room(1);
    this.buf[this.len++] = 0;
    return this;
  }
  num(n: number): this {
    if (!Number.isSafeInteger(n)) return this.text(String(n));
    this.room(17);
    if (n < 0) {
      this.buf[this.len++] = 0x2d;
      n = -n;
    }
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    for (let k = this.len + digits - 1; k >= this.len; k--) {
      const q = n < 0x80000000 ? (n / 10) | 0 : Math.floor(n / 10);
      this.buf[k] = 0x30 + (n - q * 10);
      n = q;
    }
    this.len += digits;
    return this;
  }
  digest(): Uint8Array {
    this.hash.update(this.buf.subarray(0, this.len));
    this.len = 0;
    return this.hash.digest();
  }
}

/** A directory while the model is built. */
interface OpenDir {
  ino: number;
  /** The parent's inode number (the root's own for the root). */
  parent: number;
  pathLength: number;
  /** Its entries (indices into the model's DirEntryStore) while the walk is in it; then `ids`. */
  entries: number[];
  ids?: Uint32Array;
}

/** A directory the walk has left: its entries are all known. */
function close(dir: OpenDir): void {
  dir.ids = Uint32Array.from(dir.entries);
  dir.entries = [];
}

/** The model of the tree `snapshot` was taken of (its recorded walk: parents first, names in byte order). */
export function buildModel(snapshot: TreeSnapshot, opts: ResolvedOptions): Ext4Model {
  const bs = opts.blockSize;
  const fsTime = opts.sourceDateEpoch ?? 0;
  const { paths, inodeIndex, inodes } = snapshot;
  const nodes: (Inode | undefined)[] = [];
  // inode numbers run up to the last reserved one plus one per distinct inode
  const links = new Uint16Array(FIRST_INO + 1 + inodes.length);
  const symlinks = new Map<number, Uint8Array>();
  const xattrs = new Map<number, XattrPlacement>();
  /** Inode number by the snapshot's index of the inode (0: not numbered yet). */
  const inoOf = new Int32Array(inodes.length);
  /** Each directory's inode number, its parent's and its entries, in walk order (the root first). */
  const dirs: OpenDir[] = [];
  /** The directories from the root down to the last path's: a path's parent is on it (the walk is depth first, parents first). */
  const open: OpenDir[] = [];
  const store = new DirEntryStore();
  const digest = new DigestWriter();
  digest.text(`kiln-ext4\0${opts.label}\0${bs}\0${opts.inodeRatio ?? '-'}\0${opts.journal}\0${opts.reservedPercent}\0${opts.sourceDateEpoch ?? '-'}\0`);
  // Identities follow what lands on disk, so times are digested after clamping.
  const describeTime = (t: Timestamp | undefined): DigestWriter => {
    if (!t) return digest.text('-');
    const c = clampTime(t, opts.sourceDateEpoch);
    return digest.num(c.sec).text('.').num(c.nsec);
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
    let ino = inoOf[inodeIndex[n]!]!;
    const first = ino === 0;
    if (first) {
      ino = path === '' ? ROOT_INO : path === 'lost+found' ? LOST_FOUND_INO : next++;
      inoOf[inodeIndex[n]!] = ino;
    }
    // the path's entry in its directory (the root has none)
    let entry = -1;
    if (path !== '') {
      const name = path.slice(slash + 1);
      entry = store.add(name, ino, FILE_TYPES[node.type]);
      const length = store.nameLength(entry);
      if (length > NAME_MAX)
        throw new KilnError('name-too-long', `'${printableName(path)}': the name is ${length} bytes; ext4 allows ${NAME_MAX}`, 'shorten the name');
      if (name.includes('\0')) throw new KilnError('bad-name', `'${printableName(path)}': names cannot contain NUL bytes`);
    }
    if (first) {
      nodes[ino] = node;
      if (node.type === 'symlink') {
        const target = bytesOf(node.target ?? '');
        if (target.length === 0) throw new KilnError('bad-tree', `'${printableName(path)}': symlink has an empty target`);
        if (target.length >= bs) throw new KilnError('bad-tree', `'${printableName(path)}': symlink target is ${target.length} bytes; at most ${bs - 1} fit`);
        symlinks.set(ino, target);
      }
      if (node.type === 'file') contentBytes += node.content?.size ?? 0;
      if (node.xattrs && node.xattrs.size > 0) {
        const what = `'${printableName(path) || '/'}'`;
        xattrs.set(ino, placeXattrs(prepareXattrs(node.xattrs, what), bs, what));
      }
      // Names and targets as their bytes (for text: the UTF-8 this digest always took)
      // path NUL ino NUL type NUL mode NUL uid NUL gid NUL mtime NUL atime NUL ctime NUL crtime NUL size NUL target NUL rdev NUL, then each xattr's name NUL length NUL value
      digest.name(path).nul().num(ino).nul().text(node.type).nul().num(node.mode).nul().num(node.uid).nul().num(node.gid).nul();
      describeTime(node.mtime).nul();
      describeTime(node.atime).nul();
      describeTime(node.ctime).nul();
      describeTime(node.crtime).nul();
      (node.content ? digest.num(node.content.size) : digest.text('-')).nul();
      (node.target !== undefined ? digest.name(node.target) : digest.text('-')).nul();
      (node.rdev ? digest.num(node.rdev.major).text(':').num(node.rdev.minor) : digest.text('-')).nul();
      if (node.xattrs)
        for (const [k, v] of [...node.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) digest.name(k).nul().num(v.length).nul().bytes(v);
    } else digest.name(path).nul().text('=').num(ino).nul();
    if (++links[ino]! > LINK_MAX && node.type !== 'dir') {
      throw new KilnError(
        'too-many-links',
        `'${printableName(paths[inodeIndex.indexOf(inodeIndex[n]!)]!)}' has more than ${LINK_MAX} hard links`,
        'ext4 allows at most 65000 links to one file',
      );
    }
    let parent: OpenDir | undefined;
    if (entry >= 0) {
      // the open directory whose path is as long as this path's parent's ('' for the root's children)
      const parentLength = Math.max(slash, 0);
      while (open[open.length - 1]!.pathLength > parentLength) close(open.pop()!);
      parent = open[open.length - 1]!;
      parent.entries.push(entry);
    }
    if (node.type === 'dir') {
      const dir = { ino, parent: parent?.ino ?? ROOT_INO, pathLength: path.length, entries: [] };
      dirs.push(dir);
      open.push(dir);
    }
  }
  if (!nodes[LOST_FOUND_INO]) {
    nodes[LOST_FOUND_INO] = makeInode('dir', 0o700, { mtime: { sec: fsTime, nsec: 0 } });
    const dir = { ino: LOST_FOUND_INO, parent: ROOT_INO, pathLength: 10, entries: [] };
    dirs.push(dir);
    close(dir);
    dirs[0]!.entries.unshift(store.add('lost+found', LOST_FOUND_INO, FT.DIR));
  }
  for (const dir of open) close(dir);
  store.trim();
  const sum = digest.digest();
  const uuid = opts.uuid ?? uuidFrom(sum, 5);
  const hashSeed = opts.hashSeed ?? uuidFrom(createHash('sha256').update(sum).update('hash seed').digest(), 4);

  // Directories: layouts and link counts (2 + subdirectories; 1 when past the limit, per dir_nlink).
  const dirLayouts = new Map<number, { parent: number; layout: DirLayout }>();
  for (const { ino, parent, ids } of dirs) {
    const entries = ids!;
    // mke2fs gives lost+found 16 KiB (at least two blocks) so fsck can link files in without allocating.
    const minBlocks = ino === LOST_FOUND_INO ? Math.max(2, Math.min(12, 16384 / bs)) : 1;
    dirLayouts.set(ino, { parent, layout: layoutDirectory(store, entries, bs, hashSeed, minBlocks) });
    let subdirs = 0;
    for (const e of entries) if (store.fileType(e) === FT.DIR) subdirs++;
    links[ino] = 2 + subdirs >= LINK_MAX ? 1 : 2 + subdirs;
  }
  const maxIno = Math.max(FIRST_INO, next - 1);
  return { nodes, links, snapshot, dirs: dirLayouts, symlinks, xattrs, maxIno, uuid, hashSeed, contentBytes, fsTime };
}

/** The first path naming an inode, for messages (a search: messages are rare, a path per inode kept would cost 4 bytes each). */
export function inodePath(model: Ext4Model, ino: number): string {
  const { paths, inodes, inodeIndex } = model.snapshot;
  const node = model.nodes[ino];
  for (let n = 0; n < paths.length; n++) if (inodes[inodeIndex[n]!] === node) return paths[n]!;
  // the lost+found the model made, where the tree has none
  return 'lost+found';
}

export function isFastSymlink(target: Uint8Array): boolean {
  return target.length <= FAST_SYMLINK_MAX;
}

export { formatUuid };
