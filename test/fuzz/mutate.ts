/**
 * Turns (seed, index) into one mutated image: bit flips inside a metadata structure, a field
 * rewritten to an extreme value (0, 1, max, max-1, the sign bit, off by one), truncation, or a
 * structural mutation (loops, impossible sizes), sometimes several at once. Checksums are
 * re-sealed afterwards (always for structural mutations, half the time otherwise) so that the
 * mutation reaches the code behind the checksum check.
 */
import { fieldWidth, type Field } from '../../src/fs/struct.js';
import type { BaseImage, Region } from './model.js';
import { view } from './model.js';
import { Rng, variantSeed } from './rng.js';

export interface Variant {
  index: number;
  base: BaseImage;
  kind: 'flip' | 'field' | 'truncate' | 'structural' | 'multi';
  description: string;
  bytes: Uint8Array;
  /** A reader must report a KilnError somewhere. */
  mustFail: boolean;
}

function pickRegion(rng: Rng, regions: Region[], withStruct: boolean): Region | undefined {
  const pool = withStruct ? regions.filter((r) => r.struct) : regions;
  if (pool.length === 0) return undefined;
  const tags = [...new Set(pool.map((r) => r.tag))];
  const tag = rng.pick(tags);
  return rng.pick(pool.filter((r) => r.tag === tag));
}

function where(r: Region): string {
  return `${r.tag}${r.owner ? ` (${r.owner})` : ''} at byte ${r.offset}`;
}

function flip(rng: Rng, bytes: Uint8Array, regions: Region[]): string | undefined {
  const r = pickRegion(rng, regions, false);
  if (!r) return undefined;
  const n = 1 + rng.int(4);
  const bits: number[] = [];
  for (let i = 0; i < n; i++) {
    const byte = r.offset + rng.int(Math.max(1, Math.min(r.length, bytes.length - r.offset)));
    if (byte >= bytes.length) continue;
    const bit = rng.int(8);
    bytes[byte] ^= 1 << bit;
    bits.push(byte * 8 + bit);
  }
  return `flip bit${bits.length > 1 ? 's' : ''} ${bits.join(',')} in ${where(r)}`;
}

function extremes(bits: number, current: bigint, rng: Rng): bigint[] {
  const max = (1n << BigInt(bits)) - 1n;
  const sign = 1n << BigInt(bits - 1);
  const random = BigInt(rng.u32()) * (1n << 32n) + BigInt(rng.u32());
  return [0n, 1n, 2n, max, max - 1n, sign, sign - 1n, random & max, (current + 1n) & max, (current - 1n) & max, (current * 2n) & max, (current * 1000n) & max];
}

function setField(rng: Rng, bytes: Uint8Array, regions: Region[]): string | undefined {
  const r = pickRegion(rng, regions, true);
  if (!r?.struct) return undefined;
  const limit = r.structSize ?? r.struct.size;
  const fields = r.struct.fields.filter((f: Field) => f.offset + fieldWidth(f) <= limit && r.offset + f.offset + fieldWidth(f) <= bytes.length);
  if (fields.length === 0) return undefined;
  const f = rng.pick(fields);
  const at = r.offset + f.offset;
  const v = view(bytes);
  if (f.type === 'bytes' || f.type === 'string') {
    const pattern = rng.pick([0x00, 0xff, 0x2f, 0x2e, -1]);
    for (let i = 0; i < fieldWidth(f); i++) bytes[at + i] = pattern < 0 ? rng.int(256) : pattern;
    return `field ${f.name} of ${where(r)} filled with ${pattern < 0 ? 'random bytes' : `0x${pattern.toString(16)}`}`;
  }
  const width = fieldWidth(f);
  const be = f.type.endsWith('be');
  const read = (): bigint =>
    width === 1 ? BigInt(v.getUint8(at)) : width === 2 ? BigInt(v.getUint16(at, !be)) : width === 4 ? BigInt(v.getUint32(at, !be)) : v.getBigUint64(at, !be);
  const value = rng.pick(extremes(width * 8, read(), rng));
  if (width === 1) v.setUint8(at, Number(value));
  else if (width === 2) v.setUint16(at, Number(value), !be);
  else if (width === 4) v.setUint32(at, Number(value), !be);
  else v.setBigUint64(at, value, !be);
  return `field ${f.name} of ${where(r)} = ${value} (0x${value.toString(16)})`;
}

function truncate(rng: Rng, bytes: Uint8Array, regions: Region[]): { bytes: Uint8Array; description: string } {
  const r = pickRegion(rng, regions, false);
  const points = [rng.int(bytes.length), Math.floor(bytes.length / 2), 512, 1536, 2048, 4096, bytes.length - 512, bytes.length - 1];
  if (r) points.push(r.offset, r.offset + Math.floor(r.length / 2), r.offset + r.length);
  const cut = Math.max(0, Math.min(bytes.length - 1, rng.pick(points)));
  return { bytes: bytes.subarray(0, cut), description: `truncate to ${cut} bytes${r ? ` (near ${where(r)})` : ''}` };
}

export function makeVariant(bases: BaseImage[], seed: number, index: number): Variant {
  const rng = new Rng(variantSeed(seed, index));
  const b = bases[index % bases.length]!;
  let bytes: Uint8Array = b.bytes.slice();
  const kind = rng.weighted<Variant['kind']>([
    [30, 'flip'],
    [30, 'field'],
    [10, 'truncate'],
    [22, 'structural'],
    [8, 'multi'],
  ]);
  const parts: string[] = [];
  let mustFail = false;
  let reseal = false;
  const one = (k: 'flip' | 'field'): void => {
    const d = k === 'flip' ? flip(rng, bytes, b.regions) : setField(rng, bytes, b.regions);
    if (d) parts.push(d);
  };
  if (kind === 'flip' || kind === 'field') {
    one(kind);
    reseal = rng.chance(0.5);
  } else if (kind === 'multi') {
    const n = 2 + rng.int(3);
    for (let i = 0; i < n; i++) one(rng.chance(0.5) ? 'flip' : 'field');
    reseal = rng.chance(0.5);
  } else if (kind === 'structural' && b.structural.length > 0) {
    const s = rng.pick(b.structural);
    s.apply(bytes);
    parts.push(s.name);
    mustFail = s.mustFail;
    reseal = true;
    if (rng.chance(0.2)) one(rng.chance(0.5) ? 'flip' : 'field');
  }
  if (reseal && b.reseal) {
    b.reseal(bytes);
    parts.push('checksums re-sealed');
  }
  if (kind === 'truncate') {
    const t = truncate(rng, bytes, b.regions);
    bytes = t.bytes;
    parts.push(t.description);
  }
  return { index, base: b, kind, description: parts.join('; ') || 'unchanged', bytes, mustFail };
}
