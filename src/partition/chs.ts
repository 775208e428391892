/**
 * Cylinder/head/sector addresses in MBR entries, computed as fdisk/sfdisk do for a disk
 * without a real geometry: 255 heads, 63 sectors per track; an address beyond cylinder 1023
 * is written as 1023/254/63. Nothing modern reads them, but old BIOSes and tools compare them.
 */
export const HEADS = 255;
export const SECTORS_PER_TRACK = 63;
const MAX_CYLINDER = 1023;

export interface Chs {
  cylinder: number;
  head: number;
  sector: number;
}

export function lbaToChs(lba: number): Chs {
  const perCylinder = HEADS * SECTORS_PER_TRACK;
  if (Math.floor(lba / perCylinder) > MAX_CYLINDER) lba = perCylinder * (MAX_CYLINDER + 1) - 1;
  const cylinder = Math.floor(lba / perCylinder);
  const rest = lba % perCylinder;
  return { cylinder, head: Math.floor(rest / SECTORS_PER_TRACK), sector: (rest % SECTORS_PER_TRACK) + 1 };
}

/** The 3 bytes of an entry: head; sector with cylinder bits 8–9 on top; cylinder bits 0–7. */
export function encodeChs(lba: number): Uint8Array {
  const { cylinder, head, sector } = lbaToChs(lba);
  return new Uint8Array([head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff]);
}

export function decodeChs(bytes: Uint8Array): Chs {
  return { head: bytes[0]!, sector: bytes[1]! & 0x3f, cylinder: bytes[2]! | ((bytes[1]! & 0xc0) << 2) };
}
