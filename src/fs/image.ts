import { existsSync, statSync } from 'node:fs';
import { KilnError } from '../errors.js';
import { FileSource, SubSource, type BlockSource } from './block-target.js';
import { readExt4 } from './ext4/reader.js';
import type { FsReader } from './reader.js';
import { Struct } from './struct.js';

/**
 * Opening an image for reading: a whole filesystem image, or one partition of an MBR disk
 * image (`disk.img:2`), with the filesystem recognised by its magic numbers. Readers register
 * here, so a format whose reader lives elsewhere plugs in with `registerFilesystem`.
 */

export interface FilesystemKind {
  kind: FsReader['kind'];
  /** Cheap look at the first sectors: is this plausibly our format? */
  detect(source: BlockSource): boolean;
  open(source: BlockSource): FsReader;
}

const kinds: FilesystemKind[] = [];

export function registerFilesystem(kind: FilesystemKind): void {
  const i = kinds.findIndex((k) => k.kind === kind.kind);
  if (i >= 0) kinds[i] = kind;
  else kinds.push(kind);
}

const EXT4_MAGIC_OFFSET = 1024 + 0x38;
const EXT4_MAGIC = 0xef53;

function readU16(source: BlockSource, offset: number): number {
  if (source.size < offset + 2) return -1;
  const b = source.read(offset, 2);
  return b[0]! | (b[1]! << 8);
}

registerFilesystem({
  kind: 'ext4',
  detect: (source) => readU16(source, EXT4_MAGIC_OFFSET) === EXT4_MAGIC,
  open: (source) => readExt4(source),
});

/** A FAT boot sector: x86 jump, a sane BPB, and the type string where mkfs.fat puts it. */
export function looksLikeFat(source: BlockSource): boolean {
  if (source.size < 512) return false;
  const b = source.read(0, 512);
  if (b[510] !== 0x55 || b[511] !== 0xaa) return false;
  if (b[0] !== 0xeb && b[0] !== 0xe9) return false;
  const bytesPerSector = b[11]! | (b[12]! << 8);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) return false;
  const perCluster = b[13]!;
  if (perCluster === 0 || (perCluster & (perCluster - 1)) !== 0) return false;
  const text = (at: number): string => String.fromCharCode(...b.subarray(at, at + 3));
  return text(54) === 'FAT' || text(82) === 'FAT';
}

/** Which registered filesystem the source holds, if any. */
export function detectFilesystem(source: BlockSource): FilesystemKind | undefined {
  return kinds.find((k) => k.detect(source));
}

export function openFilesystem(source: BlockSource, where = 'the image'): FsReader {
  const kind = detectFilesystem(source);
  if (kind) return kind.open(source);
  if (looksLikeFat(source)) {
    throw new KilnError('no-reader', `${where} holds a FAT filesystem, but no FAT reader is registered`, 'register one with registerFilesystem');
  }
  throw new KilnError('unknown-fs', `${where} holds no filesystem kiln can read (neither ext4 nor FAT)`, 'name a partition (IMAGE:N) if it is a partitioned disk');
}

// --- MBR: the four primary entries, enough to find a partition to read. ---

const SECTOR = 512;
const MBR_ENTRIES_OFFSET = 446;

export const mbrEntry = new Struct('mbr partition entry', 16, [
  { name: 'status', offset: 0, type: 'u8' },
  { name: 'chsFirst', offset: 1, type: 'bytes', size: 3 },
  { name: 'type', offset: 4, type: 'u8' },
  { name: 'chsLast', offset: 5, type: 'bytes', size: 3 },
  { name: 'lbaFirst', offset: 8, type: 'u32' },
  { name: 'sectors', offset: 12, type: 'u32' },
] as const);

export interface PrimaryPartition {
  /** 1 … 4 */
  number: number;
  type: number;
  active: boolean;
  /** Byte offset and length inside the disk image. */
  offset: number;
  size: number;
}

/** The used primary entries of an MBR, or undefined if sector 0 is not an MBR. */
export function readPrimaryPartitions(source: BlockSource): PrimaryPartition[] | undefined {
  if (source.size < SECTOR) return undefined;
  const sector = source.read(0, SECTOR);
  if (sector[510] !== 0x55 || sector[511] !== 0xaa) return undefined;
  const out: PrimaryPartition[] = [];
  for (let i = 0; i < 4; i++) {
    const e = mbrEntry.decode(sector, MBR_ENTRIES_OFFSET + i * mbrEntry.size);
    if (e.status !== 0 && e.status !== 0x80) return undefined;
    if (e.type === 0 || e.sectors === 0) continue;
    out.push({ number: i + 1, type: e.type, active: e.status === 0x80, offset: e.lbaFirst * SECTOR, size: e.sectors * SECTOR });
  }
  return out;
}

export interface ImageRef {
  path: string;
  /** MBR partition number (1-based); absent = the whole image. */
  partition?: number;
}

/**
 * `IMAGE[:PART]`. A trailing `:N` names a partition unless a file with the whole spec as its
 * name exists.
 */
export function parseImageRef(spec: string): ImageRef {
  const m = /^(.*):(\d+)$/.exec(spec);
  if (!m || existsSync(spec)) return { path: spec };
  return { path: m[1]!, partition: Number(m[2]) };
}

export interface OpenedImage {
  reader: FsReader;
  /** The bytes the filesystem lives in (the partition, for `disk.img:N`). */
  source: BlockSource;
  close(): void;
}

/** Opens `IMAGE[:PART]` and the filesystem in it. */
export function openImage(ref: string | ImageRef): OpenedImage {
  const { path, partition } = typeof ref === 'string' ? parseImageRef(ref) : ref;
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new KilnError('no-image', `'${path}' is a directory, not an image`, 'name an image file');
  }
  const file = new FileSource(path);
  try {
    let source: BlockSource = file;
    let where = `'${path}'`;
    if (partition !== undefined) {
      const parts = readPrimaryPartitions(file);
      if (!parts) throw new KilnError('no-partition-table', `'${path}' has no MBR partition table, so it has no partition ${partition}`, `read it whole: drop ':${partition}'`);
      const p = parts.find((x) => x.number === partition);
      if (!p) {
        const have = parts.map((x) => x.number).join(', ') || 'none';
        throw new KilnError('no-partition', `'${path}' has no partition ${partition} (primary partitions: ${have})`, 'name one of those partitions');
      }
      if (p.offset + p.size > file.size) {
        throw new KilnError('bad-partition', `partition ${partition} of '${path}' ends at byte ${p.offset + p.size}, past the end of the image (${file.size} bytes)`, 'the image is truncated');
      }
      source = new SubSource(file, p.offset, p.size);
      where = `partition ${partition} of '${path}'`;
    } else if (!detectFilesystem(file) && !looksLikeFat(file)) {
      const parts = readPrimaryPartitions(file);
      if (parts && parts.length > 0) {
        const list = parts.map((p) => `${p.number} (type 0x${p.type.toString(16).padStart(2, '0')}, ${p.size} bytes)`).join(', ');
        throw new KilnError('partitioned', `'${path}' is a partitioned disk image: partitions ${list}`, `name one: '${path}:${parts[0]!.number}'`);
      }
    }
    return { reader: openFilesystem(source, where), source, close: () => file.close() };
  } catch (e) {
    file.close();
    throw e;
  }
}
