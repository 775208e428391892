import { Struct } from '../struct.js';
import { bytesToName, nameToBytes } from '../name-bytes.js';

/**
 * The cpio "newc" header (magic 070701, as the kernel's initramfs unpacker and
 * gen_init_cpio use it): 110 ASCII bytes, every number 8 upper-case hex digits, then the
 * NUL-terminated name padded so that name and header end on a 4-byte boundary.
 */
export const NEWC_HEADER = new Struct('cpio newc header', 110, [
  { name: 'magic', offset: 0, type: 'string', size: 6 }, // "070701"
  { name: 'ino', offset: 6, type: 'string', size: 8 },
  { name: 'mode', offset: 14, type: 'string', size: 8 }, // type bits | permissions
  { name: 'uid', offset: 22, type: 'string', size: 8 },
  { name: 'gid', offset: 30, type: 'string', size: 8 },
  { name: 'nlink', offset: 38, type: 'string', size: 8 },
  { name: 'mtime', offset: 46, type: 'string', size: 8 },
  { name: 'filesize', offset: 54, type: 'string', size: 8 }, // 0 for all but the last of a hard-link set
  { name: 'devmajor', offset: 62, type: 'string', size: 8 }, // with ino: hard-link identity
  { name: 'devminor', offset: 70, type: 'string', size: 8 },
  { name: 'rdevmajor', offset: 78, type: 'string', size: 8 }, // device nodes
  { name: 'rdevminor', offset: 86, type: 'string', size: 8 },
  { name: 'namesize', offset: 94, type: 'string', size: 8 }, // including the NUL
  { name: 'check', offset: 102, type: 'string', size: 8 }, // 0 (only the "crc" variant uses it)
] as const);

/** The header fields as cpio-stream's packer passes them to its encoder. */
export interface NewcHeaderInput {
  name: string;
  ino?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  nlink?: number;
  mtime?: Date;
  size?: number;
  devmajor?: number;
  devminor?: number;
  rdevmajor?: number;
  rdevminor?: number;
}

export const NEWC_MAGIC = '070701';
export const NEWC_TRAILER = 'TRAILER!!!';

function hex(n: number | undefined): string {
  return (n ?? 0).toString(16).toUpperCase().padStart(8, '0');
}

/**
 * Encodes a header and its padded name. Used as cpio-stream's header encoder: its own newc
 * encoder counts name length in UTF-16 units, which breaks non-ASCII names.
 */
export function encodeNewcHeader(h: NewcHeaderInput): Uint8Array {
  // names are bytes (name-bytes.ts)
  const name = nameToBytes(h.name.endsWith('\0') ? h.name : `${h.name}\0`);
  const total = Math.ceil((NEWC_HEADER.size + name.length) / 4) * 4;
  const out = new Uint8Array(total);
  NEWC_HEADER.encode(
    {
      magic: NEWC_MAGIC,
      ino: hex(h.ino),
      mode: hex(h.mode),
      uid: hex(h.uid),
      gid: hex(h.gid),
      nlink: hex(h.nlink),
      mtime: hex(h.mtime ? Math.floor(h.mtime.getTime() / 1000) : 0),
      filesize: hex(h.size),
      devmajor: hex(h.devmajor),
      devminor: hex(h.devminor),
      rdevmajor: hex(h.rdevmajor),
      rdevminor: hex(h.rdevminor),
      namesize: hex(name.length),
      check: hex(0),
    },
    out,
  );
  out.set(name, NEWC_HEADER.size);
  return out;
}

export interface NewcEntry {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  size: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  /** Offset of the data in the archive. */
  dataOffset: number;
}

/** Lists an uncompressed newc archive (tests, `kiln image ls` of an initramfs). */
export function parseNewc(archive: Uint8Array): NewcEntry[] {
  const out: NewcEntry[] = [];
  let pos = 0;
  for (;;) {
    if (pos + NEWC_HEADER.size > archive.length) throw new Error(`cpio: truncated header at ${pos}`);
    const v = NEWC_HEADER.decode(archive, pos);
    if (v.magic !== NEWC_MAGIC) throw new Error(`cpio: bad magic '${v.magic}' at ${pos}`);
    const n = (s: string): number => parseInt(s, 16);
    const namesize = n(v.namesize);
    const name = bytesToName(archive.subarray(pos + NEWC_HEADER.size, pos + NEWC_HEADER.size + namesize - 1));
    const dataOffset = Math.ceil((pos + NEWC_HEADER.size + namesize) / 4) * 4;
    const size = n(v.filesize);
    if (name === NEWC_TRAILER) return out;
    out.push({
      name,
      ino: n(v.ino),
      mode: n(v.mode),
      uid: n(v.uid),
      gid: n(v.gid),
      nlink: n(v.nlink),
      mtime: n(v.mtime),
      size,
      devmajor: n(v.devmajor),
      devminor: n(v.devminor),
      rdevmajor: n(v.rdevmajor),
      rdevminor: n(v.rdevminor),
      dataOffset,
    });
    pos = Math.ceil((dataOffset + size) / 4) * 4;
  }
}
