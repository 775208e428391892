import { createHash } from 'node:crypto';
import type { ArtifactRef } from '../cache/artifacts.js';

/**
 * kiln's `/ac/` entries: the cache key of an artifact → the digest of its manifest in `/cas/`.
 * Each entry is a minimal REAPI `ActionResult` protobuf message (so servers that validate `/ac/`
 * uploads, like bazel-remote by default, accept it): one `output_files` entry whose path names
 * the artifact (`kiln-artifact/<project>/<element>/<key>`) and whose digest is the manifest's.
 * The entry's own name is sha256 of "kiln-artifact 1\0project\0element\0key", so two elements
 * that happen to share a key never share an entry.
 *
 *   ActionResult { repeated OutputFile output_files = 2; }
 *   OutputFile   { string path = 1; Digest digest = 2; }
 *   Digest       { string hash = 1; int64 size_bytes = 2; }
 */

export const ENTRY_PREFIX = 'kiln-artifact/';

export function actionKey(ref: ArtifactRef): string {
  return createHash('sha256').update(`kiln-artifact 1\0${ref.project}\0${ref.element}\0${ref.key}`).digest('hex');
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

function field(no: number, wire: 0 | 2, payload: Buffer | number): Buffer {
  const tag = varint((no << 3) | wire);
  if (wire === 0) return Buffer.concat([tag, varint(payload as number)]);
  const bytes = payload as Buffer;
  return Buffer.concat([tag, varint(bytes.length), bytes]);
}

export function encodeActionResult(ref: ArtifactRef, manifest: { digest: string; size: number }): Buffer {
  const digest = Buffer.concat([field(1, 2, Buffer.from(manifest.digest)), field(2, 0, manifest.size)]);
  const file = Buffer.concat([field(1, 2, Buffer.from(`${ENTRY_PREFIX}${ref.project}/${ref.element}/${ref.key}`)), field(2, 2, digest)]);
  return field(2, 2, file);
}

interface Field {
  no: number;
  value: Buffer | number;
}

/** Parses protobuf fields (varint and length-delimited; fixed32/64 skipped). Throws on damage. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const readVarint = (): number => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length || shift > 63n) throw new Error('truncated varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('varint too large');
    return Number(v);
  };
  while (i < buf.length) {
    const tag = readVarint();
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, value: readVarint() });
    else if (wire === 2) {
      const n = readVarint();
      if (i + n > buf.length) throw new Error('truncated field');
      out.push({ no, value: buf.subarray(i, i + n) });
      i += n;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  if (i !== buf.length) throw new Error('truncated field');
  return out;
}

/** The manifest digest an entry names for `ref`, or undefined if the entry is not kiln's entry for it. */
export function decodeActionResult(ref: ArtifactRef, buf: Buffer): { digest: string; size: number } | undefined {
  const want = `${ENTRY_PREFIX}${ref.project}/${ref.element}/${ref.key}`;
  try {
    for (const f of fields(buf)) {
      if (f.no !== 2 || !Buffer.isBuffer(f.value)) continue;
      let path: string | undefined;
      let digest: Buffer | undefined;
      for (const g of fields(f.value)) {
        if (g.no === 1 && Buffer.isBuffer(g.value)) path = g.value.toString('utf8');
        if (g.no === 2 && Buffer.isBuffer(g.value)) digest = g.value;
      }
      if (path !== want || !digest) continue;
      let hash: string | undefined;
      let size = 0;
      for (const h of fields(digest)) {
        if (h.no === 1 && Buffer.isBuffer(h.value)) hash = h.value.toString('utf8');
        if (h.no === 2 && typeof h.value === 'number') size = h.value;
      }
      if (hash && /^[0-9a-f]{64}$/.test(hash)) return { digest: hash, size };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
