import { KilnError } from '../../errors.js';
import type { FileContent } from '../file-content.js';
import { nameToBytes, printableName } from '../name-bytes.js';
import type { FileTree, Inode, NodeType } from '../tree.js';
import type { NewcHeaderInput } from './newc-header.js';
import { ProgressMeter, type WriteControl } from '../write-control.js';

/**
 * The initramfs plan, shared by both writers (newc-writer.ts in memory, initramfs.ts streaming
 * on Node): a FileTree as cpio "newc" headers. Order is the tree's walk order (parents first,
 * byte-ordered names); inode numbers count up from 1 in that order; hard links share an inode
 * number and carry the data on their last path (GNU cpio's convention; the kernel accepts it).
 */

/**
 * Options of the initramfs writers. Progress counts the archive's entries as files (every path:
 * directories, links, devices too) and the file content bytes; `signal` aborts at the next
 * entry or 1 MiB piece with KilnError('aborted').
 */
export interface InitramfsOptions extends WriteControl {
  /** gzip (default true); false writes the bare cpio archive. */
  compress?: boolean;
  /** gzip level 1–9 (default 6). */
  level?: number;
  /** 'keep' (default) writes the tree's owners; 'root' writes 0:0 everywhere. */
  owners?: 'keep' | 'root';
  /** Clamp every mtime to this (seconds), as reproducible builds expect from SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
}

/** Where the archive goes: anything with a `write` (a Node stream's is awaited on backpressure). */
export interface InitramfsSink {
  write(chunk: Uint8Array): void | Promise<void>;
}

export interface InitramfsInfo {
  entries: number;
  /** Bytes of the cpio archive before compression. */
  cpioBytes: number;
  /** Bytes written to the sink. */
  bytes: number;
}

export const TYPE_BITS: Record<NodeType, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
  socket: 0o140000,
};

const U32 = 0xffffffff;
const PATH_MAX = 4095;
/** The device of every entry: with ino, the identity the kernel uses to join hard links. */
const DEV = { devmajor: 0, devminor: 1 };

export interface PlannedEntry {
  header: NewcHeaderInput;
  /** Regular files: the content to write on this entry (the last path of a hard-link set). */
  content?: FileContent;
  linkname?: string;
  /** The tree path (for messages). */
  path: string;
}

/** Builds every header first, so that bad input is refused before a byte is written. */
export function planInitramfs(tree: FileTree, options: InitramfsOptions = {}): PlannedEntry[] {
  const paths = new Map<Inode, string[]>();
  const subdirs = new Map<string, number>();
  for (const [path, inode] of tree.walk()) {
    const list = paths.get(inode);
    if (list) list.push(path);
    else paths.set(inode, [path]);
    if (inode.type === 'dir' && path !== '') {
      const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
    }
  }
  const inos = new Map<Inode, number>();
  const out: PlannedEntry[] = [];
  const sde = options.sourceDateEpoch;
  for (const [path, inode] of tree.walk()) {
    const name = path === '' ? '.' : path;
    const shown = printableName(name);
    if (nameToBytes(name).length > PATH_MAX) throw new KilnError('cpio-name', `path '${shown.slice(0, 60)}…' is longer than ${PATH_MAX} bytes`, 'shorten it');
    let ino = inos.get(inode);
    if (ino === undefined) inos.set(inode, (ino = inos.size + 1));
    const links = paths.get(inode)!;
    const size = inode.type === 'file' ? (inode.content?.size ?? 0) : 0;
    if (size > U32) throw new KilnError('cpio-too-large', `'${shown}' is ${size} bytes; cpio newc holds files below 4 GiB`, 'leave it out of the initramfs');
    const uid = options.owners === 'root' ? 0 : inode.uid;
    const gid = options.owners === 'root' ? 0 : inode.gid;
    if (uid > U32 || gid > U32) throw new KilnError('cpio-owner', `'${shown}' has owner ${uid}:${gid}, beyond 32 bits`);
    let mtime = inode.mtime.sec;
    if (sde !== undefined && mtime > sde) mtime = sde;
    mtime = Math.min(Math.max(mtime, 0), U32);
    const last = links[links.length - 1] === path;
    const header: NewcHeaderInput = {
      name,
      ino,
      mode: TYPE_BITS[inode.type] | (inode.mode & 0o7777),
      uid,
      gid,
      nlink: inode.type === 'dir' ? 2 + (subdirs.get(path) ?? 0) : links.length,
      // A Date, not a number: the packer replaces a falsy mtime (epoch 0) with the clock.
      mtime: new Date(mtime * 1000),
      size: inode.type === 'file' && last ? size : 0,
      ...DEV,
      rdevmajor: inode.rdev?.major ?? 0,
      rdevminor: inode.rdev?.minor ?? 0,
    };
    const planned: PlannedEntry = { header, path: name };
    if (inode.type === 'file' && last && inode.content) planned.content = inode.content;
    if (inode.type === 'symlink') planned.linkname = inode.target ?? '';
    out.push(planned);
  }
  return out;
}

/** The progress meter of a planned archive: entries as files, file content as bytes. */
export function initramfsMeter(plan: readonly PlannedEntry[], control: WriteControl): ProgressMeter {
  let bytes = 0;
  for (const p of plan) bytes += p.content?.size ?? 0;
  return new ProgressMeter(control, bytes, plan.length);
}
