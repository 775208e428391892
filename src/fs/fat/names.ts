import { KilnError } from '../../errors.js';
import { hasRawBytes, printableName } from '../name-bytes.js';
import { CASE_LOWER_BASE, CASE_LOWER_EXT, DIRENT_SIZE, KANJI_E5, LFN_CHARS, LFN_LAST, LfnEntry, ATTR_LFN } from './dirent.js';

/**
 * File names on FAT: the 8.3 short name every entry has, and the VFAT long name (UTF-16, up
 * to 255 units) stored before it when the short name cannot say the name exactly.
 */

export const MAX_LONG_NAME = 255;

/** What each ASCII character may be, as bits (names are checked a character code at a time). */
const ASCII = new Uint8Array(128);
const FORBIDDEN_LONG = 1;
/** A–Z, a–z, 0–9 and the specials a short name may hold (we never emit codepage bytes). */
const SHORT_CHAR = 2;
const UPPER = 4;
const LOWER = 8;
for (const c of '"*/:<>?\\|') ASCII[c.charCodeAt(0)]! |= FORBIDDEN_LONG;
for (const c of "!#$%&'()-@^_`{}~0123456789") ASCII[c.charCodeAt(0)]! |= SHORT_CHAR;
for (let c = 0x41; c <= 0x5a; c++) {
  ASCII[c]! |= SHORT_CHAR | UPPER;
  ASCII[c + 0x20]! |= SHORT_CHAR | LOWER;
}

/** The bits of character code `c` (none outside ASCII). */
const kind = (c: number): number => (c < 0x80 ? ASCII[c]! : 0);

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
    if (c < 0x80 && (ASCII[c]! & FORBIDDEN_LONG) !== 0)
      bad(`the name holds '${name[i]}', which FAT cannot store (forbidden: " * / : < > ? \\ |)`, 'rename the file');
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
  const baseLength = dot < 0 ? name.length : dot;
  const extLength = dot < 0 ? 0 : name.length - dot - 1;
  if (baseLength === 0 || baseLength > 8 || extLength > 3 || (dot >= 0 && extLength === 0)) return undefined;
  // The case bits (UPPER, LOWER) seen in the base and in the extension.
  let baseCase = 0;
  let extCase = 0;
  for (let i = 0; i < name.length; i++) {
    if (i === dot) continue;
    const k = kind(name.charCodeAt(i));
    if ((k & SHORT_CHAR) === 0) return undefined;
    if (dot >= 0 && i > dot) extCase |= k;
    else baseCase |= k;
  }
  const mixed = UPPER | LOWER;
  if ((baseCase & mixed) === mixed || (extCase & mixed) === mixed) return undefined;
  const upper = name.toUpperCase();
  return {
    packed: pack(upper.slice(0, baseLength), dot < 0 ? '' : upper.slice(dot + 1)),
    ntCase: (baseCase & LOWER ? CASE_LOWER_BASE : 0) | (extCase & LOWER ? CASE_LOWER_EXT : 0),
  };
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
  /**
   * By alias family (the basis prefix a tail of one length leaves, and the extension): the
   * smallest tail number whose alias may be free, all before it being taken. Without it a
   * directory of hundreds of names alike in their first six characters (man pages, locales)
   * tries every taken alias again for each name: quadratic.
   */
  private readonly firstFree = new Map<string, number>();

  /** Reserves the exact 8.3 names first so that no generated alias can take them. */
  reserve(packed: string): void {
    this.taken.add(packed);
  }

  isTaken(packed: string): boolean {
    return this.taken.has(packed);
  }

  /** Set by basisPart when the part it made lost anything of the name. */
  private lost = false;

  /**
   * The characters of `name` from `from` to `to` as a part of the basis name, at most `max`:
   * spaces and dots are dropped, a short-name character is kept in upper case, any other
   * character (a surrogate pair is one) becomes '_'.
   */
  private basisPart(name: string, from: number, to: number, max: number): string {
    let out = '';
    for (let i = from; i < to; i++) {
      const c = name.charCodeAt(i);
      if (c === 0x20 || c === 0x2e) {
        this.lost = true;
        continue;
      }
      if (out.length === max) {
        this.lost = true;
        break;
      }
      const k = kind(c);
      if (k & SHORT_CHAR) out += String.fromCharCode(k & LOWER ? c - 0x20 : c);
      else {
        if (c >= 0xd800 && c <= 0xdbff && name.charCodeAt(i + 1) >= 0xdc00 && name.charCodeAt(i + 1) <= 0xdfff) i++;
        out += '_';
        this.lost = true;
      }
    }
    return out;
  }

  alias(name: string): string {
    // Leading spaces and dots are dropped; the last dot after them starts the extension.
    let start = 0;
    while (start < name.length && (name.charCodeAt(start) === 0x20 || name.charCodeAt(start) === 0x2e)) start++;
    this.lost = start > 0;
    const dot = name.lastIndexOf('.');
    const base = this.basisPart(name, start, dot >= start ? dot : name.length, 8) || '_';
    const ext = dot >= start ? this.basisPart(name, dot + 1, name.length, 3) : '';
    if (!this.lost) {
      const packed = pack(base, ext);
      if (!this.taken.has(packed)) {
        this.taken.add(packed);
        return packed;
      }
    }
    const key = `${base}.${ext}`;
    for (let n = this.nextTail.get(key) ?? 1; n < 10_000_000; n++) {
      const tail = `~${n}`;
      const prefix = base.slice(0, 8 - tail.length);
      // Names whose basis differs only after the prefix try the same aliases: skip those known taken.
      const family = `${prefix}~${tail.length}.${ext}`;
      const free = this.firstFree.get(family) ?? 10 ** (tail.length - 2);
      if (n < free) {
        n = free - 1;
        continue;
      }
      const packed = pack(prefix + tail, ext);
      if (n === free) this.firstFree.set(family, n + 1);
      if (!this.taken.has(packed)) {
        this.taken.add(packed);
        this.nextTail.set(key, n + 1);
        return packed;
      }
    }
    throw new KilnError('fat-alias', `no free 8.3 alias for '${name}'`, 'use fewer similar names in one directory');
  }
}

/** The 11 bytes of DIR_Name for a packed short name, into `out` (a new array by default). */
export function packedToBytes(packed: string, out: Uint8Array = new Uint8Array(11)): Uint8Array {
  for (let i = 0; i < 11; i++) out[i] = packed.charCodeAt(i);
  if (out[0] === 0xe5) out[0] = KANJI_E5;
  return out;
}

/** The packed short name of 11 DIR_Name bytes at `at` (packedToBytes undone; spelled out: spreading a subarray is slower). */
export function packedFromBytes(b: Uint8Array, at = 0): string {
  const first = b[at] === KANJI_E5 ? 0xe5 : b[at]!;
  return String.fromCharCode(first, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!, b[at + 5]!, b[at + 6]!, b[at + 7]!, b[at + 8]!, b[at + 9]!, b[at + 10]!);
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

/**
 * The long-name entries for `name`, in on-disk order (last piece first), written into `out` at
 * `at`; returns the offset after them.
 */
export function encodeLfnEntries(name: string, checksum: number, out: Uint8Array, at: number): number {
  const count = Math.ceil(name.length / LFN_CHARS);
  for (let seq = count; seq >= 1; seq--) {
    const base = at + (count - seq) * DIRENT_SIZE;
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
  return at + count * DIRENT_SIZE;
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
