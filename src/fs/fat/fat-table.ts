import type { FatType } from './boot-sector.js';

/**
 * The file allocation table: one entry per cluster (12, 16 or 28 bits used of 32) naming the
 * next cluster of a chain, 0 for free, or end-of-chain. Entries 0 and 1 are reserved (entry 0
 * repeats the media byte).
 */
export const FREE = 0;

export function endOfChain(fatType: FatType): number {
  return fatType === 12 ? 0xfff : fatType === 16 ? 0xffff : 0x0fffffff;
}

/** Values at or above this end a chain (0x?FF8). */
export function isEndOfChain(fatType: FatType, value: number): boolean {
  return value >= (fatType === 12 ? 0xff8 : fatType === 16 ? 0xfff8 : 0x0ffffff8);
}

export function isBadCluster(fatType: FatType, value: number): boolean {
  return value === (fatType === 12 ? 0xff7 : fatType === 16 ? 0xfff7 : 0x0ffffff7);
}

/** Bytes one FAT copy needs for `entries` entries. */
export function fatBytes(fatType: FatType, entries: number): number {
  return fatType === 12 ? Math.ceil((entries * 3) / 2) : entries * (fatType / 8);
}

/** Packs entries into the on-disk FAT of `sizeBytes` (the rest stays zero). */
export function encodeFat(fatType: FatType, entries: Uint32Array, sizeBytes: number): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  if (fatType === 32) {
    const view = new DataView(out.buffer);
    for (let i = 0; i < entries.length; i++) if (entries[i]) view.setUint32(i * 4, entries[i]! & 0x0fffffff, true);
  } else if (fatType === 16) {
    for (let i = 0; i < entries.length; i++) {
      const v = entries[i]!;
      out[i * 2] = v & 0xff;
      out[i * 2 + 1] = v >> 8;
    }
  } else {
    for (let i = 0; i < entries.length; i++) setFat12(out, i, entries[i]!);
  }
  return out;
}

function setFat12(out: Uint8Array, i: number, v: number): void {
  const at = (i * 3) >> 1;
  if (i & 1) {
    out[at] = (out[at]! & 0x0f) | ((v & 0x0f) << 4);
    out[at + 1] = (v >> 4) & 0xff;
  } else {
    out[at] = v & 0xff;
    out[at + 1] = (out[at + 1]! & 0xf0) | ((v >> 8) & 0x0f);
  }
}

/** Reads `count` entries from an on-disk FAT. */
export function decodeFat(fatType: FatType, bytes: Uint8Array, count: number): Uint32Array {
  const out = new Uint32Array(count);
  if (fatType === 32) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true) & 0x0fffffff;
  } else if (fatType === 16) {
    for (let i = 0; i < count; i++) out[i] = bytes[i * 2]! | (bytes[i * 2 + 1]! << 8);
  } else {
    for (let i = 0; i < count; i++) {
      const at = (i * 3) >> 1;
      const w = bytes[at]! | (bytes[at + 1]! << 8);
      out[i] = i & 1 ? w >> 4 : w & 0xfff;
    }
  }
  return out;
}

/** Writes one entry into an on-disk FAT in place (used by installers patching a volume). */
export function setFatEntry(fatType: FatType, bytes: Uint8Array, i: number, v: number): void {
  if (fatType === 32) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(i * 4, (view.getUint32(i * 4, true) & 0xf0000000) | (v & 0x0fffffff), true);
  } else if (fatType === 16) {
    bytes[i * 2] = v & 0xff;
    bytes[i * 2 + 1] = v >> 8;
  } else setFat12(bytes, i, v);
}
