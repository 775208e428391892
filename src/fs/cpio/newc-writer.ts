import { Deflate } from 'pako';
import { KilnError } from '../../errors.js';
import { nameToBytes, printableName } from '../name-bytes.js';
import type { FileTree } from '../tree.js';
import { initramfsMeter, planInitramfs, TYPE_BITS, type InitramfsOptions, type PlannedEntry } from './initramfs-plan.js';
import type { ProgressMeter } from '../write-control.js';
import { encodeNewcHeader, NEWC_TRAILER } from './newc-header.js';

/**
 * The initramfs writer without Node built-ins (browsers, and `initramfsBytes` everywhere): the
 * newc archive of a planned tree produced chunk by chunk and gzip'd with pako. Its bytes equal
 * those of Node's streaming writer (writeInitramfs, through cpio-stream's packer), including
 * the packer's trailing padding: the archive is padded with zeros to 512 bytes when it is
 * smaller; otherwise the packer counted bytes only until the chunk that crossed 512 (S) and
 * pads `1024 - S` bytes when that is below 512.
 */

/** The packer's data chunk for streamed files (writeInitramfs pumps files above it in pieces). */
const CHUNK = 1 << 20;
const BLOCK = 512;

function pad4(n: number): Uint8Array {
  return new Uint8Array((4 - (n % 4)) % 4);
}

function readEntry(p: PlannedEntry, off: number, into: Uint8Array): void {
  const r = p.content!.open();
  try {
    const n = r.read(off, into);
    if (n !== into.length) {
      throw new KilnError(
        'source-changed',
        `'${printableName(p.path)}' shrank while it was being read: its content ended after ${off + n} of ${p.content!.size} bytes`,
        'make sure nothing changes the source files while kiln reads them, then run again',
      );
    }
  } finally {
    r.close();
  }
}

/** The uncompressed newc archive of `plan`, in the chunks the packer would see. */
export function* newcChunks(plan: readonly PlannedEntry[], meter?: ProgressMeter): Generator<Uint8Array> {
  for (const p of plan) {
    meter?.file();
    if (p.linkname !== undefined) {
      const target = nameToBytes(p.linkname);
      yield encodeNewcHeader({ ...p.header, size: target.length });
      yield target;
      yield pad4(target.length);
    } else if (((p.header.mode ?? 0) & 0o170000) === TYPE_BITS.file) {
      const size = p.content?.size ?? 0;
      yield encodeNewcHeader({ ...p.header, size });
      if (size <= CHUNK) {
        const data = new Uint8Array(size);
        if (size > 0) readEntry(p, 0, data);
        meter?.bytes(size);
        yield data;
      } else {
        for (let off = 0; off < size; off += CHUNK) {
          const piece = new Uint8Array(Math.min(CHUNK, size - off));
          readEntry(p, off, piece);
          meter?.bytes(piece.length);
          yield piece;
        }
      }
      yield pad4(size);
    } else yield encodeNewcHeader(p.header);
  }
  yield encodeNewcHeader({ name: NEWC_TRAILER, nlink: 1 });
  meter?.finish();
}

/** The archive with the packer's trailing padding (see above). */
function* paddedChunks(plan: readonly PlannedEntry[], meter: ProgressMeter): Generator<Uint8Array> {
  let counted = 0;
  let frozen = false;
  for (const c of newcChunks(plan, meter)) {
    if (!frozen) {
      counted += c.length;
      frozen = counted >= BLOCK;
    }
    yield c;
  }
  const end = BLOCK - counted;
  const fill = end >= 0 ? end : Math.max(0, BLOCK + end);
  if (fill > 0) yield new Uint8Array(fill);
}

/**
 * The initramfs of `tree` (gzip'd unless `compress: false`) as chunks, produced as they are
 * pulled. Bad input is refused before the first chunk. The last progress call comes when the
 * archive's trailer is produced (before its compressed tail).
 */
export function* initramfsChunks(tree: FileTree, options: InitramfsOptions = {}): Generator<Uint8Array> {
  const plan = planInitramfs(tree, options);
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new KilnError('bad-level', `gzip level ${level} is not 1–9`);
  const meter = initramfsMeter(plan, options);
  if (options.compress === false) {
    yield* paddedChunks(plan, meter);
    return;
  }
  const deflate = new Deflate({ gzip: true, level });
  let pending: Uint8Array[] = [];
  deflate.onData = (c) => pending.push(c);
  const drain = (): Uint8Array[] => {
    if (deflate.err) throw new Error(`gzip failed: ${deflate.msg}`);
    const ready = pending;
    pending = [];
    return ready;
  };
  for (const c of paddedChunks(plan, meter)) {
    if (c.length === 0) continue;
    deflate.push(c, false);
    yield* drain();
  }
  deflate.push(new Uint8Array(0), true);
  yield* drain();
}

/** The whole initramfs in memory. */
export function initramfsBytesSync(tree: FileTree, options: InitramfsOptions = {}): Uint8Array {
  const chunks = [...initramfsChunks(tree, options)];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The whole initramfs in memory (as a promise, like the streaming writer). */
export async function initramfsBytes(tree: FileTree, options: InitramfsOptions = {}): Promise<Uint8Array> {
  return initramfsBytesSync(tree, options);
}
