import { KilnError } from '../../errors.js';
import { parseUuid } from '../uuid.js';
import type { WriteControl } from '../write-control.js';

/** Options of `writeExt4` / `planExt4`. Every default is a pure function of the tree and options. */
export interface Ext4Options extends WriteControl {
  /** Volume label, at most 16 bytes. */
  label?: string;
  /** Filesystem UUID ('xxxxxxxx-xxxx-…'); default: derived from the tree and options. */
  uuid?: string;
  /** Directory hash seed (a UUID); default: derived from the tree and options. */
  hashSeed?: string;
  /** Bytes per inode; default as mke2fs picks for the size (4096 below 512 MiB, 16384 above, …). */
  inodeRatio?: number;
  /** Percentage of blocks reserved for root (default 5). */
  reservedPercent?: number;
  /** 1024 or 4096 (default 4096, also for small filesystems where mke2fs would pick 1024). */
  blockSize?: 1024 | 4096;
  /** An empty jbd2 journal sized like mke2fs's (default true). */
  journal?: boolean;
  /** Clamp every timestamp to this (seconds since the epoch); also the superblock's times. */
  sourceDateEpoch?: number;
  /** Filesystem size in bytes (default: the whole target). Rounded down to whole blocks. */
  size?: number;
}

/** What a write produced. */
export interface Ext4Result {
  /** Bytes of the target the filesystem covers. */
  size: number;
  blockSize: number;
  blocks: number;
  freeBlocks: number;
  inodes: number;
  freeInodes: number;
  journalBlocks: number;
  uuid: string;
  hashSeed: string;
}

/** The outcome of planning, before any write. */
export interface Ext4Plan {
  /** Smallest filesystem size in bytes that holds the tree (file content counted as dense). */
  minimumSize: number;
  blockSize: number;
  /** Inodes the tree needs, including the reserved ones and lost+found. */
  inodesNeeded: number;
  /** Bytes of regular-file content. */
  contentBytes: number;
  uuid: string;
  hashSeed: string;
}

export interface ResolvedOptions {
  label: string;
  uuid: Uint8Array | undefined;
  hashSeed: Uint8Array | undefined;
  inodeRatio: number | undefined;
  reservedPercent: number;
  blockSize: 1024 | 4096;
  journal: boolean;
  sourceDateEpoch: number | undefined;
}

export function resolveOptions(o: Ext4Options): ResolvedOptions {
  const label = o.label ?? '';
  if (new TextEncoder().encode(label).length > 16) throw new KilnError('bad-option', `ext4 label '${label}' is longer than 16 bytes`, 'use a shorter label');
  const blockSize = o.blockSize ?? 4096;
  if (blockSize !== 1024 && blockSize !== 4096) throw new KilnError('bad-option', `ext4 block size ${String(blockSize)} is not supported`, 'use 1024 or 4096');
  const reservedPercent = o.reservedPercent ?? 5;
  if (!(reservedPercent >= 0 && reservedPercent <= 50))
    throw new KilnError('bad-option', `reserved percentage ${reservedPercent} is out of range`, 'use a value from 0 to 50');
  if (o.inodeRatio !== undefined && !(Number.isInteger(o.inodeRatio) && o.inodeRatio >= blockSize && o.inodeRatio <= 2 ** 26)) {
    throw new KilnError(
      'bad-option',
      `inode ratio ${o.inodeRatio} is out of range`,
      `use a whole number of bytes per inode from ${blockSize} (the block size) to 67108864`,
    );
  }
  if (o.sourceDateEpoch !== undefined && !Number.isFinite(o.sourceDateEpoch))
    throw new KilnError('bad-option', `SOURCE_DATE_EPOCH '${o.sourceDateEpoch}' is not a number`);
  return {
    label,
    uuid: o.uuid !== undefined ? parseUuid(o.uuid, 'UUID') : undefined,
    hashSeed: o.hashSeed !== undefined ? parseUuid(o.hashSeed, 'hash seed') : undefined,
    inodeRatio: o.inodeRatio,
    reservedPercent,
    blockSize,
    journal: o.journal ?? true,
    sourceDateEpoch: o.sourceDateEpoch === undefined ? undefined : Math.floor(o.sourceDateEpoch),
  };
}

/** mke2fs.conf's usage types by size: floppy < 3 MiB, small < 512 MiB, default, big ≥ 4 TiB, huge ≥ 16 TiB. */
export function defaultInodeRatio(bytes: number): number {
  const MiB = 1024 * 1024;
  if (bytes < 3 * MiB) return 8192;
  if (bytes < 512 * MiB) return 4096;
  if (bytes < 4 * 1024 * 1024 * MiB) return 16384;
  if (bytes < 16 * 1024 * 1024 * MiB) return 32768;
  return 65536;
}
