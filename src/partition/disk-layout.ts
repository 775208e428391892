import { formatPosition, KilnError, type SourcePosition } from '../errors.js';
import type { FileTree } from '../fs/tree.js';
import type { PartitionFilesystem } from './formats/index.js';
import type { SyslinuxBinaries } from './syslinux/install.js';

export type { PartitionFilesystem };

/**
 * A disk layout: the partition table and what goes into each partition. Written as YAML
 * (`kiln mkimage LAYOUT.yaml OUT.img`) or built in code. Paths in a YAML layout are relative
 * to the layout file. Every value remembers where it was written so that errors found later
 * (sizes that do not fit, overlaps) still point at file:line:col.
 *
 * ```yaml
 * table: mbr                # mbr | gpt
 * size: auto                # or 2G; auto = just large enough
 * partitions:
 *   - filesystem: fat       # fat | ext4 | swap | raw
 *     size: auto            # or 64M; `rest` for the last partition of a sized disk
 *     label: BOOT
 *     bootable: true
 *     source: boot/         # a directory or a tar archive
 *     files: { /vmlinuz: vmlinuz-6.1 }
 *     syslinux: { binaries: syslinux/, directory: /syslinux, kernel: /vmlinuz,
 *                 initrd: /initrd.img, cmdline: console=ttyS0, serial: 115200 }
 *   - { filesystem: ext4, size: auto, label: root, source: rootfs.tar, root-owner: true }
 *   - { filesystem: swap, size: 64M, label: swap }
 * ```
 */

export type TableType = 'mbr' | 'gpt';

/** Where each key of a map was written (value positions), plus the map itself. */
export interface Positions {
  at?: SourcePosition;
  keys: Record<string, SourcePosition>;
}

export interface SyslinuxSpec {
  /**
   * Host directory holding ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin of one build
   * (read through the assembly's DiskHost), or those files given in code.
   */
  binaries: string | SyslinuxBinaries;
  /** Install directory inside the FAT (default /syslinux). */
  directory: string;
  /** A syslinux.cfg to use as is (host path); otherwise one is generated from the fields below. */
  config?: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** Baud rate for `SERIAL 0 <baud>` (console on the first serial port). */
  serial?: number;
  /** Tenths of a second to wait at the prompt (default 0: boot at once). */
  timeout?: number;
  positions?: Positions;
}

/**
 * One partition: the keys every format shares. Each format adds its own (fat.ts: fatType,
 * clusterSize, syslinux; ext4.ts: inodeRatio; raw.ts: content) beside its code in formats/.
 */
export interface PartitionSpec {
  /** What it holds (not to be confused with the filesystems `openImage` detects). */
  filesystem: PartitionFilesystem;
  /** Bytes, 'auto' (content + margin), or 'rest' (to the end of a sized disk). */
  size: number | 'auto' | 'rest';
  /** Bytes from the start of the disk; default: the next aligned offset. */
  start?: number;
  /** GPT partition name. */
  name?: string;
  /** Filesystem label. */
  label?: string;
  /** ext4/swap UUID; FAT volume id as XXXX-XXXX. */
  uuid?: string;
  /** Host directory or tar archive, or a raw partition's file (absolute, or relative to the layout's directory). */
  source?: string;
  /** A tree given in code instead of `source`. */
  tree?: FileTree;
  /** Extra host files: path in the filesystem → host path. */
  files?: Record<string, string>;
  /** Make every file root-owned (default: true for directories, keep for tar archives). */
  rootOwner?: boolean;
  bootable?: boolean;
  /** MBR type byte or GPT type GUID, instead of the one chosen by filesystem. */
  type?: number | string;
  positions?: Positions;
}

export interface DiskLayout {
  table: TableType;
  size: number | 'auto';
  /** Partition alignment in bytes (default 1 MiB). */
  alignment?: number;
  /** Seed for the derived disk signature, disk GUID and partition GUIDs (default: from the layout). */
  seed?: string;
  /** MBR disk signature (default derived from the seed). */
  diskSignature?: number;
  /** GPT disk GUID (default derived from the seed). */
  diskGuid?: string;
  /** MBR boot code, as a host path or bytes (default: mbr.bin of a partition's SYSLINUX binaries, MBR only). */
  bootCode?: string | Uint8Array;
  partitions: PartitionSpec[];
  /** The layout file, for messages. */
  file?: string;
  positions?: Positions;
}

export const MiB = 1024 * 1024;

/** The largest size kiln handles: whole bytes stay exact in a JavaScript number below 2^53 (8 PiB). */
export const MAX_BYTES = Math.floor(Number.MAX_SAFE_INTEGER / 512) * 512;
/** An MBR entry holds 32-bit sector numbers: a disk or partition end of at most 2^32 sectors (2 TiB). */
export const MBR_MAX_BYTES = 2 ** 32 * 512;

/** The first control character (line breaks, tabs, NUL, DEL) in `text`, described, or undefined. */
export function controlCharacter(text: string): string | undefined {
  const m = /[\u0000-\u001f\u007f]/.exec(text);
  if (!m) return undefined;
  const c = m[0].charCodeAt(0);
  const name =
    c === 10
      ? 'a line break (\\n)'
      : c === 13
        ? 'a carriage return (\\r)'
        : c === 9
          ? 'a tab'
          : c === 0
            ? 'a NUL byte'
            : `the control character 0x${c.toString(16).padStart(2, '0')}`;
  return `${name} at character ${m.index + 1}`;
}

/** Why `path` is not a usable absolute path inside a filesystem ('..', empty, control characters), or undefined. */
export function badFsPath(path: string): string | undefined {
  const ctl = controlCharacter(path);
  if (ctl) return `contains ${ctl}`;
  const parts = path.split('/');
  if (parts.includes('..')) return "has a '..' component, which would leave the filesystem";
  if (parts.every((p) => p === '' || p === '.')) return 'names no file (it is the root directory)';
  return undefined;
}

/** A message prefixed with file:line:col when the position is known. */
export function at(pos: SourcePosition | undefined, message: string): string {
  return pos ? `${formatPosition(pos)}: ${message}` : message;
}

export function layoutError(pos: SourcePosition | undefined, message: string, hint?: string): KilnError {
  return new KilnError('bad-layout', at(pos, message), hint);
}
