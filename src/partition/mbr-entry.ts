import { Struct } from '../fs/struct.js';
import { decodeChs, encodeChs, type Chs } from './chs.js';

/** One 16-byte partition entry of an MBR or EBR (field names as the UEFI spec's legacy MBR partition record, 5.2.1). */
export const MBR_ENTRY = new Struct('MBR partition entry', 16, [
  { name: 'status', offset: 0, type: 'u8' }, // BootIndicator: 0x80 = active (the one the boot code loads), else 0
  { name: 'chsFirst', offset: 1, type: 'bytes', size: 3 }, // StartingCHS
  { name: 'type', offset: 4, type: 'u8' }, // OSType (the partition type)
  { name: 'chsLast', offset: 5, type: 'bytes', size: 3 }, // EndingCHS
  { name: 'lbaStart', offset: 8, type: 'u32' }, // StartingLBA: relative to the table's base (0, or the extended partition / EBR)
  { name: 'sectors', offset: 12, type: 'u32' }, // SizeInLBA
] as const);

export const STATUS_ACTIVE = 0x80;

/** Partition type bytes kiln writes. */
export const MBR_TYPES = {
  fat12: 0x01,
  fat16Small: 0x04, // FAT16 < 32 MiB
  extended: 0x05,
  fat16: 0x06,
  fat32Lba: 0x0c,
  fat16Lba: 0x0e,
  linuxSwap: 0x82,
  linux: 0x83,
  gptProtective: 0xee,
} as const;

export interface RawEntry {
  status: number;
  type: number;
  /** As stored: relative to the table's base. */
  lbaStart: number;
  sectors: number;
  chsFirst: Chs;
  chsLast: Chs;
}

/** Encodes an entry; CHS fields come from the absolute LBAs (as fdisk writes them, also in EBRs). */
export function encodeEntry(
  e: { status: number; type: number; lbaStart: number; sectors: number; absoluteStart: number },
  buf: Uint8Array,
  base: number,
): void {
  MBR_ENTRY.encode(
    {
      status: e.status,
      chsFirst: encodeChs(e.absoluteStart),
      type: e.type,
      chsLast: encodeChs(e.absoluteStart + e.sectors - 1),
      lbaStart: e.lbaStart,
      sectors: e.sectors,
    },
    buf,
    base,
  );
}

export function decodeEntry(buf: Uint8Array, base: number): RawEntry {
  const v = MBR_ENTRY.decode(buf, base);
  return { status: v.status, type: v.type, lbaStart: v.lbaStart, sectors: v.sectors, chsFirst: decodeChs(v.chsFirst), chsLast: decodeChs(v.chsLast) };
}
