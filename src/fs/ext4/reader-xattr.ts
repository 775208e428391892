import { corrupt } from './reader-blocks.js';
import { bytesToName } from '../name-bytes.js';
import { XATTR_MAGIC, XattrBlockHeader, XattrEntry, XattrIbodyHeader, joinXattrName, xattrEntrySize } from './xattr.js';

/** One extended attribute as stored: its value inline, or in an EA inode (ea_inode feature). */
export interface RawXattr {
  name: string;
  value: Uint8Array;
  /** The ea_inode holding the value (value is then empty until resolved). */
  valueInode?: number;
}

/**
 * Parses a list of entries starting at `first` in `buf`; values are at `valueBase + e_value_offs`.
 * The list ends at an entry whose first 4 bytes are zero.
 */
function parseEntries(buf: Uint8Array, first: number, end: number, valueBase: number, where: string): RawXattr[] {
  const out: RawXattr[] = [];
  let at = first;
  while (at + 4 <= end) {
    if (buf[at] === 0 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0) break;
    if (at + XattrEntry.size > end) throw corrupt(`${where}: xattr entry at ${at} overruns its area`);
    const e = XattrEntry.decode(buf, at);
    const nameEnd = at + XattrEntry.size + e.e_name_len;
    if (nameEnd > end) throw corrupt(`${where}: xattr name at ${at} overruns its area`);
    const name = joinXattrName(e.e_name_index, bytesToName(buf.subarray(at + XattrEntry.size, nameEnd)));
    if (e.e_value_inum !== 0) out.push({ name, value: new Uint8Array(0), valueInode: e.e_value_inum });
    else {
      const vStart = valueBase + e.e_value_offs;
      if (vStart + e.e_value_size > buf.length) throw corrupt(`${where}: value of xattr ${name} overruns its area`);
      out.push({ name, value: buf.slice(vStart, vStart + e.e_value_size) });
    }
    at += xattrEntrySize(e.e_name_len);
  }
  return out;
}

/** The in-inode attributes: `area` is the inode bytes after the extra fields. */
export function parseIbodyXattrs(area: Uint8Array, where: string): RawXattr[] {
  if (area.length < 4 || (XattrIbodyHeader.get(area, 'h_magic') as number) !== XATTR_MAGIC) return [];
  // Value offsets count from the first entry, just after the magic.
  return parseEntries(area, 4, area.length, 4, `${where} (in-inode xattrs)`);
}

/** The attributes of an xattr block. */
export function parseXattrBlock(block: Uint8Array, where: string): RawXattr[] {
  const magic = XattrBlockHeader.get(block, 'h_magic') as number;
  if (magic !== XATTR_MAGIC) throw corrupt(`${where}: bad xattr block magic 0x${magic.toString(16)}`);
  return parseEntries(block, XattrBlockHeader.size, block.length, 0, where);
}
