import { KilnError } from '../../errors.js';
import { EPOCH, FileTree, makeInode, type Inode, type NodeType, type Timestamp } from '../../fs/tree.js';
import { BlobContent, type BlobStore } from './blobs.js';

/**
 * An artifact's tree as JSON: one entry per path in walk order (parents first), with type,
 * mode (setuid/setgid/sticky kept), owner, mtime, symlink target, device numbers, xattrs and,
 * for regular files, the blob digest and size. A later path naming an inode already listed is a
 * hard link (`link` = the first path). Empty directories are entries like any other.
 */

export interface ManifestEntry {
  path: string;
  type: NodeType;
  mode: number;
  uid?: number;
  gid?: number;
  /** [seconds, nanoseconds]; absent = 0. */
  mtime?: [number, number];
  digest?: string;
  size?: number;
  target?: string;
  rdev?: [number, number];
  /** Hard link: the first path naming this inode. */
  link?: string;
  /** Extended attributes, values base64. */
  xattrs?: Record<string, string>;
}

const TYPES = new Set<NodeType>(['file', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket']);

/** Encodes a tree whose file contents are all blobs of `store` (commit ingests the rest first). */
export function encodeManifest(tree: FileTree, digestOf: (inode: Inode) => { digest: string; size: number }): ManifestEntry[] {
  const first = new Map<Inode, string>();
  const out: ManifestEntry[] = [];
  for (const [path, inode] of tree.walk()) {
    const seen = first.get(inode);
    if (seen !== undefined) {
      out.push({ path, type: inode.type, mode: inode.mode, link: seen });
      continue;
    }
    first.set(inode, path);
    const e: ManifestEntry = { path, type: inode.type, mode: inode.mode };
    if (inode.uid !== 0) e.uid = inode.uid;
    if (inode.gid !== 0) e.gid = inode.gid;
    if (inode.mtime.sec !== 0 || inode.mtime.nsec !== 0) e.mtime = [inode.mtime.sec, inode.mtime.nsec];
    if (inode.type === 'file') Object.assign(e, digestOf(inode));
    if (inode.type === 'symlink') e.target = inode.target ?? '';
    if ((inode.type === 'char' || inode.type === 'block') && inode.rdev) e.rdev = [inode.rdev.major, inode.rdev.minor];
    if (inode.xattrs && inode.xattrs.size > 0) {
      e.xattrs = {};
      for (const [k, v] of [...inode.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) e.xattrs[k] = Buffer.from(v).toString('base64');
    }
    out.push(e);
  }
  return out;
}

function bad(what: string, detail: string): KilnError {
  return new KilnError('cache-bad-manifest', `${what}: damaged artifact manifest (${detail})`, 'remove the artifact from the cache and build again');
}

function num(v: unknown, what: string, detail: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(what, detail);
  return v;
}

/**
 * Rebuilds the tree; file contents reference blobs in `store`. With `check`, every blob's
 * presence and size are checked now (a pull, before it publishes the ref); else when a content is
 * first read (a load: staging reads none of them, it links the artifact's directory).
 */
export function decodeManifest(entries: unknown, store: BlobStore, what: string, check = false): FileTree {
  if (!Array.isArray(entries) || entries.length === 0) throw bad(what, 'no entries');
  const tree = new FileTree();
  // Entries share a few mtimes (a build's are all SOURCE_DATE_EPOCH): one object for a run of equal ones.
  let last: Timestamp = EPOCH;
  for (const raw of entries as unknown[]) {
    if (typeof raw !== 'object' || raw === null) throw bad(what, 'entry is not an object');
    const e = raw as Partial<ManifestEntry>;
    if (typeof e.path !== 'string' || !e.type || !TYPES.has(e.type)) throw bad(what, `bad entry ${JSON.stringify(raw).slice(0, 80)}`);
    if (e.link !== undefined) {
      tree.link(e.path, e.link);
      continue;
    }
    let mtime = EPOCH;
    if (e.mtime) {
      const sec = num(e.mtime[0], what, 'mtime');
      const nsec = num(e.mtime[1], what, 'mtime');
      mtime = sec === last.sec && nsec === last.nsec ? last : (last = Object.freeze({ sec, nsec }));
    }
    const inode = makeInode(e.type, 0, { mode: num(e.mode, what, 'mode'), uid: e.uid ?? 0, gid: e.gid ?? 0, mtime });
    if (e.xattrs) {
      const xattrs = Object.entries(e.xattrs);
      if (xattrs.length > 0) inode.xattrs = new Map(xattrs.map(([k, v]) => [k, Uint8Array.from(Buffer.from(v, 'base64'))]));
    }
    if (e.type === 'file') {
      if (typeof e.digest !== 'string') throw bad(what, `file '${e.path}' has no digest`);
      const size = num(e.size, what, 'size');
      inode.content = check ? store.content(e.digest, size) : store.recorded(e.digest, size);
    } else if (e.type === 'symlink') {
      if (typeof e.target !== 'string') throw bad(what, `symlink '${e.path}' has no target`);
      inode.target = e.target;
    } else if (e.type === 'char' || e.type === 'block') {
      if (!e.rdev) throw bad(what, `device '${e.path}' has no numbers`);
      inode.rdev = { major: num(e.rdev[0], what, 'rdev'), minor: num(e.rdev[1], what, 'rdev') };
    }
    if (e.path === '') Object.assign(tree.root, inode);
    else tree.add(e.path, inode);
  }
  return tree;
}

/** The digest of content already in the store, if it is a blob there. */
export function blobDigest(inode: Inode): { digest: string; size: number } | undefined {
  const c = inode.content;
  return c instanceof BlobContent ? { digest: c.digest, size: c.size } : undefined;
}
