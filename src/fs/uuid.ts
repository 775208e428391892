import { KilnError } from '../errors.js';
import { sha256 } from './checksum/sha256.js';

/**
 * UUIDs as text and bytes in RFC 4122 order (ext4, swap: the bytes in the order the text shows
 * them), and UUIDs and numbers derived from a seed. GPT's mixed-endian order is
 * partition/guid.ts.
 */

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(text: string): boolean {
  return UUID_RE.test(text);
}

/** Text → 16 bytes in RFC 4122 (big-endian) order. */
export function parseUuid(text: string, what = 'UUID'): Uint8Array {
  if (!UUID_RE.test(text)) {
    throw new KilnError('bad-uuid', `invalid ${what} '${text}'`, 'write it as 8-4-4-4-12 hexadecimal digits, e.g. 0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b');
  }
  const hex = text.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function formatUuid(bytes: Uint8Array): string {
  const h = [...bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A version-4-shaped UUID derived from a seed string: deterministic stand-in for a random one,
 * so the same input always gives the same image.
 */
export function derivedUuid(seed: string): string {
  const b = sha256(seed).slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return formatUuid(b);
}

/** A 32-bit number derived from a seed (MBR disk signatures). */
export function derivedU32(seed: string): number {
  const h = sha256(seed);
  return new DataView(h.buffer, h.byteOffset, 4).getUint32(0, true) || 1;
}
