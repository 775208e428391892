import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { KilnError } from '../../errors.js';
import { checkInterrupted, outputError, registerTemp, removeStaleTemps, tempPathFor, unregisterTemp } from '../file-target.js';
import type { FileContent } from '../file-content.js';
import { hasRawBytes, nameToBytes, printableName } from '../name-bytes.js';
import type { FileTree, Inode, NodeType, Timestamp } from '../tree.js';
import { TAR_BLOCK, TAR_HEADER, TarType, formatNumeric, headerChecksum } from './header.js';

/**
 * A tar writer: POSIX ustar headers (encoded through the TAR_HEADER field table) with pax
 * extended headers where a value does not fit (names over 100 bytes, link targets, ids over
 * 2^21, sizes over 8 GiB, sub-second or negative times, xattrs). Owners, modes with setuid bits,
 * device numbers and hard links come from the tree, so a rootless user gets a faithful archive.
 * Deterministic: tree order, no clock, no user names. Names and link targets are written as the
 * bytes they stand for (name-bytes.ts); a pax header that carries bytes that are not UTF-8 says
 * hdrcharset=BINARY, as GNU tar does.
 */

/** One member as the header sees it; `path` may be anything (tests write hostile archives). */
export interface TarMember {
  path: string;
  type: NodeType | 'hardlink';
  mode: number;
  uid: number;
  gid: number;
  mtime: Timestamp;
  size?: number;
  linkname?: string;
  rdev?: { major: number; minor: number };
  xattrs?: Map<string, Uint8Array>;
}

const enc = new TextEncoder();

const TYPEFLAG: Record<TarMember['type'], number | undefined> = {
  file: TarType.file,
  hardlink: TarType.hardlink,
  symlink: TarType.symlink,
  char: TarType.char,
  block: TarType.block,
  dir: TarType.dir,
  fifo: TarType.fifo,
  socket: undefined,
};

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** One pax record: "<len> key=value\n", where len counts the whole record. */
function paxRecord(key: string, value: Uint8Array | string): Uint8Array {
  const v = typeof value === 'string' ? enc.encode(value) : value;
  const k = nameToBytes(key);
  const rest = k.length + 2 + v.length + 1;
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  const out = new Uint8Array(len);
  const head = enc.encode(`${len} `);
  out.set(head, 0);
  out.set(k, head.length);
  out[head.length + k.length] = 0x3d;
  out.set(v, head.length + k.length + 1);
  out[len - 1] = 0x0a;
  return out;
}

function formatTime(t: Timestamp): string {
  if (t.nsec === 0) return String(t.sec);
  // pax times are decimal seconds; negative times with a fraction count down from the epoch
  if (t.sec < 0) {
    const whole = t.sec + 1;
    return `${whole === 0 ? '-0' : String(whole)}.${String(1_000_000_000 - t.nsec).padStart(9, '0')}`.replace(/0+$/, '');
  }
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`.replace(/0+$/, '');
}

function headerBlock(m: TarMember, typeflag: number, name: Uint8Array, linkname: Uint8Array, size: number): Uint8Array {
  const block = new Uint8Array(TAR_BLOCK);
  TAR_HEADER.encode(
    {
      name,
      mode: formatNumeric(m.mode & 0o7777, 8),
      uid: formatNumeric(m.uid, 8),
      gid: formatNumeric(m.gid, 8),
      size: formatNumeric(size, 12),
      mtime: formatNumeric(m.mtime.sec, 12),
      chksum: enc.encode('        '),
      typeflag,
      linkname,
      magic: enc.encode('ustar\0'),
      version: enc.encode('00'),
      uname: new Uint8Array(0),
      gname: new Uint8Array(0),
      devmajor: formatNumeric(m.rdev?.major ?? 0, 8),
      devminor: formatNumeric(m.rdev?.minor ?? 0, 8),
    },
    block,
  );
  const sum = headerChecksum(block);
  TAR_HEADER.encode({ chksum: enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `) }, block);
  return block;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / TAR_BLOCK) * TAR_BLOCK);
  out.set(data);
  return out;
}

/** The header block(s) of one member: a pax header first when needed, then the ustar header. */
export function memberHeader(m: TarMember): Uint8Array {
  const typeflag = TYPEFLAG[m.type];
  if (typeflag === undefined) throw new KilnError('tar-unsupported', `tar cannot store '${printableName(m.path)}' (a ${m.type})`);
  const path = m.type === 'dir' && !m.path.endsWith('/') ? `${m.path}/` : m.path;
  const size = m.type === 'file' ? (m.size ?? 0) : 0;
  const nameBytes = nameToBytes(path);
  const linkBytes = nameToBytes(m.linkname ?? '');
  const pax: Uint8Array[] = [];
  let binary = false;
  if (nameBytes.length > 100) {
    pax.push(paxRecord('path', nameBytes));
    binary ||= hasRawBytes(path);
  }
  if (linkBytes.length > 100) {
    pax.push(paxRecord('linkpath', linkBytes));
    binary ||= hasRawBytes(m.linkname!);
  }
  if (m.uid > MAX_OCTAL_7 || m.uid < 0) pax.push(paxRecord('uid', String(m.uid)));
  if (m.gid > MAX_OCTAL_7 || m.gid < 0) pax.push(paxRecord('gid', String(m.gid)));
  if (size > MAX_OCTAL_11) pax.push(paxRecord('size', String(size)));
  if (m.mtime.nsec !== 0 || m.mtime.sec < 0 || m.mtime.sec > MAX_OCTAL_11) pax.push(paxRecord('mtime', formatTime(m.mtime)));
  for (const [k, v] of [...(m.xattrs ?? new Map<string, Uint8Array>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // as GNU tar: '%' and '=' (which would end the keyword) are escaped in the name
    pax.push(paxRecord(`SCHILY.xattr.${k.replace(/%/g, '%25').replace(/=/g, '%3D')}`, v));
    binary ||= hasRawBytes(k);
  }
  if (binary) pax.unshift(paxRecord('hdrcharset', 'BINARY'));
  const name = nameBytes.length > 100 ? nameBytes.subarray(0, 100) : nameBytes;
  const link = linkBytes.length > 100 ? linkBytes.subarray(0, 100) : linkBytes;
  const main = headerBlock(m, typeflag, name, link, size);
  if (pax.length === 0) return main;
  const body = new Uint8Array(pax.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of pax) {
    body.set(r, at);
    at += r.length;
  }
  const paxHeader = headerBlock(
    { path: 'PaxHeader', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 } },
    TarType.paxLocal,
    enc.encode('PaxHeader'),
    new Uint8Array(0),
    body.length,
  );
  const out = new Uint8Array(TAR_BLOCK + padded(body).length + TAR_BLOCK);
  out.set(paxHeader, 0);
  out.set(padded(body), TAR_BLOCK);
  out.set(main, out.length - TAR_BLOCK);
  return out;
}

const CHUNK = 1 << 20;

function* contentChunks(content: FileContent, what: string): Generator<Uint8Array> {
  const reader = content.open();
  try {
    let offset = 0;
    while (offset < content.size) {
      const buf = new Uint8Array(Math.min(CHUNK, content.size - offset));
      const n = reader.read(offset, buf);
      if (n === 0) throw new KilnError('short-content', `'${what}': content ended after ${offset} of ${content.size} bytes`);
      offset += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
    const pad = (TAR_BLOCK - (content.size % TAR_BLOCK)) % TAR_BLOCK;
    if (pad) yield new Uint8Array(pad);
  } finally {
    reader.close();
  }
}

export interface TarWriteOptions {
  /** Prepended to every member name, e.g. './' (default: none). */
  prefix?: string;
  /** Called for paths tar cannot hold (sockets), which are left out. */
  onSkip?(path: string, inode: Inode): void;
}

/** The archive as a sequence of chunks (streamed: file contents are read as they are written). */
export function* tarChunks(tree: FileTree, options: TarWriteOptions = {}): Generator<Uint8Array> {
  const first = new Map<Inode, string>();
  const prefix = options.prefix ?? '';
  for (const [path, inode] of tree.walk()) {
    if (path === '') continue;
    const name = prefix + path;
    const seen = first.get(inode);
    const base = { path: name, mode: inode.mode, uid: inode.uid, gid: inode.gid, mtime: inode.mtime };
    if (seen !== undefined) {
      yield memberHeader({ ...base, type: 'hardlink', linkname: seen });
      continue;
    }
    if (inode.type === 'socket') {
      options.onSkip?.(path, inode);
      continue;
    }
    if (inode.type !== 'dir') first.set(inode, name);
    const m: TarMember = { ...base, type: inode.type };
    if (inode.xattrs) m.xattrs = inode.xattrs;
    if (inode.type === 'file') m.size = inode.content?.size ?? 0;
    if (inode.type === 'symlink') m.linkname = inode.target ?? '';
    if (inode.rdev) m.rdev = inode.rdev;
    yield memberHeader(m);
    if (inode.type === 'file' && inode.content && inode.content.size > 0) yield* contentChunks(inode.content, path);
  }
  yield new Uint8Array(2 * TAR_BLOCK);
}

/**
 * Writes the archive to `path` via a temp name beside it (tempPathFor), renamed when complete.
 * As the image writers do: stale temps of killed runs for the same output are removed first, the
 * temp is registered so a signal removes it, and a failure removes it and reports as a KilnError.
 */
export function writeTarFile(tree: FileTree, path: string, options: TarWriteOptions = {}): void {
  const tmp = tempPathFor(path);
  removeStaleTemps(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o644);
  } catch (e) {
    throw outputError(e, path, 'creating');
  }
  registerTemp(tmp);
  let open = true;
  try {
    for (const chunk of tarChunks(tree, options)) {
      checkInterrupted();
      let done = 0;
      try {
        while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
      } catch (e) {
        throw outputError(e, path, 'writing');
      }
    }
    try {
      fsyncSync(fd);
      open = false;
      closeSync(fd);
      renameSync(tmp, path);
    } catch (e) {
      throw outputError(e, path, 'writing');
    }
  } catch (e) {
    if (open) {
      try {
        closeSync(fd);
      } catch {
        // removed below anyway
      }
    }
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the next run removes it as a stale temp
    }
    throw e;
  } finally {
    unregisterTemp(tmp);
  }
}
