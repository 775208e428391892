import { pack as cpioPack, type Pack } from 'cpio-stream';
import { Deflate } from 'pako';
import type { Writable } from 'node:stream';
import { KilnError } from '../../errors.js';
import type { FileContent } from '../file-content.js';
import { nameToBytes, printableName } from '../name-bytes.js';
import type { FileTree } from '../tree.js';
import {
  initramfsMeter,
  planInitramfs,
  TYPE_BITS,
  type InitramfsInfo,
  type InitramfsOptions,
  type InitramfsSink,
  type PlannedEntry,
} from './initramfs-plan.js';
import { encodeNewcHeader } from './newc-header.js';
import type { ProgressMeter } from '../write-control.js';

/**
 * The streaming initramfs writer (Node): the planned archive (initramfs-plan.ts) through
 * cpio-stream's packer, gzip-compressed with pako, streamed out in chunks with backpressure.
 * newc-writer.ts writes the same bytes without Node (browsers, initramfsBytes).
 */

const CHUNK = 1 << 20;

function entryDone(pack: Pack, p: PlannedEntry, meter: ProgressMeter): Promise<void> {
  meter.file();
  return new Promise((resolve, reject) => {
    const cb = (err?: Error): void => (err ? reject(err) : resolve());
    if (p.linkname !== undefined) {
      pack.entry(p.header, Buffer.from(nameToBytes(p.linkname)), cb);
    } else if ((p.header.mode! & 0o170000) === TYPE_BITS.file) {
      const content = p.content;
      if (!content || content.size <= CHUNK) {
        const data = Buffer.alloc(content?.size ?? 0);
        if (content && content.size > 0) readAll(content, data, p.path);
        meter.bytes(data.length);
        pack.entry(p.header, data, cb);
      } else {
        const sink = pack.entry(p.header, cb);
        pump(content, sink, p.path, meter).catch(reject);
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

async function pump(content: FileContent, sink: Writable, path: string, meter: ProgressMeter): Promise<void> {
  const r = content.open();
  try {
    for (let off = 0; off < content.size; off += CHUNK) {
      const buf = Buffer.alloc(Math.min(CHUNK, content.size - off));
      const n = r.read(off, buf);
      if (n !== buf.length) throw shortRead(path, off + n, content.size);
      meter.bytes(n);
      if (!sink.write(buf)) await new Promise<void>((res) => sink.once('drain', () => res()));
    }
  } finally {
    r.close();
  }
  sink.end();
}

/**
 * Streams the initramfs of `tree` into `sink`. Bad input is refused before the first write.
 * With `withOutputFile`, an abort (`options.signal`) or error leaves nothing under the name.
 */
export async function writeInitramfs(tree: FileTree, sink: InitramfsSink, options: InitramfsOptions = {}): Promise<InitramfsInfo> {
  const plan = planInitramfs(tree, options);
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new KilnError('bad-level', `gzip level ${level} is not 1–9`);
  const meter = initramfsMeter(plan, options);
  meter.bytes(0); // an aborted signal refuses before the first write
  const pack = cpioPack({ format: 'newc' });
  pack._encode = encodeNewcHeader;
  const producer = (async () => {
    for (const p of plan) await entryDone(pack, p, meter);
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
  meter.finish();
  return { entries: plan.length, cpioBytes, bytes };
}
