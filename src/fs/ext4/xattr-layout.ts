import { KilnError } from '../../errors.js';
import { nameToBytes, printableName } from '../name-bytes.js';
import { INODE_SIZE } from './constants.js';
import { IBODY_XATTR_OFFSET } from './inode.js';
import { XATTR_MAGIC, XattrBlockHeader, XattrEntry, splitXattrName, xattrBlockHash, xattrEntryHash, xattrEntrySize, xattrValueSize } from './xattr.js';

/** One attribute ready for disk: prefix index, name suffix bytes, value, entry hash. */
export interface XattrItem {
  index: number;
  name: Uint8Array;
  value: Uint8Array;
  hash: number;
}

export interface XattrPlacement {
  inInode: XattrItem[];
  inBlock: XattrItem[];
}

/** POSIX ACLs arrive in the xattr format (version 2); ext4 stores its own compact version 1. */
function aclToDisk(value: Uint8Array, where: string): Uint8Array {
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value.length < 4 || (value.length - 4) % 8 !== 0 || v.getUint32(0, true) !== 2) {
    throw new KilnError('bad-xattr', `${where}: POSIX ACL value is not in the xattr format (version 2)`);
  }
  const parts: number[] = [1, 0, 0, 0];
  for (let o = 4; o < value.length; o += 8) {
    const tag = v.getUint16(o, true);
    const perm = v.getUint16(o + 2, true);
    parts.push(tag & 0xff, tag >>> 8, perm & 0xff, perm >>> 8);
    if (tag === 2 || tag === 8) for (let i = 0; i < 4; i++) parts.push(value[o + 4 + i]!);
  }
  return Uint8Array.from(parts);
}

/** Splits names into prefix index + suffix and sorts as the kernel searches: index, name length, name. */
export function prepareXattrs(xattrs: Map<string, Uint8Array>, where: string): XattrItem[] {
  const items: XattrItem[] = [];
  for (const [full, raw] of xattrs) {
    const split = splitXattrName(full);
    if (!split)
      throw new KilnError(
        'bad-xattr',
        `${where}: extended attribute '${printableName(full)}' has no namespace ext4 stores`,
        "use a 'user.', 'trusted.', 'security.' or 'system.' name",
      );
    const name = nameToBytes(split.suffix);
    if (name.length > 255) throw new KilnError('bad-xattr', `${where}: extended attribute name '${printableName(full)}' is longer than 255 bytes`);
    const value = split.index === 2 || split.index === 3 ? aclToDisk(raw, where) : raw;
    items.push({ index: split.index, name, value, hash: xattrEntryHash(name, value) });
  }
  items.sort((a, b) => a.index - b.index || a.name.length - b.name.length || compareBytes(a.name, b.name));
  return items;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const IBODY_SPACE = INODE_SIZE - IBODY_XATTR_OFFSET;

/** In-inode first (in sorted order, while they fit), the rest in one xattr block. */
export function placeXattrs(items: XattrItem[], blockSize: number, where: string): XattrPlacement {
  const inInode: XattrItem[] = [];
  const inBlock: XattrItem[] = [];
  let used = 4 + 4; // magic + end marker
  let i = 0;
  for (; i < items.length; i++) {
    const it = items[i]!;
    const need = xattrEntrySize(it.name.length) + xattrValueSize(it.value.length);
    if (used + need > IBODY_SPACE) break;
    used += need;
    inInode.push(it);
  }
  let blockUsed = 32 + 4;
  for (; i < items.length; i++) {
    const it = items[i]!;
    blockUsed += xattrEntrySize(it.name.length) + xattrValueSize(it.value.length);
    inBlock.push(it);
  }
  if (inBlock.length > 0 && blockUsed > blockSize) {
    throw new KilnError(
      'bad-xattr',
      `${where}: extended attributes need ${blockUsed} bytes, more than one ${blockSize}-byte xattr block`,
      'drop or shorten attributes',
    );
  }
  return { inInode, inBlock };
}

/** Entries from `entriesAt`, values packed down from `end`; offsets relative to `offsBase`. */
function encodeEntries(items: XattrItem[], buf: Uint8Array, entriesAt: number, end: number, offsBase: number): void {
  let at = entriesAt;
  let valueEnd = end;
  for (const it of items) {
    let offs = 0;
    if (it.value.length > 0) {
      valueEnd -= xattrValueSize(it.value.length);
      buf.set(it.value, valueEnd);
      offs = valueEnd - offsBase;
    }
    XattrEntry.encode(
      { e_name_len: it.name.length, e_name_index: it.index, e_value_offs: offs, e_value_inum: 0, e_value_size: it.value.length, e_hash: it.hash },
      buf,
      at,
    );
    buf.set(it.name, at + 16);
    at += xattrEntrySize(it.name.length);
  }
}

/** Writes the in-inode attributes into an inode record at `base`. */
export function encodeIbodyXattrs(items: XattrItem[], inode: Uint8Array, base: number): void {
  if (items.length === 0) return;
  const start = base + IBODY_XATTR_OFFSET;
  new DataView(inode.buffer, inode.byteOffset).setUint32(start, XATTR_MAGIC, true);
  encodeEntries(items, inode, start + 4, base + INODE_SIZE, start + 4);
}

/** An xattr block (checksum left to the caller, who knows the block number). */
export function encodeXattrBlock(items: XattrItem[], blockSize: number): Uint8Array {
  const block = new Uint8Array(blockSize);
  XattrBlockHeader.encode({ h_magic: XATTR_MAGIC, h_refcount: 1, h_blocks: 1, h_hash: xattrBlockHash(items.map((i) => i.hash)) }, block);
  encodeEntries(items, block, 32, blockSize, 0);
  return block;
}
