import { pack as cpioPack, type Pack } from 'cpio-stream';
import { Deflate } from 'pako';
import type { Writable } from 'node:stream';
import { KilnError } from '../../errors.js';
import type { FileContent } from '../content.js';
import { nameToBytes, printableName } from '../name-bytes.js';
import type { FileTree, Inode, NodeType } from '../tree.js';
import { encodeNewcHeader, type NewcHeaderInput } from './newc-header.js';

/**
 * The initramfs writer: a FileTree as a cpio "newc" archive (cpio-stream's packer), gzip-
 * compressed with pako, streamed out in chunks. Order is the tree's walk order (parents first,
 * byte-ordered names); inode numbers count up from 1 in that order; hard links share an inode
 * number and carry the data on their last path (GNU cpio's convention; the kernel accepts it).
 */

export interface InitramfsOptions {
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

const TYPE_BITS: Record<NodeType, number> = {
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
const CHUNK = 1 << 20;
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

function entryDone(pack: Pack, p: PlannedEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error): void => (err ? reject(err) : resolve());
    if (p.linkname !== undefined) {
      pack.entry(p.header, Buffer.from(nameToBytes(p.linkname)), cb);
    } else if ((p.header.mode! & 0o170000) === TYPE_BITS.file) {
      const content = p.content;
      if (!content || content.size <= CHUNK) {
        const data = Buffer.alloc(content?.size ?? 0);
        if (content && content.size > 0) readAll(content, data, p.path);
        pack.entry(p.header, data, cb);
      } else {
        const sink = pack.entry(p.header, cb);
        pump(content, sink, p.path).catch(reject);
      }
    } else pack.entry(p.header, cb);
  });
}

/** A file whose content ended early (its source shrank since the tree was read). */
function shortRead(path: string, got: number, size: number): KilnError {
  return new KilnError(
    'source-changed',
    `'${printableName(path)}' shrank while it was being read: its content ended after ${got} of ${size} bytes`,
    'make sure nothing changes the source files while kiln reads them, then run again',
  );
}

function readAll(content: FileContent, into: Uint8Array, path: string): void {
  const r = content.open();
  try {
    const n = r.read(0, into);
    if (n !== into.length) throw shortRead(path, n, content.size);
  } finally {
    r.close();
  }
}

async function pump(content: FileContent, sink: Writable, path: string): Promise<void> {
  const r = content.open();
  try {
    for (let off = 0; off < content.size; off += CHUNK) {
      const buf = Buffer.alloc(Math.min(CHUNK, content.size - off));
      const n = r.read(off, buf);
      if (n !== buf.length) throw shortRead(path, off + n, content.size);
      if (!sink.write(buf)) await new Promise<void>((res) => sink.once('drain', () => res()));
    }
  } finally {
    r.close();
  }
  sink.end();
}

/** Streams the initramfs of `tree` into `sink`. Bad input is refused before the first write. */
export async function writeInitramfs(tree: FileTree, sink: InitramfsSink, options: InitramfsOptions = {}): Promise<InitramfsInfo> {
  const plan = planInitramfs(tree, options);
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new KilnError('bad-level', `gzip level ${level} is not 1–9`);
  const pack = cpioPack({ format: 'newc' });
  pack._encode = encodeNewcHeader;
  const producer = (async () => {
    for (const p of plan) await entryDone(pack, p);
    pack.finalize();
  })();
  let failed: unknown;
  producer.catch((e: unknown) => {
    failed = e;
    pack.destroy();
  });
  let cpioBytes = 0;
  let bytes = 0;
  const emit = async (chunk: Uint8Array): Promise<void> => {
    bytes += chunk.length;
    await sink.write(chunk);
  };
  const compress = options.compress ?? true;
  let pending: Uint8Array[] = [];
  const deflate = compress ? new Deflate({ gzip: true, level }) : undefined;
  if (deflate) deflate.onData = (c) => pending.push(c);
  try {
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      cpioBytes += chunk.length;
      if (!deflate) {
        await emit(chunk);
        continue;
      }
      deflate.push(chunk, false);
      const ready = pending;
      pending = [];
      for (const c of ready) await emit(c);
    }
  } catch (e) {
    throw failed ?? e;
  }
  await producer;
  if (failed) throw failed;
  if (deflate) {
    deflate.push(new Uint8Array(0), true);
    if (deflate.err) throw new Error(`gzip failed: ${deflate.msg}`);
    for (const c of pending) await emit(c);
  }
  return { entries: plan.length, cpioBytes, bytes };
}

/** The whole initramfs in memory (tests, small trees). */
export async function initramfsBytes(tree: FileTree, options: InitramfsOptions = {}): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeInitramfs(tree, { write: (c) => void chunks.push(c.slice()) }, options);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
