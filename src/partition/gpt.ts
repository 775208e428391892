import { KilnError } from '../errors.js';
import type { BlockSource } from '../fs/block-target.js';
import { crc32 } from '../fs/checksum/crc32.js';
import { GPT_ATTR_LEGACY_BOOTABLE, GPT_ENTRY, GPT_NAME_UNITS, decodeName, encodeName } from './gpt-entry.js';
import { GPT_HEADER, GPT_REVISION, GPT_SIGNATURE } from './gpt-header.js';
import { guidFromBytes, guidToBytes } from './guid.js';
import { encodeEntry, MBR_ENTRY, MBR_TYPES } from './mbr-entry.js';
import { BOOT_SIGNATURE, MBR, SECTOR, type TableSector } from './mbr.js';

/**
 * GUID partition table: a protective MBR (one 0xEE entry over the whole disk), the primary
 * header at LBA 1 with its 128-entry array from LBA 2, and the backup array and header at the
 * end of the disk, each with CRC32s.
 */

export const GPT_ENTRY_COUNT = 128;
const ARRAY_SECTORS = (GPT_ENTRY_COUNT * GPT_ENTRY.size) / SECTOR; // 32
/** First usable sector: after the MBR, the header and the array. */
export const GPT_FIRST_USABLE = 2 + ARRAY_SECTORS;
/** Sectors the backup array and header take at the end of the disk. */
export const GPT_BACKUP_SECTORS = ARRAY_SECTORS + 1;

export interface GptPartition {
  start: number;
  sectors: number;
  typeGuid: string;
  guid: string;
  name?: string;
  /** Sets attribute bit 2, what gptmbr.bin looks for. */
  legacyBootable?: boolean;
}

export interface GptOptions {
  diskSectors: number;
  diskGuid: string;
  /** Boot code for the protective MBR (e.g. SYSLINUX gptmbr.bin), up to 440 bytes. */
  bootCode?: Uint8Array;
}

function bad(message: string, hint?: string): KilnError {
  return new KilnError('bad-gpt', message, hint);
}

function header(o: { current: number; backup: number; entriesLba: number; first: number; last: number; diskGuid: Uint8Array; entriesCrc: number }): Uint8Array {
  const h = GPT_HEADER.encode({
    signature: GPT_SIGNATURE,
    revision: GPT_REVISION,
    headerSize: GPT_HEADER.size,
    headerCrc32: 0,
    currentLba: o.current,
    backupLba: o.backup,
    firstUsableLba: o.first,
    lastUsableLba: o.last,
    diskGuid: o.diskGuid,
    entriesLba: o.entriesLba,
    entryCount: GPT_ENTRY_COUNT,
    entrySize: GPT_ENTRY.size,
    entriesCrc32: o.entriesCrc,
  });
  GPT_HEADER.encode({ headerCrc32: crc32(h) }, h);
  const sector = new Uint8Array(SECTOR);
  sector.set(h);
  return sector;
}

/** Encodes the protective MBR, both headers and both entry arrays. Throws before returning bytes. */
export function encodeGpt(partitions: GptPartition[], options: GptOptions): TableSector[] {
  const disk = options.diskSectors;
  const first = GPT_FIRST_USABLE;
  const last = disk - GPT_BACKUP_SECTORS - 1;
  if (last < first) throw bad(`a disk of ${disk} sectors is too small for a GPT`);
  if (partitions.length > GPT_ENTRY_COUNT) throw bad(`${partitions.length} partitions do not fit in ${GPT_ENTRY_COUNT} GPT entries`);
  if (options.bootCode && options.bootCode.length > 440) throw bad(`boot code is ${options.bootCode.length} bytes; at most 440 fit`);
  const diskGuid = guidToBytes(options.diskGuid, 'disk GUID');
  const array = new Uint8Array(GPT_ENTRY_COUNT * GPT_ENTRY.size);
  const guids = new Set<string>();
  partitions.forEach((p, i) => {
    const end = p.start + p.sectors - 1;
    if (!Number.isInteger(p.start) || !Number.isInteger(p.sectors) || p.sectors < 1)
      throw bad(`partition ${i + 1}: start and size must be positive whole sectors`);
    if (p.start < first || end > last)
      throw bad(`partition ${i + 1} (sectors ${p.start}–${end}) is outside the usable area ${first}–${last}`, 'make the disk larger or the partition smaller');
    for (const [j, q] of partitions.slice(0, i).entries()) {
      if (p.start <= q.start + q.sectors - 1 && q.start <= end) throw bad(`partitions ${j + 1} and ${i + 1} overlap`);
    }
    const name = p.name ?? '';
    if (name.length > GPT_NAME_UNITS) throw bad(`partition ${i + 1}: name '${name}' is longer than ${GPT_NAME_UNITS} characters`);
    if (guids.has(p.guid.toUpperCase())) throw bad(`partition ${i + 1}: GUID ${p.guid} is used twice`);
    guids.add(p.guid.toUpperCase());
    GPT_ENTRY.encode(
      {
        typeGuid: guidToBytes(p.typeGuid, `partition ${i + 1} type GUID`),
        uniqueGuid: guidToBytes(p.guid, `partition ${i + 1} GUID`),
        firstLba: p.start,
        lastLba: end,
        attributes: p.legacyBootable ? GPT_ATTR_LEGACY_BOOTABLE : 0,
        name: encodeName(name),
      },
      array,
      i * GPT_ENTRY.size,
    );
  });
  const entriesCrc = crc32(array);
  const backupArray = last + 1;
  const mbr = new Uint8Array(SECTOR);
  MBR.encode({ bootSignature: BOOT_SIGNATURE }, mbr);
  if (options.bootCode) mbr.set(options.bootCode, 0);
  encodeEntry(
    { status: 0, type: MBR_TYPES.gptProtective, lbaStart: 1, sectors: Math.min(disk - 1, 0xffffffff), absoluteStart: 1 },
    mbr,
    MBR.offsetOf('entries'),
  );
  // The protective entry's CHS is fixed by the spec: 0/0/2 to the 0xFFFFFF maximum.
  mbr.set([0x00, 0x02, 0x00], MBR.offsetOf('entries') + MBR_ENTRY.offsetOf('chsFirst'));
  mbr.set([0xff, 0xff, 0xff], MBR.offsetOf('entries') + MBR_ENTRY.offsetOf('chsLast'));
  return [
    { lba: 0, bytes: mbr },
    { lba: 1, bytes: header({ current: 1, backup: disk - 1, entriesLba: 2, first, last, diskGuid, entriesCrc }) },
    { lba: 2, bytes: array },
    { lba: backupArray, bytes: array },
    { lba: disk - 1, bytes: header({ current: disk - 1, backup: 1, entriesLba: backupArray, first, last, diskGuid, entriesCrc }) },
  ];
}

export interface DecodedGptPartition {
  number: number;
  start: number;
  sectors: number;
  typeGuid: string;
  guid: string;
  name: string;
  attributes: number;
}

export interface DecodedGpt {
  diskGuid: string;
  firstUsable: number;
  lastUsable: number;
  partitions: DecodedGptPartition[];
}

/** Largest entry array read: the 128 × 128 bytes everyone writes, with room to spare. */
const MAX_ENTRY_ARRAY = 1 << 20;

function readHeader(source: BlockSource, lba: number): { v: ReturnType<typeof GPT_HEADER.decode>; entries: Uint8Array } {
  if (lba < 1 || (lba + 1) * SECTOR > source.size)
    throw new KilnError('not-gpt', `no GPT header at sector ${lba}: the image has ${Math.floor(source.size / SECTOR)} sectors`);
  const sector = source.read(lba * SECTOR, SECTOR);
  const v = GPT_HEADER.decode(sector);
  if (v.signature !== GPT_SIGNATURE) throw new KilnError('not-gpt', `no GPT header at sector ${lba}`);
  const where = `GPT header at sector ${lba}`;
  const hint = 'the GPT is damaged: sgdisk -v or fdisk -l tells more';
  if (v.headerSize < GPT_HEADER.size || v.headerSize > SECTOR)
    throw new KilnError('bad-gpt', `${where}: header size ${v.headerSize} (${GPT_HEADER.size} to ${SECTOR})`, hint);
  const h = sector.slice(0, v.headerSize);
  GPT_HEADER.encode({ headerCrc32: 0 }, h);
  if (crc32(h) !== v.headerCrc32) throw new KilnError('bad-gpt', `GPT header at sector ${lba} has a wrong CRC32`);
  // The CRC only says the header is as written: its fields still have to make sense before
  // they size a read or a loop (the spec: entries of 128 × 2^n bytes).
  if (v.entrySize < GPT_ENTRY.size || v.entrySize % 8 !== 0)
    throw new KilnError('bad-gpt', `${where}: partition entries of ${v.entrySize} bytes (at least ${GPT_ENTRY.size}, a multiple of 8)`, hint);
  const arrayBytes = v.entryCount * v.entrySize;
  if (arrayBytes > MAX_ENTRY_ARRAY)
    throw new KilnError(
      'bad-gpt',
      `${where}: ${v.entryCount} entries of ${v.entrySize} bytes (${arrayBytes} bytes; kiln reads arrays up to ${MAX_ENTRY_ARRAY})`,
      hint,
    );
  if (v.entriesLba < 2 || v.entriesLba * SECTOR + arrayBytes > source.size) {
    throw new KilnError(
      'bad-gpt',
      `${where}: the entry array at sector ${v.entriesLba} (${arrayBytes} bytes) lies outside the ${source.size}-byte image`,
      hint,
    );
  }
  if (v.firstUsableLba > v.lastUsableLba + 1 || v.lastUsableLba * SECTOR >= source.size) {
    throw new KilnError(
      'bad-gpt',
      `${where}: usable sectors ${v.firstUsableLba}–${v.lastUsableLba} do not fit the image's ${Math.floor(source.size / SECTOR)} sectors`,
      hint,
    );
  }
  const entries = source.read(v.entriesLba * SECTOR, arrayBytes);
  if (crc32(entries) !== v.entriesCrc32) throw new KilnError('bad-gpt', `GPT entry array of the header at sector ${lba} has a wrong CRC32`);
  return { v, entries };
}

/** Reads a GPT (the primary copy; the backup when the primary is damaged). */
export function decodeGpt(source: BlockSource): DecodedGpt {
  let got: ReturnType<typeof readHeader>;
  try {
    got = readHeader(source, 1);
  } catch (e) {
    const last = Math.floor(source.size / SECTOR) - 1;
    try {
      got = readHeader(source, last);
    } catch {
      throw e;
    }
  }
  const { v, entries } = got;
  const partitions: DecodedGptPartition[] = [];
  for (let i = 0; i < v.entryCount; i++) {
    const e = GPT_ENTRY.decode(entries, i * v.entrySize);
    if (e.typeGuid.every((b) => b === 0)) continue;
    if (e.lastLba < e.firstLba || e.firstLba < v.firstUsableLba || e.lastLba > v.lastUsableLba) {
      throw new KilnError(
        'bad-gpt',
        `GPT entry ${i + 1}: sectors ${e.firstLba}–${e.lastLba} ${e.lastLba < e.firstLba ? 'end before they start' : `lie outside the usable sectors ${v.firstUsableLba}–${v.lastUsableLba}`}`,
        'the GPT is damaged: sgdisk -v or fdisk -l tells more',
      );
    }
    partitions.push({
      number: i + 1,
      start: e.firstLba,
      sectors: e.lastLba - e.firstLba + 1,
      typeGuid: guidFromBytes(e.typeGuid),
      guid: guidFromBytes(e.uniqueGuid),
      name: decodeName(e.name),
      attributes: e.attributes,
    });
  }
  return { diskGuid: guidFromBytes(v.diskGuid), firstUsable: v.firstUsableLba, lastUsable: v.lastUsableLba, partitions };
}
