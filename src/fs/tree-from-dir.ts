import { accessSync, constants, lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { KilnError } from '../errors.js';
import { newByteRing, RING_SOURCE, USER_WORDS, type ByteRing } from './byte-ring.js';
import { BytesContent } from './bytes-content.js';
import { HostContent } from './content.js';
import type { ContentReader } from './file-content.js';
import { hostJoin, showHost, type HostPath } from './host-path.js';
import { bytesToName } from './name-bytes.js';
import type { OwnerPolicy } from './tree-from-tar.js';
import { compareNames, FileTree, type Inode, type NodeType, type Timestamp } from './tree.js';
import { startReadingXattrs, type XattrReadOptions } from './xattrs-from-dir.js';

export interface DirTreeOptions extends XattrReadOptions {
  /** 'keep' (default) takes the files' owners; 'root' makes everything 0:0. */
  owners?: OwnerPolicy;
}

function ts(ns: bigint): Timestamp {
  const sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  let s = sec;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    s -= 1n;
  }
  return { sec: Number(s), nsec: Number(nsec) };
}

/** Timestamps remembered by their value: the last this many distinct ones. */
const TIMES_KEPT = 4096;

/**
 * Timestamps of a tree, one object per value: the kernel stamps files with a coarse clock, so
 * files written together share their times (and a file's ctime is often its mtime). An object
 * per time per file would be three per file; inodes may share them as they are never changed
 * in place.
 */
class TimeCache {
  private times = new Map<bigint, Timestamp>();
  of(ns: bigint): Timestamp {
    let t = this.times.get(ns);
    if (t === undefined) {
      if (this.times.size >= TIMES_KEPT) this.times = new Map();
      t = ts(ns);
      this.times.set(ns, t);
    }
    return t;
  }
}

/** Who this process is, for `readable`: read once per tree (each call is a system call). */
interface Reader {
  uid: number;
  groups: Set<number>;
}

function currentReader(): Reader {
  return { uid: process.getuid?.() ?? 0, groups: new Set([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])]) };
}

/**
 * Whether this process may read a file, from its mode bits; `access(2)` only where the bits say
 * no (ACLs may still allow it). Root reads everything, so a root build makes no extra syscall.
 */
function readable(st: BigIntStats, hostPath: HostPath, reader: Reader): boolean {
  if (reader.uid === 0) return true;
  const mode = Number(st.mode);
  const bit = Number(st.uid) === reader.uid ? 0o400 : reader.groups.has(Number(st.gid)) ? 0o040 : 0o004;
  if (mode & bit) return true;
  try {
    accessSync(hostPath, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The names in a host directory as tree names, in byte order. Read as UTF-8 text (decoded by
 * Node, the common case); a directory where a name does not decode (U+FFFD appears) is read
 * again as bytes, so that those names keep their bytes.
 */
function listDirectory(hostDir: HostPath): string[] {
  let names: string[];
  try {
    names = typeof hostDir === 'string' ? readdirSync(hostDir, 'utf8') : [];
    if (typeof hostDir !== 'string' || names.some((n) => n.includes('\uFFFD'))) names = readdirSync(hostDir, { encoding: 'buffer' }).map(bytesToName);
  } catch (e) {
    throw new KilnError('unreadable', `cannot list '${showHost(hostDir)}': ${(e as Error).message}`, 'fix its permissions or leave it out of the source');
  }
  return names.sort(compareNames);
}

function typeOf(st: BigIntStats): NodeType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

/**
 * Builds a FileTree from a host directory. Files are referenced, not read; each is checked
 * readable now so that a write fails before its first byte rather than halfway. Their
 * contents are read ahead by a worker thread once a writer starts reading them (read-ahead.ts). Hard links
 * inside the directory stay hard links. Names and symlink targets are read as bytes
 * (name-bytes.ts), so names that are not UTF-8 work and stay exact. Extended attributes come
 * from one `getfattr` run over the tree (xattrs-from-dir.ts; Node has no xattr API).
 */
export function treeFromDirectory(root: string, options: DirTreeOptions = {}): FileTree {
  const owners = options.owners ?? 'keep';
  let rootStat: BigIntStats;
  try {
    rootStat = lstatSync(root, { bigint: true });
  } catch {
    throw new KilnError('no-source', `source directory '${root}' does not exist`, 'name an existing directory');
  }
  if (!rootStat.isDirectory()) throw new KilnError('no-source', `source '${root}' is not a directory`, 'name a directory, or use --from-tar for an archive');
  const reader = currentReader();
  const ahead = new ReadAhead(root);
  const times = new TimeCache();
  const inodeOf = (st: BigIntStats, hostPath: HostPath, path: string): Inode => {
    const type = typeOf(st);
    const mode = Number(st.mode) & 0o7777;
    const uid = owners === 'root' ? 0 : Number(st.uid);
    const gid = owners === 'root' ? 0 : Number(st.gid);
    const mtime = times.of(st.mtimeNs);
    const atime = times.of(st.atimeNs);
    const ctime = times.of(st.ctimeNs);
    // Each inode made whole by one literal: fields added afterwards would cost every inode an array of them.
    if (type === 'file') {
      if (!readable(st, hostPath, reader))
        throw new KilnError('unreadable', `cannot read '${showHost(hostPath)}'`, 'fix its permissions or leave it out of the source');
      return { type, mode, uid, gid, mtime, atime, ctime, content: ahead.add(path, Number(st.size)) };
    }
    if (type === 'symlink') return { type, mode, uid, gid, mtime, atime, ctime, target: bytesToName(readlinkSync(hostPath, { encoding: 'buffer' })) };
    if (type === 'char' || type === 'block') {
      // glibc's gnu_dev_major/minor over the 64-bit dev_t (bigint: JS shifts are 32-bit)
      const rdev = st.rdev;
      const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n));
      return { type, mode, uid, gid, mtime, atime, ctime, rdev: { major, minor } };
    }
    return { type, mode, uid, gid, mtime, atime, ctime };
  };
  const tree = new FileTree();
  Object.assign(tree.root, inodeOf(rootStat, root, ''));
  const seen = new Map<string, string>(); // dev:ino → first path, for hard links
  const walk = (hostDir: HostPath, treeDir: string): void => {
    for (const name of listDirectory(hostDir)) {
      const hostPath = hostJoin(hostDir, name);
      const path = treeDir ? `${treeDir}/${name}` : name;
      let st: BigIntStats;
      try {
        st = lstatSync(hostPath, { bigint: true });
      } catch (e) {
        throw new KilnError(
          'source-changed',
          `cannot read '${showHost(hostPath)}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          'make sure nothing changes the source directory while kiln reads it, then run again',
        );
      }
      // dev:ino of a file with other links, whose first path the others link to
      const key = !st.isDirectory() && st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
      const first = key === undefined ? undefined : seen.get(key);
      if (first !== undefined) {
        tree.link(path, first);
        continue;
      }
      if (key !== undefined) seen.set(key, path);
      tree.add(path, inodeOf(st, hostPath, path));
      if (st.isDirectory()) walk(hostPath, path);
    }
  };
  const xattrs = startReadingXattrs(root, options);
  walk(root, '');
  xattrs.apply(tree);
  return tree;
}

/* ---------------------------------------------------------------------------------------- *
 * Read-ahead of the files found (here rather than in a module of its own: it is Node-only, like
 * this module, and serves only it).
 * ---------------------------------------------------------------------------------------- */

/**
 * Read-ahead for the files of a source directory (Node only): a worker thread opens and reads
 * the files, in the order they were found, into a ring of bytes (byte-ring.ts) while the
 * writer's thread lays out metadata and writes; the writer's `open()` then takes the bytes from
 * the ring instead of making three system calls per file. The order the files were found in
 * (names in byte order, depth first) is the order in which writers read them (ext4 by inode
 * number, FAT by path), so the ring is consumed front to back.
 *
 * Nothing depends on the worker for correctness: a file read out of order, again (FAT's copies
 * of hard links), not from the start, or that the worker could not read (gone, shrunk, not
 * permitted, a name that is not UTF-8) is read directly, with the errors a direct read gives.
 * The worker starts at the first `open()`: a tree that is never read, holds less than the
 * ring, or is read on one core (where a worker only takes turns with the writer: ext4 (a)
 * under `taskset -c 0` was no slower without it, and took 18 MiB less) costs nothing. It reads
 * files only from the one the consumer wants next (`WANT`), and ends when all are read or when
 * the consumer stops taking bytes for a while. A consumer that would wait for the worker reads
 * the next small files itself instead (`NEXT` says which files each side has claimed): opening
 * and reading small files is most of the work, and the writer's thread would otherwise idle
 * while the worker's core is busy.
 */

/** Ring size: small enough for the memory goals, large enough to hold hundreds of small files. */
const RING = 4 << 20;
/** Largest record of file bytes. */
const CHUNK = 1 << 20;
/** Paths are handed to the worker in batches of this many. */
const BATCH = 4096;
/** A worker waiting this long for room or for paths ends. */
const IDLE_MS = 30_000;
/** How long the consumer waits for a record before it checks whether the worker has ended. */
const POLL_MS = 200;

/** The consumer's control words after the ring's. */
const WANT = USER_WORDS; // index of the file the consumer wants next: the worker skips those before it
const SENT = USER_WORDS + 1; // paths handed over so far
const DONE = USER_WORDS + 2; // set when the worker has ended
const NEXT = USER_WORDS + 3; // the first file neither side has claimed: each reads only files it claimed

/**
 * Files the consumer reads itself while it waits for the worker (work stealing): the worker is
 * behind when the writer has nothing else to do, and on two cores both can read. Only small
 * files are taken so, and only so many bytes at once, as they are held until written.
 */
const STEAL_MAX = 256 << 10;
const STOLEN_MAX = 4 << 20;

/** Record words: the file's index is the tag; word 0 is 0 for bytes, 1 for "read it directly". */
const FAILED = 1;

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
${RING_SOURCE}
const { ringBuffer, controlBuffer, port, chunk: CHUNK, idle: IDLE, words: [WANT, SENT, DONE, NEXT] } = workerData;
const ring = new ByteRing(ringBuffer, controlBuffer);
const control = ring.control;
let paths = [];
let sizes = [];
let base = 0;
let last = false;
/** The next batch of paths; false when there are no more (or none came for a while). */
function more() {
  for (;;) {
    const m = receiveMessageOnPort(port);
    if (m) { ({ paths, sizes, base, last } = m.message); return true; }
    if (last) return false;
    const sent = Atomics.load(control, SENT);
    if (base + paths.length < sent) continue;
    ring.wake();
    if (Atomics.wait(control, SENT, sent, IDLE) === 'timed-out') return false;
  }
}
/** The next file to read: the first unclaimed one, and not before the one the consumer wants. */
function claim() {
  for (;;) {
    const next = Atomics.load(control, NEXT);
    const index = Math.max(next, Atomics.load(control, WANT));
    if (Atomics.compareExchange(control, NEXT, next, index + 1) === next) return index;
  }
}
function main() {
  for (;;) {
    const index = claim();
    while (index >= base + paths.length) if (!more()) return;
    const path = paths[index - base];
    const size = sizes[index - base];
    let fd = -1;
    if (typeof path === 'string') { try { fd = openSync(path, 'r'); } catch { fd = -1; } }
    let failed = fd < 0;
    for (let done = 0; !failed && done < size; ) {
      const want = Math.min(CHUNK, size - done);
      const at = ring.reserve(want, IDLE);
      if (at < 0) { closeSync(fd); return; }
      let got = 0;
      try {
        while (got < want) { const n = readSync(fd, ring.bytes, at + 16 + got, want - got, done + got); if (n === 0) break; got += n; }
      } catch { got = -1; }
      if (got !== want) { failed = true; break; }
      ring.publish(index, want, 0, 0);
      done += want;
    }
    if (fd >= 0) closeSync(fd);
    if (failed) {
      if (ring.reserve(0, IDLE) < 0) return;
      ring.publish(index, 0, ${FAILED}, 0);
    }
  }
}
try { main(); } finally { Atomics.store(control, DONE, 1); Atomics.notify(control, 0); }
`;

/** The files of one source tree, in the order they were found, and the worker reading them. */
class ReadAhead {
  /** The files, by index (their paths and sizes are theirs). */
  private readonly files: AheadContent[] = [];
  /** Bytes of all the files: a tree holding less than the ring is read directly (a worker costs a few milliseconds and about 10 MiB to start). */
  private total = 0;
  private ring: ByteRing | undefined;
  private post: ((batch: { paths: (string | undefined)[]; sizes: number[]; base: number; last: boolean }) => void) | undefined;
  private sent = 0;
  /** Files before this one were passed: asking for one of them again reads it directly. */
  private nextIndex = 0;
  /** Files this thread read itself while it waited (see STEAL_MAX), by index; UNREAD where that failed. */
  private readonly stolen = new Map<number, Uint8Array>();
  /**
   * Where stolen files' bytes are kept, front to back: used again from the start once every one
   * was taken and read (a buffer per file would hold their memory until the next GC).
   */
  private arena: Uint8Array | undefined;
  private arenaUsed = 0;
  private stolenOpen = 0;
  /** Files that had to be read directly; too many and the read-ahead stops. */
  private misses = 0;
  private stopped = false;

  constructor(
    /** The source directory: files' host paths are their tree paths under it. */
    readonly root: string,
  ) {}

  /** A content of this tree whose reads come from the ring when they can. */
  add(path: string, size: number): HostContent {
    const file = new AheadContent(path, size, this, this.files.length);
    this.files.push(file);
    this.total += size;
    return file;
  }

  private start(first: number): ByteRing {
    const { ring, ringBuffer, controlBuffer } = newByteRing(RING, 4);
    Atomics.store(ring.control, WANT, first);
    Atomics.store(ring.control, NEXT, first);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ringBuffer, controlBuffer, port: port2, chunk: CHUNK, idle: IDLE_MS, words: [WANT, SENT, DONE, NEXT] },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    this.post = (batch) => port1.postMessage(batch);
    this.sent = first;
    this.nextIndex = first;
    this.ring = ring;
    return ring;
  }

  /** Hands the worker the next batch of paths (those that are not text are read directly). */
  private sendMore(ring: ByteRing): void {
    const from = this.sent;
    const to = Math.min(this.files.length, from + BATCH);
    const batch = this.files.slice(from, to);
    this.post!({
      paths: batch.map((f) => (typeof f.path === 'string' ? f.path : undefined)),
      sizes: batch.map((f) => f.size),
      base: from,
      last: to === this.files.length,
    });
    this.sent = to;
    Atomics.store(ring.control, SENT, to);
    Atomics.notify(ring.control, SENT);
  }

  /** The reader of file `index` from the ring, or undefined when it must be read directly. */
  take(index: number): ContentReader | undefined {
    const own = this.stolen.get(index);
    if (own !== undefined) return this.takeStolen(index, own);
    if (this.stopped) return undefined;
    if (!this.ring && (this.total < RING || availableParallelism() === 1)) {
      this.stopped = true;
      return undefined;
    }
    const ring = this.ring ?? this.start(index);
    if (index < this.nextIndex) return this.miss();
    this.nextIndex = index + 1;
    Atomics.store(ring.control, WANT, index);
    while (this.sent < this.files.length && index + BATCH / 2 > this.sent) this.sendMore(ring);
    const at = this.record(index);
    if (at === STOLEN) return this.takeStolen(index, this.stolen.get(index)!);
    if (at < 0) return this.miss();
    if (ring.word(at, 0) === FAILED) {
      ring.release(at);
      return undefined;
    }
    return new RingReader(ring, this, index, this.files[index]!.size);
  }

  /**
   * Claims the first file the worker has not (from `wanted` on) and reads it here, if it is
   * small and there is room for it; false when it took none.
   */
  private steal(wanted: number): boolean {
    const control = this.ring!.control;
    const next = Atomics.load(control, NEXT);
    const index = Math.max(next, wanted);
    const file = this.files[index];
    // files before the wanted one will not be asked for in order (if at all: then read directly)
    for (const k of this.stolen.keys()) if (k < wanted) this.stolen.delete(k);
    if (this.stolen.size === 0 && this.stolenOpen === 0) this.arenaUsed = 0;
    if (file === undefined || file.size > STEAL_MAX || this.arenaUsed + file.size > STOLEN_MAX) return false;
    // lost to the worker: there may be another to take
    if (Atomics.compareExchange(control, NEXT, next, index + 1) !== next) return true;
    // an empty file is never asked for
    if (file.size === 0) return true;
    this.arena ??= new Uint8Array(STOLEN_MAX);
    const bytes = this.arena.subarray(this.arenaUsed, this.arenaUsed + file.size);
    this.stolen.set(index, file.readDirectly(bytes) ? bytes : UNREAD);
    this.arenaUsed += file.size;
    return true;
  }

  /** The reader of a stolen file; closing it gives its place in the arena back. */
  private takeStolen(index: number, bytes: Uint8Array): ContentReader | undefined {
    this.stolen.delete(index);
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    if (bytes === UNREAD) return undefined;
    this.stolenOpen++;
    const reader = new BytesContent(bytes).open();
    let open = true;
    return {
      read: reader.read,
      close: () => {
        if (open) this.stolenOpen--;
        open = false;
      },
    };
  }

  private miss(): undefined {
    if (++this.misses > 64) this.stopped = true;
    return undefined;
  }

  /**
   * The offset of the next record of file `index` at the tail of the ring, releasing records of
   * files before it; -1 when there is none (the worker ended, or went past the file), STOLEN
   * when this thread read the file itself while it waited.
   */
  record(index: number): number {
    const ring = this.ring!;
    for (;;) {
      if (this.stolen.has(index)) return STOLEN;
      let at = ring.next(0);
      if (at < 0) {
        if (this.steal(index)) continue;
        at = ring.next(POLL_MS);
      }
      if (at < 0) {
        if (!Atomics.load(ring.control, DONE)) continue;
        at = ring.next(0);
        if (at < 0) return -1;
      }
      const file = ring.tag(at);
      if (file === index) return at;
      if (file > index) return -1;
      ring.release(at);
    }
  }
}

/** Returned by `record` for a file this thread read itself. */
const STOLEN = -2;
/** A stolen file that could not be read whole: it is read directly, with the errors that gives. */
const UNREAD = new Uint8Array(0);

/** Reads one file's records off the ring, front to back. */
class RingReader implements ContentReader {
  private pos = 0;
  /** The current record, and how much of it was taken. */
  private at = -1;
  private used = 0;
  constructor(
    private readonly ring: ByteRing,
    private readonly ahead: ReadAhead,
    private readonly index: number,
    private readonly size: number,
  ) {}

  /** Reads from `offset` (sequential reads only); -1 when the ring cannot serve it. */
  read(offset: number, into: Uint8Array): number {
    if (offset !== this.pos) return -1;
    const want = Math.max(0, Math.min(into.length, this.size - offset));
    let done = 0;
    while (done < want) {
      if (this.at < 0) {
        this.at = this.ahead.record(this.index);
        this.used = 0;
        if (this.at < 0 || this.ring.word(this.at, 0) === FAILED) break;
      }
      const bytes = this.ring.data(this.at);
      const n = Math.min(want - done, bytes.length - this.used);
      into.set(bytes.subarray(this.used, this.used + n), done);
      done += n;
      this.used += n;
      if (this.used === bytes.length) this.close();
    }
    this.pos += done;
    return done === 0 && want > 0 ? -1 : done;
  }

  close(): void {
    if (this.at >= 0) this.ring.release(this.at);
    this.at = -1;
  }
}

/** A file of a source tree: read from the ring when the worker has it, directly otherwise. */
class AheadContent extends HostContent {
  constructor(
    /** The file's path in the tree: its host path is derived from it, not kept (a million files' host paths are ~100 MB). */
    private readonly treePath: string,
    readonly size: number,
    private readonly ahead: ReadAhead,
    private readonly index: number,
  ) {
    super();
  }

  get path(): HostPath {
    return hostJoin(this.ahead.root, this.treePath);
  }

  get offset(): number {
    return 0;
  }

  /** Reads the whole file into `into` as a direct read does; false where that fails (it is read directly again, for the error). */
  readDirectly(into: Uint8Array): boolean {
    try {
      const reader = super.open();
      try {
        return reader.read(0, into) === into.length;
      } finally {
        reader.close();
      }
    } catch {
      return false;
    }
  }

  override open(): ContentReader {
    const ring = this.size > 0 ? this.ahead.take(this.index) : undefined;
    if (!ring) return super.open();
    let direct: ContentReader | undefined;
    return {
      read: (offset, into) => {
        if (!direct) {
          const n = ring.read(offset, into);
          if (n >= 0 && (n === into.length || offset + n === this.size)) return n;
          // Out of order, or the worker stopped: the rest comes straight from the file.
          ring.close();
          direct = super.open();
          if (n > 0) return n + direct.read(offset + n, into.subarray(n));
        }
        return direct.read(offset, into);
      },
      close: () => {
        ring.close();
        direct?.close();
      },
    };
  }
}
