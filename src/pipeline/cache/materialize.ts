import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  copyFileSync,
  ftruncateSync,
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
import { HostFileContent } from '../../fs/content.js';
import { contentChunks, type FileContent } from '../../fs/file-content.js';
import type { FileTree, Inode, Timestamp } from '../../fs/tree.js';
import { writeAll } from './host-write.js';

/**
 * Writes a FileTree to a host directory: for a sandbox root, a checkout, or a tool that needs
 * real files (patch). Contents are copied — reflinked where the filesystem can — and never
 * hard-linked to the cache, because builds chmod, move and edit what they stage. Hard links
 * *within* the tree become hard links between the new copies.
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
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function writeContent(content: FileContent, dest: HostPath): void {
  let sparse = false;
  if (content instanceof HostFileContent && content.offset === 0) {
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
      return;
    }
  }
  const fd = openSync(dest, 'w');
  try {
    let offset = 0;
    for (const chunk of contentChunks(content, `content for '${showHost(dest)}'`)) {
      if (sparse) writeSkippingZeros(fdTarget(fd, content.size), offset, chunk);
      else writeAll(fd, chunk, offset);
      offset += chunk.length;
    }
    if (sparse) ftruncateSync(fd, content.size);
  } finally {
    closeSync(fd);
  }
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

export function materialize(tree: FileTree, dir: string, options: MaterializeOptions = {}): MaterializeResult {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const owners = options.owners ?? asRoot;
  const times = options.times ?? true;
  mkdirSync(dir, { recursive: true });
  if (!options.merge && readdirSync(dir).length > 0) {
    throw new KilnError('dest-not-empty', `'${dir}' is not empty`, 'choose an empty directory (checkout: or use --force)');
  }
  const skipped: string[] = [];
  const xattrsDropped: string[] = [];
  const first = new Map<Inode, HostPath>();
  const dirs: [HostPath, Inode][] = [];
  for (const [path, inode] of tree.walk()) {
    // names are bytes: a Buffer path where they are not UTF-8 (host-path.ts)
    const dest = hostJoin(dir, path);
    if (inode.xattrs && inode.xattrs.size > 0) xattrsDropped.push(path);
    if (inode.type === 'dir') {
      const st = path === '' ? undefined : existing(dest);
      if (st && !st.isDirectory()) unlinkSync(dest);
      if (path !== '' && !st?.isDirectory()) mkdirSync(dest);
      dirs.push([dest, inode]);
      continue;
    }
    const st = existing(dest);
    if (st) {
      if (st.isDirectory()) rmSync(dest, { recursive: true, force: true });
      else unlinkSync(dest);
    }
    const linked = first.get(inode);
    if (linked !== undefined) {
      linkSync(linked, dest);
      continue;
    }
    switch (inode.type) {
      case 'file':
        writeContent(inode.content!, dest);
        options.onFileWritten?.(inode.content!.size);
        if (owners) chownSync(dest, inode.uid, inode.gid);
        chmodSync(dest, inode.mode); // after chown, which clears setuid/setgid
        if (times) utimesSync(dest, toDate(inode.atime ?? inode.mtime), toDate(inode.mtime));
        break;
      case 'symlink':
        symlinkSync(hostName(inode.target ?? ''), dest);
        if (owners) lchownSync(dest, inode.uid, inode.gid);
        if (times) lutimesSync(dest, toDate(inode.atime ?? inode.mtime), toDate(inode.mtime));
        break;
      case 'fifo':
      case 'char':
      case 'block': {
        if (inode.type !== 'fifo' && !asRoot) {
          skipped.push(path);
          continue;
        }
        // Command arguments are strings: a name that is not UTF-8 is made under a text name and renamed.
        const made = typeof dest === 'string' ? dest : `${dir}/.kiln-node-${process.pid}`;
        const args = inode.type === 'fifo' ? ['-m', inode.mode.toString(8), made] : ['-m', inode.mode.toString(8), made, inode.type === 'char' ? 'c' : 'b', String(inode.rdev?.major ?? 0), String(inode.rdev?.minor ?? 0)];
        const r = spawnSync(inode.type === 'fifo' ? 'mkfifo' : 'mknod', args, { encoding: 'utf8' });
        if (r.status !== 0) {
          skipped.push(path);
          continue;
        }
        if (made !== dest) renameSync(made, dest);
        if (owners) chownSync(dest, inode.uid, inode.gid);
        chmodSync(dest, inode.mode);
        if (times) utimesSync(dest, toDate(inode.atime ?? inode.mtime), toDate(inode.mtime));
        break;
      }
      default:
        skipped.push(path);
        continue;
    }
    first.set(inode, dest);
  }
  // Directory modes and times last (children first), so read-only dirs can be filled.
  for (let i = dirs.length - 1; i >= 0; i--) {
    const [dest, inode] = dirs[i]!;
    if (dest === dir && options.rootMeta === false) continue;
    if (owners) chownSync(dest, inode.uid, inode.gid);
    chmodSync(dest, inode.mode);
    if (times) utimesSync(dest, toDate(inode.atime ?? inode.mtime), toDate(inode.mtime));
  }
  return { skipped, xattrsDropped };
}
