import { existsSync, statSync } from 'node:fs';
import { KilnError } from '../errors.js';
import { SubSource, SubTarget, type BlockSource, type BlockTarget } from '../fs/block-target.js';
import { FileSource, ImageFileTarget } from '../fs/file-target.js';
import { decodeGpt } from './gpt.js';
import { decodeMbr, type DecodedMbr } from './mbr.js';
import { formatChecksum, readExt4 } from '../fs/ext4/reader.js';
import { readFat } from '../fs/fat/reader.js';
import { readSwap } from '../fs/swap.js';
import type { FsReader } from '../fs/reader.js';
import { ext4Format } from './formats/ext4.js';
import { fatFormat } from './formats/fat.js';

/**
 * Opening an image for reading: a whole filesystem image, or one partition of an MBR disk
 * or GPT disk image (`disk.img:2`), with the filesystem recognised by its magic numbers. ext4
 * and FAT are registered here; another format plugs in with `registerFilesystem`.
 * (This module reads partition tables through src/partition: opening an image is the one
 * place where a filesystem reader needs to know about disks.)
 */

/** How checksums are treated while reading (where the filesystem has them: ext4 metadata_csum). */
export interface ReadOptions {
  /**
   * true: a metadata checksum mismatch is a KilnError naming the structure, raised before the
   * structure is used; 'warn': each mismatch goes to `onWarning` and reading goes on; false
   * (the default for library callers): not checked.
   */
  verify?: boolean | 'warn';
  onWarning?: (message: string) => void;
}

export interface FilesystemKind {
  kind: FsReader['kind'];
  /** Cheap look at the first sectors: is this plausibly our format? */
  detect(source: BlockSource): boolean;
  open(source: BlockSource, options?: ReadOptions): FsReader;
}

const kinds: FilesystemKind[] = [];

export function registerFilesystem(kind: FilesystemKind): void {
  const i = kinds.findIndex((k) => k.kind === kind.kind);
  if (i >= 0) kinds[i] = kind;
  else kinds.push(kind);
}

registerFilesystem({
  kind: 'ext4',
  detect: ext4Format.detect,
  open: (source, options = {}) => {
    const verify = options.verify ?? false;
    if (verify === false) return readExt4(source);
    return readExt4(source, {
      verify: true,
      onChecksumError: (e) => {
        const message = `ext4 checksum mismatch in ${e.what}: stored ${formatChecksum(e.stored)}, computed ${formatChecksum(e.computed)}`;
        if (verify === 'warn') options.onWarning?.(message);
        else throw new KilnError('ext4-checksum', message, 'the image is damaged (e2fsck -fn tells more); --no-verify reads past checksums');
      },
    });
  },
});

registerFilesystem({ kind: 'fat', detect: fatFormat.detect, open: (source) => readFat(source) });

/** Which registered filesystem the source holds, if any. */
export function detectFilesystem(source: BlockSource): FilesystemKind | undefined {
  return kinds.find((k) => k.detect(source));
}

export function openFilesystem(source: BlockSource, where = 'the image', options: ReadOptions = {}): FsReader {
  const kind = detectFilesystem(source);
  if (kind) return kind.open(source, options);
  if (fatFormat.detect(source)) {
    throw new KilnError('no-reader', `${where} holds a FAT filesystem, but no FAT reader is registered`, 'register one with registerFilesystem');
  }
  const swap = swapArea(source);
  if (swap !== undefined) {
    throw new KilnError(
      'swap-area',
      `${where} holds swap (${swap}), not a filesystem: it has no files to list or read`,
      'kiln image inspect shows its label, UUID and size',
    );
  }
  throw new KilnError(
    'unknown-fs',
    `${where} holds no filesystem kiln can read (neither ext4 nor FAT)`,
    'name a partition (IMAGE:N) if it is a partitioned disk',
  );
}

/** `label L, UUID U` of a swap area's header, or undefined when the source is not swap. */
function swapArea(source: BlockSource): string | undefined {
  try {
    const s = readSwap(source);
    return `${s.label ? `label ${s.label}, ` : ''}UUID ${s.uuid}`;
  } catch {
    return undefined;
  }
}

// --- partition tables: MBR (primary and logical) and GPT behind a protective MBR ---

const SECTOR = 512;

export interface DiskPartition {
  /** 1 … 4 primary, 5 … logical (MBR); 1 … (GPT). */
  number: number;
  /** MBR type byte as hex ('83'), or the GPT type GUID. */
  type: string;
  /** Byte offset and length inside the disk image. */
  offset: number;
  size: number;
}

/** The partitions of a disk image, or undefined when sector 0 holds no partition table. */
export function readPartitions(source: BlockSource): DiskPartition[] | undefined {
  // No 55 AA, or a boot sector with garbage where the entries would be (a FAT volume's BPB),
  // is no table. Past that it is one, and a broken chain of EBRs or a bad GPT is an error.
  if (source.size < SECTOR) return undefined;
  const sector0 = source.read(0, SECTOR);
  if (sector0[510] !== 0x55 || sector0[511] !== 0xaa) return undefined;
  for (let k = 0; k < 4; k++) {
    const status = sector0[446 + k * 16]!;
    if (status !== 0 && status !== 0x80) return undefined;
  }
  const mbr: DecodedMbr = decodeMbr(source);
  if (mbr.protective) {
    return decodeGpt(source).partitions.map((p) => ({ number: p.number, type: p.typeGuid, offset: p.start * SECTOR, size: p.sectors * SECTOR }));
  }
  return mbr.partitions.map((p) => ({ number: p.number, type: p.type.toString(16).padStart(2, '0'), offset: p.start * SECTOR, size: p.sectors * SECTOR }));
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

/** Partition `partition` of the disk image `path` (reading or writing it), inside the file. */
function partitionOf(file: BlockSource, path: string, partition: number, use: 'read' | 'write'): DiskPartition {
  const parts = readPartitions(file);
  if (!parts)
    throw new KilnError('no-partition-table', `'${path}' has no partition table, so it has no partition ${partition}`, `${use} it whole: drop ':${partition}'`);
  const p = parts.find((x) => x.number === partition);
  if (!p) {
    const have = parts.map((x) => x.number).join(', ') || 'none';
    throw new KilnError('no-partition', `'${path}' has no partition ${partition} (partitions: ${have})`, 'name one of those partitions');
  }
  if (p.offset + p.size > file.size) {
    throw new KilnError(
      'bad-partition',
      `partition ${partition} of '${path}' ends at byte ${p.offset + p.size}, past the end of the image (${file.size} bytes)`,
      'the image is truncated',
    );
  }
  return p;
}

export interface OpenedImage {
  reader: FsReader;
  /** The bytes the filesystem lives in (the partition, for `disk.img:N`). */
  source: BlockSource;
  close(): void;
}

/** Opens `IMAGE[:PART]` and the filesystem in it. */
export function openImage(ref: string | ImageRef, options: ReadOptions = {}): OpenedImage {
  const { path, partition } = typeof ref === 'string' ? parseImageRef(ref) : ref;
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new KilnError('no-image', `'${path}' is a directory, not an image`, 'name an image file');
  }
  const file = new FileSource(path);
  try {
    let source: BlockSource = file;
    let where = `'${path}'`;
    if (partition !== undefined) {
      const p = partitionOf(file, path, partition, 'read');
      source = new SubSource(file, p.offset, p.size);
      where = `partition ${partition} of '${path}'`;
    } else if (!detectFilesystem(file) && !fatFormat.detect(file)) {
      const parts = readPartitions(file);
      if (parts && parts.length > 0) {
        const list = parts.map((p) => `${p.number} (type ${p.type}, ${p.size} bytes)`).join(', ');
        throw new KilnError('partitioned', `'${path}' is a partitioned disk image: partitions ${list}`, `name one: '${path}:${parts[0]!.number}'`);
      }
    }
    let reader: FsReader;
    try {
      reader = openFilesystem(source, where, options);
    } catch (e) {
      // a named partition: "name a partition" is no help; say how to see what it holds
      if (partition === undefined || !(e instanceof KilnError) || e.code !== 'unknown-fs') throw e;
      throw new KilnError(e.code, e.message, `kiln image inspect '${path}' shows what each partition holds`);
    }
    return { reader, source, close: () => file.close() };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** An existing image, or one partition of it, opened for writing (openImageTarget). */
export interface OpenedImageTarget {
  /** The whole file, or a SubTarget over the partition. Not zeroed: writers zero it first. */
  target: BlockTarget;
  /** Where it is, for messages: `'disk.img'` or `partition 2 of 'disk.img'`. */
  where: string;
  close(): void;
}

/**
 * Opens `IMAGE[:PART]` for writing in place: a filesystem image to rewrite whole, or one
 * partition of an MBR or GPT disk image to write a new filesystem into
 * (`writeFat(tree, openImageTarget('disk.img:1').target)`). The file keeps its size.
 */
export function openImageTarget(ref: string | ImageRef): OpenedImageTarget {
  const { path, partition } = typeof ref === 'string' ? parseImageRef(ref) : ref;
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new KilnError('no-image', `'${path}' is a directory, not an image`, 'name an image file');
  }
  const file = ImageFileTarget.open(path);
  try {
    if (partition === undefined) return { target: file, where: `'${path}'`, close: () => file.close() };
    const p = partitionOf(file, path, partition, 'write');
    return { target: new SubTarget(file, p.offset, p.size, { zeroed: false }), where: `partition ${partition} of '${path}'`, close: () => file.close() };
  } catch (e) {
    file.close();
    throw e;
  }
}
