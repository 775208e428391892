import { KilnError } from '../../errors.js';
import { hasRawBytes, printableName } from '../name-bytes.js';
import { CASE_LOWER_BASE, CASE_LOWER_EXT, DIRENT_SIZE, KANJI_E5, LFN_CHARS, LFN_LAST, LfnEntry, ATTR_LFN } from './dirent.js';

/**
 * File names on FAT: the 8.3 short name every entry has, and the VFAT long name (UTF-16, up
 * to 255 units) stored before it when the short name cannot say the name exactly.
 */

export const MAX_LONG_NAME = 255;
const FORBIDDEN_LONG = new Set(['"', '*', '/', ':', '<', '>', '?', '\\', '|']);
/** Characters a short name may hold besides A–Z and 0–9 (we never emit codepage bytes). */
const SHORT_SPECIAL = new Set(['!', '#', '$', '%', '&', "'", '(', ')', '-', '@', '^', '_', '`', '{', '}', '~']);

/** Refuses a name FAT cannot store; `where` is the full path, for the message. */
export function checkLongName(name: string, where: string): void {
  const bad = (why: string, hint: string): never => {
    throw new KilnError('fat-bad-name', `'${printableName(where)}': ${why}`, hint);
  };
  if (name === '.' || name === '..') bad('the names . and .. are reserved', 'rename the file');
  if (hasRawBytes(name)) {
    bad(
      `the name holds bytes that are not UTF-8 text (${printableName(name)}); FAT stores names as Unicode and cannot keep them`,
      'rename the file to UTF-8, or use ext4 or tar, which keep names as bytes',
    );
  }
  let units = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    units++;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = name.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) bad('the name holds an unpaired UTF-16 surrogate', 'rename the file');
      i++;
      units++;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) bad('the name holds an unpaired UTF-16 surrogate', 'rename the file');
    if (c < 0x20) bad(`the name holds control character 0x${c.toString(16).padStart(2, '0')}, which FAT cannot store`, 'rename the file');
    if (FORBIDDEN_LONG.has(name[i]!)) bad(`the name holds '${name[i]}', which FAT cannot store (forbidden: " * / : < > ? \\ |)`, 'rename the file');
  }
  if (units > MAX_LONG_NAME) bad(`the name is ${units} UTF-16 units long; FAT allows ${MAX_LONG_NAME}`, 'shorten the name');
  if (name.endsWith('.') || name.endsWith(' ')) bad('the name ends with a dot or a space, which FAT drops', 'rename the file');
}

/** The key under which FAT considers two names equal (case-insensitive, per character). */
export function caseFoldKey(name: string): string {
  if (/^[\x20-\x7e]*$/.test(name)) return name.toUpperCase();
  let out = '';
  for (const ch of name) {
    const up = ch.toUpperCase();
    out += [...up].length === 1 ? up : ch;
  }
  return out;
}

export interface ShortName {
  /** 11 bytes: base padded to 8, extension padded to 3, with spaces. */
  bytes: Uint8Array;
  /** NT case bits (0x08/0x10) when the short name alone says the name. */
  ntCase: number;
  /** Whether a long-name entry must precede it. */
  needsLfn: boolean;
}

const isUpper = (c: string): boolean => c >= 'A' && c <= 'Z';
const isLower = (c: string): boolean => c >= 'a' && c <= 'z';
const isShortChar = (c: string): boolean => isUpper(c) || isLower(c) || (c >= '0' && c <= '9') || SHORT_SPECIAL.has(c);

function pack(base: string, ext: string): string {
  return base.padEnd(8, ' ') + ext.padEnd(3, ' ');
}

/**
 * The short name when `name` already is an 8.3 name whose base and extension are each in one
 * case: then no long entry is needed (lower case is kept by the NT case bits).
 */
export function exactShortName(name: string): { packed: string; ntCase: number } | undefined {
  const dot = name.indexOf('.');
  if (dot !== name.lastIndexOf('.')) return undefined;
  const base = dot < 0 ? name : name.slice(0, dot);
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (base.length === 0 || base.length > 8 || ext.length > 3 || (dot >= 0 && ext.length === 0)) return undefined;
  if (![...base, ...ext].every(isShortChar)) return undefined;
  const caseOf = (s: string): number | undefined => {
    const lower = [...s].some(isLower);
    const upper = [...s].some(isUpper);
    return lower && upper ? undefined : lower ? 1 : 0;
  };
  const cb = caseOf(base);
  const ce = caseOf(ext);
  if (cb === undefined || ce === undefined) return undefined;
  return { packed: pack(base.toUpperCase(), ext.toUpperCase()), ntCase: (cb ? CASE_LOWER_BASE : 0) | (ce ? CASE_LOWER_EXT : 0) };
}

/**
 * Assigns short names to the entries of one directory, deterministically: names that are
 * already 8.3 keep theirs; the others get the Windows-style basis name (upper case, invalid
 * characters as '_', spaces and extra dots dropped) and, when that loses anything or is taken,
 * a numeric tail ~N.
 */
export class ShortNameAllocator {
  private readonly taken = new Set<string>();
  private readonly nextTail = new Map<string, number>();

  /** Reserves the exact 8.3 names first so that no generated alias can take them. */
  reserve(packed: string): void {
    this.taken.add(packed);
  }

  isTaken(packed: string): boolean {
    return this.taken.has(packed);
  }

  alias(name: string): string {
    let lossy = false;
    const convert = (s: string): string => {
      let out = '';
      for (const ch of s) {
        if (ch === ' ' || ch === '.') {
          lossy = true;
          continue;
        }
        if (isShortChar(ch)) out += ch.toUpperCase();
        else {
          out += '_';
          lossy = true;
        }
      }
      return out;
    };
    const stripped = name.replace(/^[. ]+/, '');
    if (stripped.length !== name.length) lossy = true;
    const dot = stripped.lastIndexOf('.');
    let base = convert(dot < 0 ? stripped : stripped.slice(0, dot));
    let ext = dot < 0 ? '' : convert(stripped.slice(dot + 1));
    if (base.length > 8) {
      base = base.slice(0, 8);
      lossy = true;
    }
    if (ext.length > 3) {
      ext = ext.slice(0, 3);
      lossy = true;
    }
    if (base === '') base = '_';
    if (!lossy && !this.taken.has(pack(base, ext))) {
      const packed = pack(base, ext);
      this.taken.add(packed);
      return packed;
    }
    const key = `${base}.${ext}`;
    for (let n = this.nextTail.get(key) ?? 1; n < 10_000_000; n++) {
      const tail = `~${n}`;
      const packed = pack(base.slice(0, 8 - tail.length) + tail, ext);
      if (!this.taken.has(packed)) {
        this.taken.add(packed);
        this.nextTail.set(key, n + 1);
        return packed;
      }
    }
    throw new KilnError('fat-alias', `no free 8.3 alias for '${name}'`, 'use fewer similar names in one directory');
  }
}

export function packedToBytes(packed: string): Uint8Array {
  const out = new Uint8Array(11);
  for (let i = 0; i < 11; i++) out[i] = packed.charCodeAt(i);
  if (out[0] === 0xe5) out[0] = KANJI_E5;
  return out;
}

/** The checksum of a short name that each of its long-name entries carries. */
export function lfnChecksum(short: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}

/** Where the 13 UTF-16 units of a long-name entry live: (field offset, units) per piece. */
const LFN_PIECES: readonly (readonly [number, number])[] = [
  [LfnEntry.offsetOf('name1'), 5],
  [LfnEntry.offsetOf('name2'), 6],
  [LfnEntry.offsetOf('name3'), 2],
];

/** The long-name entries for `name`, in on-disk order (last piece first). */
export function encodeLfnEntries(name: string, checksum: number): Uint8Array {
  const count = Math.ceil(name.length / LFN_CHARS);
  const out = new Uint8Array(count * DIRENT_SIZE);
  for (let seq = count; seq >= 1; seq--) {
    const base = (count - seq) * DIRENT_SIZE;
    LfnEntry.encode({ order: seq | (seq === count ? LFN_LAST : 0), attributes: ATTR_LFN, type: 0, checksum, clusterLow: 0 }, out, base);
    // Name units: the name, one NUL terminator if there is room, then 0xFFFF padding.
    let i = (seq - 1) * LFN_CHARS;
    for (const [offset, n] of LFN_PIECES) {
      for (let k = 0; k < n; k++, i++) {
        const unit = i < name.length ? name.charCodeAt(i) : i === name.length ? 0 : 0xffff;
        out[base + offset + 2 * k] = unit & 0xff;
        out[base + offset + 2 * k + 1] = unit >> 8;
      }
    }
  }
  return out;
}

/** The 13 UTF-16 units of one long-name entry (terminator and padding included). */
export function lfnEntryUnits(entry: Uint8Array, base = 0): number[] {
  const units: number[] = [];
  for (const [off, n] of LFN_PIECES) {
    for (let i = 0; i < n; i++) units.push(entry[base + off + i * 2]! | (entry[base + off + i * 2 + 1]! << 8));
  }
  return units;
}

/** The name a short entry says, applying the NT case bits. */
export function decodeShortName(bytes: Uint8Array, ntCase: number): string {
  const chars = [...bytes.subarray(0, 11)];
  if (chars[0] === KANJI_E5) chars[0] = 0xe5;
  const text = (a: number[]): string => String.fromCharCode(...a).replace(/ +$/, '');
  let base = text(chars.slice(0, 8));
  let ext = text(chars.slice(8, 11));
  if (ntCase & CASE_LOWER_BASE) base = base.toLowerCase();
  if (ntCase & CASE_LOWER_EXT) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}
