import type { BigIntStats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { HostPath } from './host-path.js';

/**
 * Directory listings made ahead by a worker thread, for treeFromDirectory (Node only). Walking
 * a source tree is a readdir per directory and an lstat per entry, each several microseconds of
 * Node's own work, while the other core is idle. Once a walk has met enough entries, it hands a
 * worker the directories it has still to enter, in the order it will enter them; the worker
 * lists them in that order (and the directories it finds in them, depth first as the walk goes),
 * each as its names in byte order and their lstat numbers.
 *
 * The walk takes the next listing when it enters a directory. The first time that listing is
 * not the directory entered (the worker ordered names otherwise, met a name that is not UTF-8 or
 * could not list a directory, and stopped), the worker is stopped and the walk lists the rest
 * itself: nothing depends on the worker but speed. A name the worker could not lstat is left
 * for the walk, which lstats it again and reports its error.
 */

/** The lstat numbers a listing holds per name, in this order. */
export const STAT = { mode: 0, uid: 1, gid: 2, size: 3, nlink: 4, dev: 5, ino: 6, rdev: 7, atimeNs: 8, mtimeNs: 9, ctimeNs: 10 } as const;
export const STAT_FIELDS = 11;

export interface Listing {
  /** In byte order. */
  names: string[];
  /** STAT_FIELDS per name; 0 for the mode of a name the worker could not lstat. */
  stats: BigInt64Array;
}

/** Writes `st`'s numbers at entry `i` of `stats`. */
export function putStat(st: BigIntStats, stats: BigInt64Array, i: number): void {
  const at = i * STAT_FIELDS;
  stats[at + STAT.mode] = st.mode;
  stats[at + STAT.uid] = st.uid;
  stats[at + STAT.gid] = st.gid;
  stats[at + STAT.size] = st.size;
  stats[at + STAT.nlink] = st.nlink;
  stats[at + STAT.dev] = st.dev;
  stats[at + STAT.ino] = st.ino;
  stats[at + STAT.rdev] = st.rdev;
  stats[at + STAT.atimeNs] = st.atimeNs;
  stats[at + STAT.mtimeNs] = st.mtimeNs;
  stats[at + STAT.ctimeNs] = st.ctimeNs;
}

/** Entries a walk meets before a worker is worth its start (~30 ms and ~10 MiB). */
export const STAT_AHEAD_AFTER = 4096;
/** Entries (and directories) the worker may be ahead of the walk: bounds its listings in memory. */
const LOOKAHEAD = 16384;
/** Entries the worker lists before it posts them. */
const BATCH = 512;
const POLL_MS = 200;
/** Control words: entries posted, entries taken, stop, ended. */
const POSTED = 0;
const TAKEN = 1;
const STOP = 2;
const ENDED = 3;

// putStat's order, for the worker (which shares no module with this thread)
const PUT_SOURCE = Object.entries(STAT)
  .map(([field, k]) => `s[at + ${k}] = st.${field};`)
  .join(' ');

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { dirs, port, controlBuffer } = workerData;
const control = new Int32Array(controlBuffer);
// Byte order of UTF-8 names is code point order: UTF-16 units compare so once surrogates
// (U+10000 and up) are put above U+E000-U+FFFF.
const unit = (c) => (c >= 0xd800 && c <= 0xdfff ? c + 0x2000 : c >= 0xe000 ? c - 0x800 : c);
function byteOrder(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x !== y) return unit(x) - unit(y);
  }
  return a.length - b.length;
}
const stack = dirs.slice().reverse();
let batch = [], listed = 0, posted = 0;
const post = () => {
  if (batch.length === 0) return;
  port.postMessage(batch, batch.map((l) => l.stats.buffer));
  batch = [];
  posted = listed;
  Atomics.store(control, ${POSTED}, posted);
  Atomics.notify(control, ${POSTED});
};
try {
  while (stack.length > 0 && !Atomics.load(control, ${STOP})) {
    const { host, tree } = stack.pop();
    let names;
    try { names = fs.readdirSync(host, 'utf8'); } catch { break; }
    if (names.some((n) => n.includes('\\uFFFD'))) break;
    names.sort(byteOrder);
    const s = new BigInt64Array(names.length * ${STAT_FIELDS});
    const subdirs = [];
    for (let i = 0; i < names.length; i++) {
      let st;
      try { st = fs.lstatSync(host + '/' + names[i], { bigint: true }); } catch { continue; }
      const at = i * ${STAT_FIELDS};
      ${PUT_SOURCE}
      if (st.isDirectory()) subdirs.push({ host: host + '/' + names[i], tree: tree + '/' + names[i] });
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
    batch.push({ path: tree, names, stats: s });
    listed += names.length + 1;
    if (listed - posted >= ${BATCH}) post();
    for (let taken; posted - (taken = Atomics.load(control, ${TAKEN})) > ${LOOKAHEAD} && !Atomics.load(control, ${STOP}); )
      Atomics.wait(control, ${TAKEN}, taken, ${POLL_MS});
  }
  post();
} catch {
  // ended: the walk lists the rest itself
} finally {
  Atomics.store(control, ${ENDED}, 1);
  Atomics.notify(control, ${POSTED});
}
`;

interface PostedListing extends Listing {
  path: string;
}

/** A directory a walk has still to enter: its host path and its path in the tree. */
export interface PendingDir {
  host: HostPath;
  tree: string;
}

export class StatAhead {
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * 4));
  private readonly port: MessagePort;
  private queue: PostedListing[] = [];
  private head = 0;
  private taken = 0;
  private stopped = false;

  private constructor(dirs: { host: string; tree: string }[]) {
    const { port1, port2 } = new MessageChannel();
    new Worker(WORKER_SOURCE, { eval: true, workerData: { dirs, port: port2, controlBuffer: this.control.buffer }, transferList: [port2] }).unref();
    port1.unref();
    this.port = port1;
  }

  /**
   * A worker listing `dirs` (in the order the walk enters them); undefined on one core (where
   * it would only take turns with the walk), when there is nothing to list, or when a host path
   * is not text (the worker lists by text paths).
   */
  static start(dirs: PendingDir[]): StatAhead | undefined {
    if (dirs.length === 0 || availableParallelism() < 2) return undefined;
    const text: { host: string; tree: string }[] = [];
    for (const d of dirs) {
      if (typeof d.host !== 'string') return undefined;
      text.push({ host: d.host, tree: d.tree });
    }
    try {
      return new StatAhead(text);
    } catch {
      return undefined;
    }
  }

  /** The listing of `treeDir` if it is the next one; else the worker is stopped and undefined returned, from then on. */
  take(treeDir: string): Listing | undefined {
    if (this.stopped) return undefined;
    while (this.head === this.queue.length) {
      const posted = Atomics.load(this.control, POSTED);
      const m = receiveMessageOnPort(this.port);
      if (m) {
        this.queue = m.message as PostedListing[];
        this.head = 0;
      } else if (Atomics.load(this.control, ENDED)) {
        // it may have posted its last batch just before it ended
        const last = receiveMessageOnPort(this.port);
        if (!last) return this.stop();
        this.queue = last.message as PostedListing[];
        this.head = 0;
      } else Atomics.wait(this.control, POSTED, posted, POLL_MS);
    }
    const listing = this.queue[this.head++]!;
    this.taken += listing.names.length + 1;
    Atomics.store(this.control, TAKEN, this.taken);
    if (this.head === this.queue.length) Atomics.notify(this.control, TAKEN);
    if (listing.path !== treeDir) return this.stop();
    return listing;
  }

  /** Stops the worker (the walk lists the rest itself, or is done). */
  stop(): undefined {
    if (this.stopped) return undefined;
    this.stopped = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, TAKEN);
    this.port.close();
    this.queue = [];
    return undefined;
  }
}

/** A listing made in the walk's thread: `names` in byte order, and `lstat` of each (which throws the walk's error for a name). */
export function statAll(names: string[], lstat: (name: string) => BigIntStats): Listing {
  const stats = new BigInt64Array(names.length * STAT_FIELDS);
  for (let i = 0; i < names.length; i++) putStat(lstat(names[i]!), stats, i);
  return { names, stats };
}
