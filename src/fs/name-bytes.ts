/**
 * File names and symlink targets are bytes on Linux; FileTree keeps them as JS strings that
 * encode those bytes losslessly (PEP 383's "surrogateescape"):
 *
 * - every valid UTF-8 sequence decodes to its character, as usual;
 * - every byte of an invalid sequence (0x80–0xFF) becomes the lone surrogate U+DC00 + byte
 *   (U+DC80 … U+DCFF), which no valid UTF-8 ever decodes to.
 *
 * `nameToBytes(bytesToName(b))` is `b` for every byte string. Strings made in code without lone
 * surrogates encode as plain UTF-8. Other lone surrogates (which no bytes decode to) encode as
 * U+FFFD, as TextEncoder does. `canonicalName` maps a string to the one string its bytes decode to,
 * so that two spellings of the same bytes are one name in a tree.
 *
 * No Node built-ins: this module is part of the browser-safe writers.
 */

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Any UTF-16 surrogate code unit (paired or not). */
const SURROGATE = /[\uD800-\uDFFF]/;

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** Decodes name bytes: valid UTF-8 as characters, each other byte as U+DC00+byte. */
export function bytesToName(bytes: Uint8Array): string {
  if (bytes.length < 64 && isAscii(bytes)) return String.fromCharCode(...bytes);
  try {
    return strict.decode(bytes);
  } catch {
    return decodeEscaped(bytes);
  }
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 (WHATWG/Unicode rules: no overlongs, surrogates, or > U+10FFFF). */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function decodeEscaped(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const n = sequenceLength(b, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + b[i]!);
      i++;
    } else if (n === 1) {
      out += String.fromCharCode(b[i]!);
      i++;
    } else {
      out += strict.decode(b.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

/** Whether the name holds escaped raw bytes (is not plain Unicode text). */
export function hasRawBytes(name: string): boolean {
  if (!SURROGATE.test(name)) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = name.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    } else if (c >= 0xdc80 && c <= 0xdcff) return true;
  }
  return false;
}

/** The bytes a name stands for (the inverse of `bytesToName`). */
export function nameToBytes(name: string): Uint8Array {
  if (!SURROGATE.test(name)) return encoder.encode(name);
  const out: number[] = [];
  let run = 0; // start of the pending run of ordinary text
  const flush = (end: number): void => {
    if (end > run) for (const x of encoder.encode(name.slice(run, end))) out.push(x);
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = name.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++; // a pair: ordinary text
      continue;
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      flush(i);
      out.push(c - 0xdc00);
      run = i + 1;
    }
  }
  flush(name.length);
  return Uint8Array.from(out);
}

/**
 * Puts the UTF-8 of `text` at `at` (room for 3 bytes per UTF-16 unit assumed); returns its length.
 * ASCII, the common case, byte by byte: an encoder call per short string costs more than the copy.
 */
export function putUtf8(text: string, into: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return encoder.encodeInto(text, into.subarray(at)).written;
    into[at + i] = c;
  }
  return text.length;
}

/** Puts the bytes of a name at `at` (room for 3 bytes per UTF-16 unit assumed), as `nameToBytes` gives them; returns their length. */
export function putNameBytes(name: string, into: Uint8Array, at: number): number {
  if (!hasRawBytes(name)) return putUtf8(name, into, at);
  const bytes = nameToBytes(name);
  into.set(bytes, at);
  return bytes.length;
}

/** The one string the name's bytes decode to (identity for names that came from bytes). */
export function canonicalName(name: string): string {
  return SURROGATE.test(name) ? bytesToName(nameToBytes(name)) : name;
}

/** Compares two names by their bytes: the order of every directory kiln writes. */
export function compareNameBytes(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 code unit order equals UTF-8 byte order below U+D800; only a difference at a
  // surrogate (a pair or an escaped byte) or above needs the bytes.
  const n0 = Math.min(a.length, b.length);
  let i = 0;
  while (i < n0 && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n0) {
    // a prefix in code units is a prefix in bytes, unless it ends in half of a pair
    const last = n0 > 0 ? a.charCodeAt(n0 - 1) : 0;
    if (!(last >= 0xd800 && last <= 0xdbff)) return a.length - b.length;
  }
  if (i < n0) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca < 0xd800 && cb < 0xd800) return ca - cb;
  }
  const ea = nameToBytes(a);
  const eb = nameToBytes(b);
  const n = Math.min(ea.length, eb.length);
  for (let k = 0; k < n; k++) if (ea[k] !== eb[k]) return ea[k]! - eb[k]!;
  return ea.length - eb.length;
}

/**
 * A name for messages and listings: text as it is, each raw byte as `\xNN`, and control
 * characters (which would garble a terminal) as `\xNN` too.
 */
export function printableName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (!SURROGATE.test(name) && !/[\x00-\x1f\x7f]/.test(name)) return name;
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = name.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += name[i]! + name[i + 1]!;
        i++;
        continue;
      }
      out += '\\u' + c.toString(16);
    } else if (c >= 0xdc80 && c <= 0xdcff) out += '\\x' + (c - 0xdc00).toString(16).padStart(2, '0');
    else if (c >= 0xdc00 && c <= 0xdfff) out += '\\u' + c.toString(16);
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += name[i]!;
  }
  return out;
}
