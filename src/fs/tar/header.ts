import { bytesToName } from '../name-bytes.js';
import { Struct } from '../struct.js';

/**
 * The 512-byte ustar header (POSIX.1-1988 with the GNU and pax extensions kiln reads).
 * Numeric fields are octal ASCII, or base-256 (high bit of the first byte set) for large values.
 */
export const TAR_HEADER = new Struct('tar header', 512, [
  { name: 'name', offset: 0, type: 'bytes', size: 100 },
  { name: 'mode', offset: 100, type: 'bytes', size: 8 },
  { name: 'uid', offset: 108, type: 'bytes', size: 8 },
  { name: 'gid', offset: 116, type: 'bytes', size: 8 },
  { name: 'size', offset: 124, type: 'bytes', size: 12 },
  { name: 'mtime', offset: 136, type: 'bytes', size: 12 },
  { name: 'chksum', offset: 148, type: 'bytes', size: 8 },
  { name: 'typeflag', offset: 156, type: 'u8' },
  { name: 'linkname', offset: 157, type: 'bytes', size: 100 },
  { name: 'magic', offset: 257, type: 'bytes', size: 6 },
  { name: 'version', offset: 263, type: 'bytes', size: 2 },
  { name: 'uname', offset: 265, type: 'bytes', size: 32 },
  { name: 'gname', offset: 297, type: 'bytes', size: 32 },
  { name: 'devmajor', offset: 329, type: 'bytes', size: 8 },
  { name: 'devminor', offset: 337, type: 'bytes', size: 8 },
  { name: 'prefix', offset: 345, type: 'bytes', size: 155 },
] as const);

export const TAR_BLOCK = 512;

/** Type flags (byte 156). */
export const TarType = {
  file: 0x30, // '0' (also NUL in old archives)
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
  contiguous: 0x37,
  paxLocal: 0x78, // 'x'
  paxGlobal: 0x67, // 'g'
  gnuLongName: 0x4c, // 'L'
  gnuLongLink: 0x4b, // 'K'
} as const;

const latin = new TextDecoder('utf-8');

/** The bytes of a NUL-terminated field (all of it if it has no NUL). */
export function cBytes(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul >= 0 ? bytes.subarray(0, nul) : bytes;
}

/** A NUL-terminated text field (numbers, magic, user names). */
export function cString(bytes: Uint8Array): string {
  return latin.decode(cBytes(bytes));
}

/** A NUL-terminated name field (names, link targets): bytes, kept losslessly (name-bytes.ts). */
export function cName(bytes: Uint8Array): string {
  return bytesToName(cBytes(bytes));
}

/** Parses an octal or base-256 numeric field. */
export function parseNumeric(bytes: Uint8Array): number {
  if (bytes[0]! & 0x80) {
    // base-256, two's complement; the first byte's high bit is the marker
    const negative = (bytes[0]! & 0x40) !== 0;
    let v = BigInt(bytes[0]! & 0x7f) - (negative ? 0x80n : 0n);
    for (let i = 1; i < bytes.length; i++) v = (v << 8n) | BigInt(bytes[i]!);
    return Number(v);
  }
  const s = cString(bytes).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** Encodes a numeric field as octal, or base-256 where octal does not fit. */
export function formatNumeric(value: number, width: number): Uint8Array {
  const out = new Uint8Array(width);
  const octal = Math.trunc(value).toString(8);
  if (value >= 0 && octal.length <= width - 1) {
    out.set(new TextEncoder().encode(octal.padStart(width - 1, '0')));
    return out;
  }
  let v = BigInt(Math.trunc(value));
  for (let i = width - 1; i >= 1; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  out[0] = 0x80 | (value < 0 ? 0x40 | Number(v & 0x3fn) : Number(v & 0x7fn));
  return out;
}

export function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}
