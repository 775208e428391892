import { KilnError } from '../../errors.js';
import type { NodeType, Timestamp } from '../tree.js';
import { bytesToName, nameToBytes } from '../name-bytes.js';
import { TAR_BLOCK, TAR_HEADER, TarType, cName, cString, headerChecksum, parseNumeric } from './header.js';

/** One member of a tar archive, with pax and GNU extensions applied. */
export interface TarEntry {
  path: string;
  type: NodeType | 'hardlink';
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: Timestamp;
  atime?: Timestamp;
  ctime?: Timestamp;
  size: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Uint8Array>;
  /** Where the member's data starts in the uncompressed archive. */
  dataOffset: number;
}

/** Reads exact byte counts from an async stream of chunks. */
class ChunkReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Bytes consumed so far. */
  offset = 0;
  private readonly it: AsyncIterator<Uint8Array>;
  private ended = false;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }
  private async fill(): Promise<boolean> {
    while (this.pos >= this.buf.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.buf = r.value;
      this.pos = 0;
    }
    return true;
  }
  /** Exactly n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n && (await this.fill())) {
      const take = Math.min(n - done, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + take), done);
      this.pos += take;
      done += take;
    }
    this.offset += done;
    return done === n ? out : out.subarray(0, done);
  }
  /** Streams the next n bytes as chunks (views that are valid until the next call). */
  async *stream(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw new KilnError('tar-truncated', `tar archive ends inside a member (${left} bytes missing)`);
      const take = Math.min(left, this.buf.length - this.pos);
      const chunk = this.buf.subarray(this.pos, this.pos + take);
      this.pos += take;
      this.offset += take;
      left -= take;
      yield chunk;
    }
  }
  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) void _;
  }
}

function parseTime(text: string): Timestamp {
  const m = /^(-?)(\d+)(?:\.(\d{1,9})\d*)?$/.exec(text.trim());
  if (!m) return { sec: 0, nsec: 0 };
  const sec = Number(m[2]) * (m[1] ? -1 : 1);
  const nsec = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
  // "-1.5" means 1.5 s before the epoch: floor the seconds and keep nsec positive
  return m[1] && nsec ? { sec: sec - 1, nsec: 1_000_000_000 - nsec } : { sec, nsec };
}

/**
 * Parses pax records "len key=value\n"; values are bytes (xattrs may be binary, and GNU tar
 * writes names that are not UTF-8 as raw bytes under hdrcharset=BINARY). Keys (which carry
 * xattr names) go through the name codec.
 */
function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let pos = 0;
  const dec = new TextDecoder();
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(dec.decode(data.subarray(pos, space)), 10);
    if (!(len > 0)) break;
    const record = data.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) out.set(bytesToName(record.subarray(0, eq)), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

/** libarchive's %XX-escaped xattr names, as bytes (decodeURIComponent would throw on non-UTF-8). */
function percentDecodeName(s: string): string {
  const raw = nameToBytes(s);
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const hex = raw[i] === 0x25 && i + 2 < raw.length ? String.fromCharCode(raw[i + 1]!, raw[i + 2]!) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(raw[i]!);
  }
  return bytesToName(Uint8Array.from(out));
}

const TYPES: Record<number, TarEntry['type']> = {
  [TarType.file]: 'file',
  0: 'file',
  [TarType.contiguous]: 'file',
  [TarType.hardlink]: 'hardlink',
  [TarType.symlink]: 'symlink',
  [TarType.char]: 'char',
  [TarType.block]: 'block',
  [TarType.dir]: 'dir',
  [TarType.fifo]: 'fifo',
};

/**
 * Parses a tar stream (already decompressed). For each member, `onEntry` gets the header and
 * its data as chunks; what it does not consume is skipped.
 */
export async function parseTar(
  source: AsyncIterable<Uint8Array>,
  onEntry: (entry: TarEntry, data: AsyncIterable<Uint8Array>) => Promise<void> | void,
  what = 'tar archive',
): Promise<void> {
  const r = new ChunkReader(source);
  const dec = new TextDecoder();
  let globalPax = new Map<string, Uint8Array>();
  let localPax = new Map<string, Uint8Array>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const headerAt = r.offset;
    const block = await r.read(TAR_BLOCK);
    if (block.length === 0) return; // tolerate archives without the two zero blocks
    if (block.length < TAR_BLOCK) throw new KilnError('tar-truncated', `${what}: truncated header at byte ${headerAt}`);
    if (block.every((b) => b === 0)) return;
    const h = TAR_HEADER.decode(block);
    const sum = parseNumeric(h.chksum);
    if (sum !== headerChecksum(block)) {
      throw new KilnError(
        'tar-corrupt',
        `${what}: bad header checksum at byte ${headerAt}`,
        'is this a tar archive, and is it compressed with a format kiln knows (gzip, bzip2, xz)?',
      );
    }
    const flag = h.typeflag;
    let size = parseNumeric(h.size);
    const padded = Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    if (flag === TarType.paxLocal || flag === TarType.paxGlobal || flag === TarType.gnuLongName || flag === TarType.gnuLongLink) {
      const data = await r.read(padded);
      const body = data.subarray(0, size);
      if (flag === TarType.paxLocal) localPax = new Map([...localPax, ...parsePax(body)]);
      else if (flag === TarType.paxGlobal) globalPax = new Map([...globalPax, ...parsePax(body)]);
      else if (flag === TarType.gnuLongName) longName = cName(body);
      else longLink = cName(body);
      continue;
    }
    const pax = new Map([...globalPax, ...localPax]);
    const paxStr = (k: string): string | undefined => {
      const v = pax.get(k);
      return v ? dec.decode(v) : undefined;
    };
    const ustar = cString(h.magic).startsWith('ustar');
    // Names are bytes (any encoding, or none); pax path/linkpath are UTF-8, or raw bytes with
    // hdrcharset=BINARY: the name codec keeps either exactly.
    const paxName = (k: string): string | undefined => {
      const v = pax.get(k);
      return v ? bytesToName(v) : undefined;
    };
    const prefix = ustar ? cName(h.prefix) : '';
    let path = paxName('path') ?? longName ?? (prefix ? `${prefix}/${cName(h.name)}` : cName(h.name));
    const linkname = paxName('linkpath') ?? longLink ?? cName(h.linkname);
    if (paxStr('size') !== undefined) size = Number(paxStr('size'));
    const type = TYPES[flag] ?? (flag >= 0x41 && flag <= 0x5a ? undefined : 'file');
    const xattrs = new Map<string, Uint8Array>();
    for (const [k, v] of pax) {
      // GNU tar escapes '=' and '%' in xattr names as %3D and %25
      if (k.startsWith('SCHILY.xattr.'))
        xattrs.set(
          k.slice('SCHILY.xattr.'.length).replace(/%(3D|25)/gi, (m) => (m.toUpperCase() === '%3D' ? '=' : '%')),
          v,
        );
      else if (k.startsWith('LIBARCHIVE.xattr.')) {
        xattrs.set(percentDecodeName(k.slice('LIBARCHIVE.xattr.'.length)), Uint8Array.from(Buffer.from(dec.decode(v), 'base64')));
      }
    }
    const mtime = paxStr('mtime') !== undefined ? parseTime(paxStr('mtime')!) : { sec: parseNumeric(h.mtime), nsec: 0 };
    const entry: TarEntry = {
      path,
      type: type ?? 'file',
      mode: parseNumeric(h.mode) & 0o7777,
      uid: paxStr('uid') !== undefined ? Number(paxStr('uid')) : parseNumeric(h.uid),
      gid: paxStr('gid') !== undefined ? Number(paxStr('gid')) : parseNumeric(h.gid),
      uname: paxStr('uname') ?? cString(h.uname),
      gname: paxStr('gname') ?? cString(h.gname),
      mtime,
      size: type === 'file' || type === undefined ? size : 0,
      linkname,
      devmajor: parseNumeric(h.devmajor),
      devminor: parseNumeric(h.devminor),
      xattrs,
      dataOffset: r.offset,
    };
    if (paxStr('atime') !== undefined) entry.atime = parseTime(paxStr('atime')!);
    if (paxStr('ctime') !== undefined) entry.ctime = parseTime(paxStr('ctime')!);
    localPax = new Map();
    longName = undefined;
    longLink = undefined;
    path = entry.path;
    if (type === undefined) {
      // unknown vendor extension (e.g. GNU 'V' volume header): skip its data
      await r.skip(Math.ceil(size / TAR_BLOCK) * TAR_BLOCK);
      continue;
    }
    const dataSize = entry.size;
    const startOffset = r.offset;
    const body = r.stream(dataSize);
    await onEntry(entry, body);
    const consumed = r.offset - startOffset;
    if (consumed < dataSize) await r.skip(dataSize - consumed);
    await r.skip(Math.ceil(dataSize / TAR_BLOCK) * TAR_BLOCK - dataSize);
  }
}
