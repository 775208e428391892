import { KilnError } from '../errors.js';
import type { BlockSource } from '../fs/block-target.js';
import { Struct } from '../fs/struct.js';
import { decodeEntry, encodeEntry, MBR_ENTRY, MBR_TYPES, STATUS_ACTIVE, type RawEntry } from './mbr-entry.js';

/**
 * The master boot record (sector 0) and the extended boot records of logical partitions.
 * Four primary entries; with more than four partitions the fourth slot becomes an extended
 * partition holding a chain of EBRs, each describing one logical partition and linking to the
 * next — the layout fdisk/sfdisk write (EBR one alignment unit before its partition).
 * Comments name each field as the UEFI spec's legacy MBR (5.2.1) does.
 */
export const MBR = new Struct('MBR', 512, [
  { name: 'bootCode', offset: 0, type: 'bytes', size: 440 }, // BootCode: mbr.bin
  { name: 'diskSignature', offset: 440, type: 'u32' }, // UniqueMBRDiskSignature
  { name: 'copyProtect', offset: 444, type: 'u16' }, // Unknown: 0 (0x5A5A = read-only)
  { name: 'entries', offset: 446, type: 'bytes', size: 64 }, // PartitionRecord[4]: 4 × MBR_ENTRY
  { name: 'bootSignature', offset: 510, type: 'u16' }, // Signature: 0xAA55
] as const);

export const SECTOR = 512;
export const BOOT_SIGNATURE = 0xaa55;
const ENTRY_BASE = MBR.offsetOf('entries');
const U32 = 0xffffffff;

export interface MbrPartition {
  /** First sector (LBA, absolute). */
  start: number;
  sectors: number;
  type: number;
  bootable?: boolean;
  /** Logical partitions: the sector of its EBR (default: one alignment unit before `start`). */
  ebr?: number;
}

export interface MbrOptions {
  /** Disk signature (the "label-id" sfdisk prints). */
  signature: number;
  /** Up to 440 bytes of boot code (mbr.bin); default none (zeros). */
  bootCode?: Uint8Array;
  /** Sectors between an EBR and its logical partition by default (2048 = 1 MiB). */
  alignment?: number;
  /** Disk size in sectors, to check partitions end inside it. */
  diskSectors?: number;
}

export interface TableSector {
  lba: number;
  bytes: Uint8Array;
}

function bad(message: string, hint?: string): KilnError {
  return new KilnError('bad-mbr', message, hint);
}

/**
 * Encodes the MBR (and EBRs when more than four partitions are given: the first three stay
 * primary, the rest become logical partitions of an extended partition in slot 4). Partitions
 * are numbered as Linux does: 1–4 primary, 5… logical. Throws before returning any bytes.
 */
export function encodeMbr(partitions: MbrPartition[], options: MbrOptions): TableSector[] {
  const align = options.alignment ?? 2048;
  if (options.bootCode && options.bootCode.length > 440)
    throw bad(`MBR boot code is ${options.bootCode.length} bytes; at most 440 fit`, 'use mbr.bin from SYSLINUX (440 bytes)');
  if (!Number.isInteger(options.signature) || options.signature < 0 || options.signature > U32)
    throw bad(`disk signature ${options.signature} is not a 32-bit number`);
  const sorted = [...partitions];
  for (const [i, p] of sorted.entries()) {
    if (!Number.isInteger(p.start) || !Number.isInteger(p.sectors) || p.start < 1 || p.sectors < 1)
      throw bad(`partition ${i + 1}: start ${p.start} and size ${p.sectors} sectors must be positive whole sectors`);
    if (p.start + p.sectors - 1 > U32) throw bad(`partition ${i + 1} ends beyond 2 TiB, the limit of an MBR`, 'use a GPT table');
    if (options.diskSectors !== undefined && p.start + p.sectors > options.diskSectors)
      throw bad(`partition ${i + 1} ends at sector ${p.start + p.sectors}, beyond the disk's ${options.diskSectors} sectors`);
    if (p.type < 1 || p.type > 0xff || p.type === MBR_TYPES.extended || p.type === 0x0f || p.type === 0x85)
      throw bad(`partition ${i + 1}: type 0x${p.type.toString(16)} is not a data partition type`);
  }
  const order = sorted.map((p, i) => ({ p, i })).sort((a, b) => a.p.start - b.p.start);
  for (let k = 1; k < order.length; k++) {
    const a = order[k - 1]!;
    const b = order[k]!;
    if (b.p.start < a.p.start + a.p.sectors) throw bad(`partitions ${a.i + 1} and ${b.i + 1} overlap`);
  }
  if (partitions.filter((p) => p.bootable).length > 1)
    throw bad('more than one partition is bootable', "the MBR boot code loads the one active partition; mark only one 'bootable'");
  const primary = partitions.length <= 4 ? partitions : partitions.slice(0, 3);
  const logical = partitions.length <= 4 ? [] : partitions.slice(3);
  if (logical.some((p) => p.bootable))
    throw bad('a logical partition (5 and up) cannot be the active one', 'make the bootable partition one of the first three');

  const mbr = new Uint8Array(SECTOR);
  MBR.encode({ diskSignature: options.signature, bootSignature: BOOT_SIGNATURE }, mbr);
  if (options.bootCode) mbr.set(options.bootCode, 0);
  primary.forEach((p, k) =>
    encodeEntry(
      { status: p.bootable ? STATUS_ACTIVE : 0, type: p.type, lbaStart: p.start, sectors: p.sectors, absoluteStart: p.start },
      mbr,
      ENTRY_BASE + k * MBR_ENTRY.size,
    ),
  );
  const out: TableSector[] = [{ lba: 0, bytes: mbr }];
  if (logical.length === 0) return out;

  // Logical partitions: each EBR sits before its partition, after the previous one's end.
  const ebrs = logical.map((p) => p.ebr ?? p.start - align);
  const primaryEnd = Math.max(...primary.map((p) => p.start + p.sectors));
  logical.forEach((p, k) => {
    const floor = k === 0 ? primaryEnd : logical[k - 1]!.start + logical[k - 1]!.sectors;
    if (ebrs[k]! < floor || ebrs[k]! >= p.start) {
      throw bad(
        `logical partition ${k + 5} needs room for its extended boot record between sector ${floor} and its start ${p.start}`,
        'leave one alignment unit (1 MiB) free before each logical partition, and put logical partitions after the primary ones',
      );
    }
  });
  const extStart = ebrs[0]!;
  const last = logical[logical.length - 1]!;
  const extSectors = last.start + last.sectors - extStart;
  encodeEntry({ status: 0, type: MBR_TYPES.extended, lbaStart: extStart, sectors: extSectors, absoluteStart: extStart }, mbr, ENTRY_BASE + 3 * MBR_ENTRY.size);
  logical.forEach((p, k) => {
    const ebr = new Uint8Array(SECTOR);
    MBR.encode({ bootSignature: BOOT_SIGNATURE }, ebr);
    const at = ebrs[k]!;
    encodeEntry({ status: 0, type: p.type, lbaStart: p.start - at, sectors: p.sectors, absoluteStart: p.start }, ebr, ENTRY_BASE);
    const next = logical[k + 1];
    if (next) {
      const nextEbr = ebrs[k + 1]!;
      // The link covers the next EBR through the end of the next logical partition.
      encodeEntry(
        { status: 0, type: MBR_TYPES.extended, lbaStart: nextEbr - extStart, sectors: next.start + next.sectors - nextEbr, absoluteStart: nextEbr },
        ebr,
        ENTRY_BASE + MBR_ENTRY.size,
      );
    }
    out.push({ lba: at, bytes: ebr });
  });
  return out;
}

export interface DecodedPartition {
  /** Linux numbering: 1–4 primary, 5… logical. */
  number: number;
  start: number;
  sectors: number;
  type: number;
  bootable: boolean;
  logical: boolean;
}

export interface DecodedMbr {
  signature: number;
  bootCode: Uint8Array;
  /** Data partitions (the extended container itself is in `extended`). */
  partitions: DecodedPartition[];
  extended?: { number: number; start: number; sectors: number };
  /** True when slot 1 is a GPT protective entry (0xEE): read the GPT instead. */
  protective: boolean;
  raw: RawEntry[];
}

/**
 * The most partitions a DOS table may hold as libfdisk reads it (MAXIMUM_PARTS in fdisk's dos
 * label): sfdisk and fdisk see no logical partition past number 60, so neither does kiln.
 */
export const MBR_MAX_PARTITIONS = 60;

/**
 * Reads an MBR and its EBR chain from a disk image. A chain that loops, leaves the extended
 * partition or the image, or holds more logical partitions than sfdisk reads is refused.
 */
export function decodeMbr(source: BlockSource): DecodedMbr {
  if (source.size < SECTOR) throw new KilnError('not-mbr', `the image is ${source.size} bytes, smaller than one sector`);
  const mbr = source.read(0, SECTOR);
  const v = MBR.decode(mbr);
  if (v.bootSignature !== BOOT_SIGNATURE) throw new KilnError('not-mbr', 'no partition table: sector 0 does not end in 55 AA', 'is this a whole-disk image?');
  const raw = [0, 1, 2, 3].map((k) => decodeEntry(mbr, ENTRY_BASE + k * MBR_ENTRY.size));
  const out: DecodedMbr = {
    signature: v.diskSignature,
    bootCode: v.bootCode,
    partitions: [],
    protective: raw.some((e) => e.type === MBR_TYPES.gptProtective),
    raw,
  };
  raw.forEach((e, k) => {
    if (e.type === 0) return;
    if (e.type === MBR_TYPES.extended || e.type === 0x0f || e.type === 0x85) {
      out.extended = { number: k + 1, start: e.lbaStart, sectors: e.sectors };
      return;
    }
    out.partitions.push({ number: k + 1, start: e.lbaStart, sectors: e.sectors, type: e.type, bootable: e.status === STATUS_ACTIVE, logical: false });
  });
  if (out.extended) {
    const ext = out.extended;
    const extStart = ext.start;
    const extEnd = ext.start + ext.sectors;
    const hint = 'the partition table is damaged: sfdisk -d shows what it reads';
    if (extStart === 0 || ext.sectors === 0)
      throw new KilnError('bad-mbr', `extended partition ${ext.number} starts at sector ${extStart} with ${ext.sectors} sectors`, hint);
    let at = extStart;
    const seen = new Set<number>();
    for (let n = 5; ; n++) {
      if (seen.has(at))
        throw new KilnError('bad-mbr', `the extended partition's chain of boot records loops back to sector ${at} (after logical partition ${n - 1})`, hint);
      if (at < extStart || at >= extEnd)
        throw new KilnError(
          'bad-mbr',
          `extended boot record ${n - 4} at sector ${at} lies outside extended partition ${ext.number} (sectors ${extStart}–${extEnd - 1})`,
          hint,
        );
      if ((at + 1) * SECTOR > source.size)
        throw new KilnError('bad-mbr', `extended boot record at sector ${at} lies past the end of the ${source.size}-byte image`, 'the image is truncated');
      if (n > MBR_MAX_PARTITIONS) {
        throw new KilnError(
          'bad-mbr',
          `the extended partition holds more than ${MBR_MAX_PARTITIONS - 4} logical partitions (sfdisk reads partitions 1–${MBR_MAX_PARTITIONS} only)`,
          hint,
        );
      }
      seen.add(at);
      const ebr = source.read(at * SECTOR, SECTOR);
      if (MBR.decode(ebr).bootSignature !== BOOT_SIGNATURE) throw new KilnError('bad-mbr', `extended boot record at sector ${at} does not end in 55 AA`);
      const first = decodeEntry(ebr, ENTRY_BASE);
      const link = decodeEntry(ebr, ENTRY_BASE + MBR_ENTRY.size);
      if (first.type !== 0)
        out.partitions.push({
          number: n,
          start: at + first.lbaStart,
          sectors: first.sectors,
          type: first.type,
          bootable: first.status === STATUS_ACTIVE,
          logical: true,
        });
      if (link.type === 0 || link.sectors === 0) break;
      at = extStart + link.lbaStart;
    }
  }
  return out;
}
