import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  ftruncateSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import { KilnError } from '../../errors.js';
import { hostJoin, hostName, showHost, type HostPath } from '../../fs/host-path.js';
import { writeSkippingZeros, type BlockTarget } from '../../fs/block-target.js';
import { HostContent } from '../../fs/content.js';
import { contentChunks, type FileContent } from '../../fs/file-content.js';
import { parentOf, type FileTree, type Inode, type Timestamp } from '../../fs/tree.js';
import { writeAll } from './host-write.js';

/**
 * Writes a FileTree to a host directory: for a checkout, a tool that needs real files (patch),
 * or the parts of a sandbox root that commands may change. Contents are copied — reflinked where
 * the filesystem can — and never hard-linked to the cache, because builds chmod, move and edit
 * what they stage (staged-root.ts links only what the sandbox cannot write). Hard links *within*
 * the tree become hard links between the new copies.
 */
export interface MaterializeOptions {
  /** Apply owners (chown). Default: only when running as root, where it can work. */
  owners?: boolean;
  /** Allow a non-empty destination: files replace files and symlinks, directories merge. */
  merge?: boolean;
  /** Set mtimes from the tree (default true). */
  times?: boolean;
  /** Apply the tree root's mode, owner and time to `dir` itself (default true; checkout leaves the user's directory alone). */
  rootMeta?: boolean;
  /** Called after each regular file's content is written (hard links: once), with its size: progress. */
  onFileWritten?: (bytes: number) => void;
}

export interface MaterializeResult {
  /** Paths that could not be created here (device nodes without root, sockets). */
  skipped: string[];
  /** Paths whose extended attributes were not written (a directory checkout does not write them). */
  xattrsDropped: string[];
}

function toDate(t: Timestamp): number {
  return t.sec + t.nsec / 1e9;
}

function existing(path: HostPath): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * Creates `dest` (which must not exist) with `content`, asking for `mode`'s permission bits
 * (the umask may take some away), and returns it open: its metadata is then set through the
 * descriptor, without looking its path up again.
 */
function writeContent(content: FileContent, dest: HostPath, mode: number): number {
  let sparse = false;
  if (content instanceof HostContent && content.offset === 0) {
    let st: Stats | undefined;
    try {
      st = statSync(content.path);
    } catch {
      st = undefined;
    }
    // A sparse blob (a disk image) is copied block by block so that its holes stay holes;
    // copyFileSync would fill them where the filesystem cannot reflink.
    sparse = st !== undefined && st.blocks * 512 < st.size;
    if (st?.size === content.size && !sparse) {
      copyFileSync(content.path, dest, constants.COPYFILE_FICLONE);
      return openSync(dest, 'r');
    }
  }
  const fd = openSync(dest, 'w', mode & 0o777);
  try {
    let offset = 0;
    for (const chunk of contentChunks(content, `content for '${showHost(dest)}'`)) {
      if (sparse) writeSkippingZeros(fdTarget(fd, content.size), offset, chunk);
      else writeAll(fd, chunk, offset);
      offset += chunk.length;
    }
    if (sparse) ftruncateSync(fd, content.size);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** A write-only BlockTarget over an open file, for writeSkippingZeros. */
function fdTarget(fd: number, size: number): BlockTarget {
  return {
    size,
    read: () => {
      throw new Error('write-only');
    },
    write: (offset, data) => writeAll(fd, data, offset),
  };
}

/**
 * Writes tree nodes to host paths, one at a time: materialize's work per node, shared with
 * staged roots (staged-root.ts), which link some files from the cache instead of writing them.
 * Directory metadata is applied by `finish`, children first, so read-only directories can be
 * filled first.
 */
export class NodeWriter {
  readonly skipped: string[] = [];
  readonly xattrsDropped: string[] = [];
  private readonly asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  private readonly owners: boolean;
  private readonly times: boolean;
  /** Each inode's first host path: later paths naming it become hard links to it. */
  private readonly first = new Map<Inode, HostPath>();
  private readonly dirs: [HostPath, Inode][] = [];
  /** Tree paths of the directories this writer made: nothing in them needs replacing. */
  private readonly fresh = new Set<string>();
  /** Modes of existing directories opened up for writing, to put back where `finish` leaves one alone. */
  private readonly opened = new Map<HostPath, number>();

  constructor(
    /** The directory written into: special files are made under a text name there first. */
    private readonly top: string,
    private readonly options: MaterializeOptions = {},
  ) {
    this.owners = options.owners ?? this.asRoot;
    this.times = options.times ?? true;
  }

  /** A directory at `dest`: made if missing, replacing a non-directory; its metadata comes with `finish`. */
  dir(path: string, dest: HostPath, inode: Inode): void {
    if (inode.xattrs && inode.xattrs.size > 0) this.xattrsDropped.push(path);
    const st = this.isFresh(path) ? undefined : existing(dest);
    if (st && !st.isDirectory()) unlinkSync(dest);
    if (!st?.isDirectory()) {
      mkdirSync(dest);
      this.fresh.add(path);
    }
    // an existing directory left read-only (a merge, a staged root made private) is filled first
    else if ((st.mode & 0o700) !== 0o700) {
      this.opened.set(dest, st.mode & 0o7777);
      chmodSync(dest, (st.mode & 0o7777) | 0o700);
    }
    this.dirs.push([dest, inode]);
  }

  /** Whether `path`'s directory was made by this writer, so that `path` cannot exist yet. */
  private isFresh(path: string): boolean {
    return path !== '' && this.fresh.has(parentOf(path));
  }

  /**
   * A non-directory at `dest`, replacing what is there. `linkFrom` is a host file that already
   * holds this inode (content and metadata): it is hard-linked instead of written, and written
   * after all if the link cannot be made (another filesystem, another user's file).
   */
  node(path: string, dest: HostPath, inode: Inode, linkFrom?: HostPath): void {
    if (inode.xattrs && inode.xattrs.size > 0) this.xattrsDropped.push(path);
    const st = this.isFresh(path) ? undefined : existing(dest);
    if (st) {
      if (st.isDirectory()) rmSync(dest, { recursive: true, force: true });
      else unlinkSync(dest);
    }
    const linked = this.first.get(inode);
    if (linked !== undefined) {
      linkSync(linked, dest);
      return;
    }
    if (linkFrom !== undefined) {
      try {
        linkSync(linkFrom, dest);
        this.first.set(inode, dest);
        return;
      } catch {
        // written below
      }
    }
    const { owners, times } = this;
    switch (inode.type) {
      case 'file': {
        const fd = writeContent(inode.content!, dest, inode.mode);
        try {
          this.options.onFileWritten?.(inode.content!.size);
          // a new file mostly has its owner and mode already: set them only where they differ
          const st = fstatSync(fd);
          const chown = owners && (st.uid !== inode.uid || st.gid !== inode.gid);
          if (chown) fchownSync(fd, inode.uid, inode.gid);
          if (chown || (st.mode & 0o7777) !== inode.mode) fchmodSync(fd, inode.mode); // after chown, which clears setuid/setgid
          if (times) futimesSync(fd, toDate(inode.atime ?? inode.mtime), toDate(inode.mtime));
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink':
        symlinkSync(hostName(inode.target ?? ''), dest);
        if (owners) lchownSync(dest, inode.uid, inode.gid);
        if (times) lutimesSync(dest, toDate(inode.atime ?? inode.mtime), toDate(inode.mtime));
        break;
      case 'fifo':
      case 'char':
      case 'block': {
        if (inode.type !== 'fifo' && !this.asRoot) {
          this.skipped.push(path);
          return;
        }
        // Command arguments are strings: a name that is not UTF-8 is made under a text name and renamed.
        const made = typeof dest === 'string' ? dest : `${this.top}/.kiln-node-${process.pid}`;
        const args =
          inode.type === 'fifo'
            ? ['-m', inode.mode.toString(8), made]
            : ['-m', inode.mode.toString(8), made, inode.type === 'char' ? 'c' : 'b', String(inode.rdev?.major ?? 0), String(inode.rdev?.minor ?? 0)];
        const r = process.getBuiltinModule('node:child_process').spawnSync(inode.type === 'fifo' ? 'mkfifo' : 'mknod', args, { encoding: 'utf8' });
        if (r.status !== 0) {
          this.skipped.push(path);
          return;
        }
        if (made !== dest) renameSync(made, dest);
        if (owners) chownSync(dest, inode.uid, inode.gid);
        chmodSync(dest, inode.mode);
        if (times) utimesSync(dest, toDate(inode.atime ?? inode.mtime), toDate(inode.mtime));
        break;
      }
      default:
        this.skipped.push(path);
        return;
    }
    this.first.set(inode, dest);
  }

  /** Applies directory modes, owners and times, children first; `except` (a checkout's own directory) is left alone. */
  finish(except?: HostPath): MaterializeResult {
    for (let i = this.dirs.length - 1; i >= 0; i--) {
      const [dest, inode] = this.dirs[i]!;
      if (dest === except) {
        const mode = this.opened.get(dest);
        if (mode !== undefined) chmodSync(dest, mode);
        continue;
      }
      if (this.owners) chownSync(dest, inode.uid, inode.gid);
      chmodSync(dest, inode.mode);
      if (this.times) utimesSync(dest, toDate(inode.atime ?? inode.mtime), toDate(inode.mtime));
    }
    this.dirs.length = 0;
    this.fresh.clear();
    this.opened.clear();
    return { skipped: this.skipped, xattrsDropped: this.xattrsDropped };
  }
}

function startWriting(dir: string, options: MaterializeOptions): NodeWriter {
  mkdirSync(dir, { recursive: true });
  if (!options.merge && readdirSync(dir).length > 0) {
    throw new KilnError('dest-not-empty', `'${dir}' is not empty`, 'choose an empty directory (checkout: or use --force)');
  }
  return new NodeWriter(dir, options);
}

function writeOne(writer: NodeWriter, dir: string, path: string, inode: Inode): void {
  // names are bytes: a Buffer path where they are not UTF-8 (host-path.ts)
  const dest = hostJoin(dir, path);
  if (inode.type === 'dir') writer.dir(path, dest, inode);
  else writer.node(path, dest, inode);
}

export function materialize(tree: FileTree, dir: string, options: MaterializeOptions = {}): MaterializeResult {
  const writer = startWriting(dir, options);
  for (const [path, inode] of tree.walk()) writeOne(writer, dir, path, inode);
  return writer.finish(options.rootMeta === false ? dir : undefined);
}

/** Nodes written between two turns of the event loop (materializeYielding). */
const NODES_PER_TURN = 256;

/**
 * `materialize` for large trees in a process that runs other work meanwhile (a build's sources,
 * while another build goes on): it lets the event loop run between groups of nodes, so the
 * scheduler and the other builds are not held up for the whole copy.
 */
export async function materializeYielding(tree: FileTree, dir: string, options: MaterializeOptions = {}): Promise<MaterializeResult> {
  const writer = startWriting(dir, options);
  let n = 0;
  for (const [path, inode] of tree.walk()) {
    writeOne(writer, dir, path, inode);
    if (++n % NODES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return writer.finish(options.rootMeta === false ? dir : undefined);
}
