/**
 * On-disk structures as field tables. Each format describes a structure once — name, offset,
 * type — and encodes/decodes through it, instead of scattering `writeUInt32LE(x, 0x3c)` calls.
 *
 * Numeric types are little-endian unless suffixed `be`. `u64` uses number (safe to 2^53).
 * `bytes` and `string` fields take a `size`; strings are NUL-padded (ASCII/UTF-8) or, with
 * `pad`, padded with that byte (FAT names use spaces).
 */
export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 'u16be' | 'u32be' | 'u64be' | 'bytes' | 'string';

export interface Field {
  name: string;
  offset: number;
  type: FieldType;
  /** Bytes, for `bytes` and `string`. */
  size?: number;
  /** Pad byte for `string` (default 0). */
  pad?: number;
}

export type FieldValue = number | Uint8Array | string;
export type Values<F extends readonly Field[]> = {
  [K in F[number] as K['name']]: K['type'] extends 'bytes' ? Uint8Array : K['type'] extends 'string' ? string : number;
};

const WIDTH: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, u16be: 2, u32be: 4, u64be: 8, bytes: 0, string: 0 };

export function fieldWidth(f: Field): number {
  return f.size ?? WIDTH[f.type];
}

export class Struct<F extends readonly Field[]> {
  readonly size: number;
  private readonly byName: Map<string, Field>;

  constructor(
    readonly name: string,
    size: number,
    readonly fields: F,
  ) {
    this.size = size;
    this.byName = new Map(fields.map((f) => [f.name, f]));
    for (const f of fields) {
      if (f.offset + fieldWidth(f) > size) throw new Error(`${name}.${f.name} overruns the ${size}-byte structure`);
    }
  }

  field(name: string): Field {
    const f = this.byName.get(name);
    if (!f) throw new Error(`${this.name} has no field ${name}`);
    return f;
  }

  offsetOf(name: F[number]['name']): number {
    return this.field(name).offset;
  }

  /** Writes the given fields into `buf` at `base`; fields not given are left as they are. */
  encode(values: Partial<Values<F>>, buf: Uint8Array = new Uint8Array(this.size), base = 0): Uint8Array {
    // (byte stores past the end would be dropped silently, where a DataView threw)
    if (base < 0 || base + this.size > buf.length) throw new RangeError(`${this.name} at ${base} overruns a ${buf.length}-byte buffer`);
    const given = values as Record<string, FieldValue | undefined>;
    // for…in rather than Object.entries: writers encode a structure per inode or entry, and the pairs array was most of the cost
    for (const name in given) {
      const value = given[name];
      if (value === undefined) continue;
      writeField(buf, base, this.field(name), value);
    }
    return buf;
  }

  decode(buf: Uint8Array, base = 0): Values<F> {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: Record<string, FieldValue> = {};
    for (const f of this.fields) out[f.name] = readField(view, buf, base, f);
    return out as Values<F>;
  }

  get(buf: Uint8Array, name: F[number]['name'], base = 0): FieldValue {
    return readField(new DataView(buf.buffer, buf.byteOffset, buf.byteLength), buf, base, this.field(name));
  }
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/**
 * Stores the low `bytes` bytes (2 or 4) of `v` at `at`, least significant first, or most
 * significant first when `bigEndian`. Byte stores rather than a DataView: writers encode a
 * structure per inode or entry, alternating between buffers (an inode's i_block, its table), and
 * the view made at each change of buffer was the larger part of the cost.
 */
function putUint(buf: Uint8Array, at: number, bytes: 2 | 4, v: number, bigEndian: boolean): void {
  for (let i = 0; i < bytes; i++, v >>>= 8) buf[bigEndian ? at + bytes - 1 - i : at + i] = v;
}

function writeField(buf: Uint8Array, base: number, f: Field, value: FieldValue): void {
  const at = base + f.offset;
  switch (f.type) {
    case 'u8':
      buf[at] = value as number;
      return;
    case 'u16':
      putUint(buf, at, 2, value as number, false);
      return;
    case 'u32':
      putUint(buf, at, 4, value as number, false);
      return;
    case 'u64':
      // above 32 bits JS shifts do not reach: the high word by division
      putUint(buf, at, 4, value as number, false);
      putUint(buf, at + 4, 4, Math.floor((value as number) / 2 ** 32), false);
      return;
    case 'u16be':
      putUint(buf, at, 2, value as number, true);
      return;
    case 'u32be':
      putUint(buf, at, 4, value as number, true);
      return;
    case 'u64be':
      putUint(buf, at + 4, 4, value as number, true);
      putUint(buf, at, 4, Math.floor((value as number) / 2 ** 32), true);
      return;
    case 'bytes': {
      const bytes = value as Uint8Array;
      if (bytes.length > f.size!) throw new RangeError(`field ${f.name}: ${bytes.length} bytes do not fit in ${f.size}`);
      buf.fill(0, at, at + f.size!);
      buf.set(bytes, at);
      return;
    }
    case 'string': {
      const bytes = utf8.encode(value as string);
      if (bytes.length > f.size!) throw new RangeError(`field ${f.name}: '${value as string}' is longer than ${f.size} bytes`);
      buf.fill(f.pad ?? 0, at, at + f.size!);
      buf.set(bytes, at);
      return;
    }
  }
}

function readField(view: DataView, buf: Uint8Array, base: number, f: Field): FieldValue {
  const at = base + f.offset;
  switch (f.type) {
    case 'u8':
      return view.getUint8(at);
    case 'u16':
      return view.getUint16(at, true);
    case 'u32':
      return view.getUint32(at, true);
    case 'u64':
      return Number(view.getBigUint64(at, true));
    case 'u16be':
      return view.getUint16(at, false);
    case 'u32be':
      return view.getUint32(at, false);
    case 'u64be':
      return Number(view.getBigUint64(at, false));
    case 'bytes':
      return buf.slice(at, at + f.size!);
    case 'string': {
      let end = at + f.size!;
      const pad = f.pad ?? 0;
      if (pad === 0) {
        const nul = buf.subarray(at, end).indexOf(0);
        if (nul >= 0) end = at + nul;
      } else while (end > at && (buf[end - 1] === pad || buf[end - 1] === 0)) end--;
      return utf8d.decode(buf.subarray(at, end));
    }
  }
}
