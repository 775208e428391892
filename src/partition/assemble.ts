import { KilnError, type SourcePosition } from '../errors.js';
import { SubTarget, writeSkippingZeros, type BlockTarget } from '../fs/block-target.js';
import { MemoryTarget } from '../fs/memory-target.js';
import { ProgressMeter, treeTotals, zeroTarget, type WriteControl } from '../fs/write-control.js';
import { BytesContent } from '../fs/bytes-content.js';
import { readContent, type FileContent } from '../fs/file-content.js';
import { planExt4, writeExt4 } from '../fs/ext4/writer.js';
import type { Ext4Options } from '../fs/ext4/options.js';
import { computeGeometry, planFat, writeFat, type FatOptions } from '../fs/fat/index.js';
import type { GeometryRequest } from '../fs/fat/geometry.js';
import { writeSwap, type SwapOptions } from '../fs/swap.js';
import { FileTree, makeInode, normalizePath, parentOf, type Inode } from '../fs/tree.js';
import { alignUp, formatSize } from '../units.js';
import { encodeGpt, GPT_BACKUP_SECTORS, GPT_FIRST_USABLE } from './gpt.js';
import { GPT_TYPES } from './gpt-entry.js';
import { derivedU32, derivedUuid } from '../fs/uuid.js';
import { at, layoutError, MAX_BYTES, MBR_MAX_BYTES, type DiskLayout, type PartitionSpec } from './disk-layout.js';
import { MBR_TYPES } from './mbr-entry.js';
import { encodeMbr, SECTOR, type TableSector } from './mbr.js';
import { installSyslinux } from './syslinux/install.js';
import type { SyslinuxBinaries } from './syslinux/install.js';
import { syslinuxConfig } from './boot-config.js';

/**
 * Whole-disk assembly: plan every partition (trees, sizes, offsets, table) and refuse bad
 * layouts before a byte is written; then write each filesystem straight into its range of
 * the disk target (a sparse file or memory), install SYSLINUX, and write the table last.
 *
 * No Node built-ins: what a layout names on the host (`source`, `files`, SYSLINUX binaries
 * and config, boot code as paths) is read through a DiskHost. Node's is `nodeDiskHost`
 * (disk-file.ts, which also writes disks into sparse files); without one, a layout must give
 * everything in code (`tree`, `content`, binaries and boot code as bytes).
 */

/**
 * Options of disk planning and writing. Progress (`onProgress`) counts the file content bytes
 * and files of every partition together (a raw partition is one file of its size); `signal`
 * aborts at the next file with KilnError('aborted'): `assembleDisk` then leaves no file.
 */
export interface AssembleOptions extends WriteControl {
  /** Clamp timestamps (seconds), as SOURCE_DATE_EPOCH does. */
  sourceDateEpoch?: number;
  /** Reads what the layout names by host path (default: none; such a layout is refused). */
  host?: DiskHost;
}

/** The host files a layout may name by path. */
export interface DiskHost {
  /** The tree of a host directory or tar archive; clean-ups (spools) are pushed to `disposers`. */
  sourceTree(source: string, spec: PartitionSpec, disposers: (() => void)[]): Promise<FileTree>;
  /** A host file as content (sized now, read when written). */
  file(path: string): FileContent;
  /** A host file's modification time in whole seconds. */
  mtime(path: string): number;
  /** A whole host file in memory (a syslinux.cfg given as is). */
  readFile(path: string): Uint8Array;
  /** ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin from a host directory. */
  syslinuxBinaries(dir: string): SyslinuxBinaries;
}

function refuse(what: string, path: string): never {
  throw new KilnError(
    'needs-host',
    `${what} '${path}' is a host path, and no host was given to read it`,
    "in Node pass { host: nodeDiskHost } (kiln-image/node); elsewhere give the partition's tree, content, SYSLINUX binaries and boot code in code",
  );
}

/** The host of a layout given wholly in code (browsers): every host path is refused. */
export const NO_HOST: DiskHost = {
  sourceTree: (source) => refuse('source', source),
  file: (path) => refuse('file', path),
  mtime: (path) => refuse('file', path),
  readFile: (path) => refuse('file', path),
  syslinuxBinaries: (dir) => refuse('syslinux binaries directory', dir),
};

export interface PlannedPartition {
  spec: PartitionSpec;
  /** Number as Linux names it (sda1…; 5 and up are logical on MBR). */
  number: number;
  /** Bytes from the start of the disk. */
  start: number;
  size: number;
  tree?: FileTree;
  raw?: FileContent;
  syslinux?: { binaries: SyslinuxBinaries; directory: string };
  /** MBR type byte / GPT type GUID and unique GUID (GPT). */
  mbrType: number;
  gptType: string;
  guid: string;
  /** What the content needs at least (bytes), for messages. */
  minimumSize: number;
}

export interface DiskPlan {
  layout: DiskLayout;
  size: number;
  partitions: PlannedPartition[];
  diskSignature: number;
  diskGuid: string;
  bootCode?: Uint8Array;
  /** Removes spooled tar data. */
  dispose(): void;
}

export interface PartitionResult {
  number: number;
  start: number;
  size: number;
  filesystem: string;
  label?: string;
  /** Filesystem UUID (ext4, swap) or volume id (FAT, as XXXX-XXXX). */
  uuid?: string;
  /** MBR type byte or GPT type GUID. */
  type: string;
  guid?: string;
  fatType?: number;
}

export interface DiskResult {
  size: number;
  table: 'mbr' | 'gpt';
  /** MBR disk signature (hex) or GPT disk GUID. */
  id: string;
  partitions: PartitionResult[];
}

const MiB = 1024 * 1024;

function posOf(spec: PartitionSpec, key?: string): SourcePosition | undefined {
  return (key && spec.positions?.keys[key]) || spec.positions?.at;
}

/** A copy of a tree (inodes shallow-copied, hard links kept), so a caller's tree is never changed. */
function copyTree(src: FileTree): FileTree {
  const out = new FileTree();
  const seen = new Map<Inode, string>();
  for (const [path, inode] of src.walk()) {
    if (path === '') {
      Object.assign(out.root, { ...inode });
      continue;
    }
    const first = seen.get(inode);
    if (first !== undefined) out.link(path, first);
    else {
      out.add(path, { ...inode });
      seen.set(inode, path);
    }
  }
  return out;
}

function putFile(tree: FileTree, path: string, content: FileContent, mtimeSec: number): void {
  const p = normalizePath(path);
  tree.mkdirp(parentOf(p), { mode: 0o755, mtime: { sec: mtimeSec, nsec: 0 } });
  const inode = makeInode('file', 0o644, { mtime: { sec: mtimeSec, nsec: 0 } });
  inode.content = content;
  const old = tree.get(p);
  if (old && old.type !== 'file') tree.remove(p);
  tree.set(p, inode);
}

async function sourceTree(spec: PartitionSpec, host: DiskHost, disposers: (() => void)[]): Promise<FileTree> {
  if (spec.tree) return copyTree(spec.tree);
  if (!spec.source) return new FileTree();
  return host.sourceTree(spec.source, spec, disposers);
}

function addFiles(tree: FileTree, spec: PartitionSpec, sde: number | undefined, hostFiles: DiskHost): void {
  for (const [dest, host] of Object.entries(spec.files ?? {})) {
    const content = hostFiles.file(host);
    let mtime = sde;
    if (mtime === undefined) {
      try {
        mtime = hostFiles.mtime(host);
      } catch (e) {
        if (e instanceof KilnError) throw e;
        throw new KilnError('no-source', `file for '${dest}' ('${host}') cannot be read: ${(e as Error).message}`);
      }
    }
    try {
      putFile(tree, dest, content, mtime);
    } catch (e) {
      if (e instanceof KilnError) throw new KilnError(e.code, `file destination '${dest}': ${e.message}`, e.hint);
      throw e;
    }
  }
}

function fatOptions(spec: PartitionSpec, sde: number | undefined, hiddenSectors?: number): FatOptions {
  const o: FatOptions = {};
  if (spec.fatType) o.fatType = spec.fatType;
  if (spec.label !== undefined) o.label = spec.label;
  if (spec.uuid) o.volumeId = parseInt(spec.uuid.replace('-', ''), 16);
  if (spec.clusterSize) o.clusterSize = spec.clusterSize;
  if (sde !== undefined) o.sourceDateEpoch = sde;
  if (hiddenSectors !== undefined) o.hiddenSectors = hiddenSectors;
  return o;
}

function ext4Options(spec: PartitionSpec, sde: number | undefined): Ext4Options {
  const o: Ext4Options = {};
  if (spec.label !== undefined) o.label = spec.label;
  if (spec.uuid) o.uuid = spec.uuid;
  if (spec.inodeRatio) o.inodeRatio = spec.inodeRatio;
  if (sde !== undefined) o.sourceDateEpoch = sde;
  return o;
}

function swapOptions(spec: PartitionSpec): SwapOptions {
  const o: SwapOptions = {};
  if (spec.label !== undefined) o.label = spec.label;
  if (spec.uuid) o.uuid = spec.uuid;
  return o;
}

/** A stand-in of a given size, for planning room for files the installer adds later. */
function placeholder(size: number): FileContent {
  return new BytesContent(new Uint8Array(size));
}

/** What a partition's content needs (bytes), before alignment. */
function contentMinimum(p: PlannedPartition, sde: number | undefined): number {
  const spec = p.spec;
  const where = (e: unknown): never => {
    if (e instanceof KilnError) throw new KilnError(e.code, `${posOf(spec, 'source') ? `${formatPos(posOf(spec, 'source'))}: ` : ''}partition ${p.number}: ${e.message}`, e.hint);
    throw e;
  };
  try {
    switch (spec.filesystem) {
      case 'fat': {
        const tree = p.tree!;
        const added: string[] = [];
        if (p.syslinux) {
          // Room for LDLINUX.SYS (+ its two ADV sectors) and LDLINUX.C32, which the installer adds.
          const dir = normalizePath(p.syslinux.directory);
          const sysPath = dir ? `${dir}/ldlinux.sys` : 'ldlinux.sys';
          const c32Path = dir ? `${dir}/ldlinux.c32` : 'ldlinux.c32';
          for (const [path, size] of [
            [sysPath, alignUp(p.syslinux.binaries.sys.length, SECTOR) + 2 * SECTOR],
            [c32Path, p.syslinux.binaries.c32.length],
          ] as const) {
            if (!tree.has(path)) {
              putFile(tree, path, placeholder(size), 0);
              added.push(path);
            }
          }
        }
        try {
          return planFat(tree, fatOptions(spec, sde)).minimumSize;
        } finally {
          for (const path of added) tree.remove(path);
        }
      }
      case 'ext4':
        return planExt4(p.tree!, ext4Options(spec, sde)).minimumSize;
      case 'swap':
        return 10 * 4096;
      case 'raw':
        return p.raw ? alignUp(p.raw.size, SECTOR) : SECTOR;
    }
  } catch (e) {
    return where(e);
  }
}

/** Runs `fn`; a KilnError it throws gets the file:line:col of the spec's `key` and the partition number. */
async function withPosition<T>(spec: PartitionSpec, key: string, number: number, fn: () => T | Promise<T>): Promise<T> {
  return withPositionAt(posOf(spec, key), number, fn);
}

async function withPositionAt<T>(pos: SourcePosition | undefined, number: number, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof KilnError && !/^\S+:\d+:\d+: /.test(e.message)) throw new KilnError(e.code, at(pos, `partition ${number}: ${e.message}`), e.hint);
    throw e;
  }
}

function formatPos(pos: SourcePosition | undefined): string {
  return pos ? `${pos.file}:${pos.line}:${pos.col}` : '';
}

/** Extra room `size: auto` leaves: 10% of the minimum plus 1 MiB (files grow; ext4 wants slack). */
function autoMargin(minimum: number): number {
  return Math.ceil(minimum * 0.1) + MiB;
}

function defaultMbrType(spec: PartitionSpec, fatType: number | undefined): number {
  switch (spec.filesystem) {
    case 'fat':
      return fatType === 32 ? MBR_TYPES.fat32Lba : fatType === 16 ? MBR_TYPES.fat16Lba : MBR_TYPES.fat12;
    case 'swap':
      return MBR_TYPES.linuxSwap;
    default:
      return MBR_TYPES.linux;
  }
}

function defaultGptType(spec: PartitionSpec): string {
  switch (spec.filesystem) {
    case 'fat':
      return GPT_TYPES.microsoftBasicData;
    case 'swap':
      return GPT_TYPES.linuxSwap;
    default:
      return GPT_TYPES.linuxFilesystem;
  }
}

/**
 * Plans the disk: builds each partition's tree, sizes `auto` partitions, places them aligned,
 * and checks that everything fits and the table encodes. Nothing is written.
 */
export async function planDisk(layout: DiskLayout, options: AssembleOptions = {}): Promise<DiskPlan> {
  const sde = options.sourceDateEpoch;
  const host = options.host ?? NO_HOST;
  const disposers: (() => void)[] = [];
  const dispose = (): void => {
    for (const d of disposers.splice(0).reverse()) d();
  };
  try {
    const align = layout.alignment ?? MiB;
    if (!Number.isInteger(align) || align < SECTOR || align % SECTOR !== 0) throw layoutError(layout.positions?.keys.alignment, `alignment ${align} is not a positive multiple of 512 bytes`);
    const gpt = layout.table === 'gpt';
    const logicalFrom = !gpt && layout.partitions.length > 4 ? 3 : Infinity;
    const planned: PlannedPartition[] = [];
    for (const [i, spec] of layout.partitions.entries()) {
      const number = i < logicalFrom ? i + 1 : i + 2;
      const p: PlannedPartition = { spec, number, start: 0, size: 0, mbrType: 0, gptType: '', guid: '', minimumSize: 0 };
      if (spec.filesystem === 'fat' || spec.filesystem === 'ext4') {
        const tree = await withPosition(spec, 'source', p.number, () => sourceTree(spec, host, disposers));
        await withPosition(spec, 'files', p.number, () => addFiles(tree, spec, sde, host));
        p.tree = tree;
      }
      if (spec.filesystem === 'raw') {
        if (spec.content) p.raw = spec.content;
        else if (spec.source) p.raw = await withPosition(spec, 'source', p.number, () => host.file(spec.source!));
      }
      if (spec.syslinux) {
        const sl = spec.syslinux;
        const slPos = (key: string): SourcePosition | undefined => sl.positions?.keys[key] ?? posOf(spec, 'syslinux');
        const binaries = typeof sl.binaries === 'string' ? await withPositionAt(slPos('binaries'), p.number, () => host.syslinuxBinaries(sl.binaries as string)) : sl.binaries;
        p.syslinux = { binaries, directory: sl.directory };
        const cfg = await withPositionAt(slPos(sl.config ? 'config' : 'kernel'), p.number, () => syslinuxConfig(sl, (path) => host.readFile(path)));
        const dir = normalizePath(spec.syslinux.directory);
        putFile(p.tree!, dir ? `${dir}/syslinux.cfg` : 'syslinux.cfg', new BytesContent(cfg), sde ?? 0);
      }
      // The minimum is searched only where it decides the size; for a given size the writer's
      // own check (before its first byte) refuses a tree that does not fit.
      const cheap = spec.filesystem === 'swap' || spec.filesystem === 'raw';
      if (spec.size === 'auto' || cheap) p.minimumSize = contentMinimum(p, sde);
      planned.push(p);
    }

    // Place partitions in order, each at the next aligned offset (or where `start` says).
    const diskSize = layout.size === 'auto' ? undefined : layout.size;
    const tail = gpt ? GPT_BACKUP_SECTORS * SECTOR : 0;
    let cursor = gpt ? alignUp(GPT_FIRST_USABLE * SECTOR, align) : align;
    const firstStart = cursor;
    let prev: PlannedPartition | undefined;
    for (const [i, p] of planned.entries()) {
      const spec = p.spec;
      if (i >= logicalFrom) cursor += align; // room for the logical partition's EBR
      let start = alignUp(cursor, align);
      if (spec.start !== undefined) {
        if (spec.start < cursor) {
          throw layoutError(posOf(spec, 'start'), `partition ${p.number} starts at ${spec.start}, inside ${prev ? `partition ${prev.number} (which ends at ${prev.start + prev.size})` : 'the partition table area'}${i >= logicalFrom ? ' or the room for its extended boot record' : ''}`, 'partitions must not overlap; move it or remove start');
        }
        start = spec.start;
      }
      let size: number;
      if (spec.size === 'auto') size = alignUp(p.minimumSize + autoMargin(p.minimumSize), align);
      else if (spec.size === 'rest') {
        size = Math.floor((diskSize! - tail - start) / SECTOR) * SECTOR;
        if (size <= 0 && prev && prev.start + prev.size + tail > diskSize!) {
          // the partitions before it already overrun the disk: that is the fault, not this one
          throw layoutError(layout.positions?.keys.size, `the partitions before partition ${p.number} need ${formatSize(prev.start + prev.size + tail)} (${prev.start + prev.size + tail} bytes) but the disk size is ${formatSize(diskSize!)}`, 'make the disk larger or the partitions smaller');
        }
        if (size <= 0) throw layoutError(posOf(spec, 'size'), `no room is left for partition ${p.number} on a disk of ${formatSize(diskSize!)}`);
      } else size = spec.size;
      const room = diskSize === undefined ? undefined : Math.floor((diskSize - tail - firstStart) / SECTOR) * SECTOR;
      if (room !== undefined && size > room) {
        throw layoutError(
          posOf(spec, 'size'),
          `partition ${p.number} (${spec.filesystem}) is ${formatSize(size)} but the disk is ${formatSize(diskSize!)}: the partition does not fit the disk, which has room for ${formatSize(Math.max(room, 0))} of partitions`,
          'make the disk larger (size:) or the partition smaller',
        );
      }
      if (size < p.minimumSize) {
        throw layoutError(posOf(spec, 'size'), `partition ${p.number} (${spec.filesystem}) is ${formatSize(size)} but its content needs at least ${formatSize(p.minimumSize)} (${p.minimumSize} bytes)`, "make it larger or use size: auto");
      }
      if (!Number.isSafeInteger(start + size) || start + size + tail > MAX_BYTES) {
        throw layoutError(posOf(spec, spec.size === 'rest' ? 'start' : 'size'), `partition ${p.number} would end at ${formatSize(start + size)}, beyond the 8 PiB (2^53 bytes) kiln can handle`, 'make the partitions smaller');
      }
      if (!gpt && start + size > MBR_MAX_BYTES) {
        throw layoutError(
          posOf(spec, spec.start !== undefined && spec.start >= MBR_MAX_BYTES ? 'start' : 'size'),
          `partition ${p.number} would end at ${formatSize(start + size)} (sector ${(start + size) / SECTOR}), beyond what an MBR table can address: at most 2^32 sectors of 512 bytes (2 TiB)`,
          'use table: gpt, or make the partitions smaller',
        );
      }
      p.start = start;
      p.size = size;
      cursor = start + size;
      prev = p;
    }
    const end = cursor + tail;
    let size: number;
    if (diskSize === undefined) size = alignUp(end, align);
    else {
      if (end > diskSize) {
        throw layoutError(layout.positions?.keys.size, `the partitions need ${formatSize(end)} (${end} bytes) but the disk size is ${formatSize(diskSize)}`, 'make the disk larger, the partitions smaller, or use size: auto');
      }
      size = diskSize;
    }
    if (!gpt && size > MBR_MAX_BYTES) {
      throw layoutError(layout.positions?.keys.size ?? layout.positions?.keys.table, `the disk is ${formatSize(size)} (${size} bytes), beyond what an MBR table can address: at most 2^32 sectors of 512 bytes (2 TiB)`, 'use table: gpt, or a smaller disk size');
    }
    if (size > MAX_BYTES) throw layoutError(layout.positions?.keys.size, `the disk would be ${formatSize(size)}, beyond the 8 PiB (2^53 bytes) kiln can handle`, 'make the disk smaller');

    const seed = layout.seed ?? `kiln-disk:${layout.table}:${size}:${planned.map((p) => `${p.spec.filesystem}/${p.start}/${p.size}/${p.spec.label ?? ''}/${p.spec.uuid ?? ''}/${p.spec.name ?? ''}`).join(',')}`;
    planned.forEach((p, i) => {
      p.guid = derivedUuid(`${seed}:partition:${i + 1}`).toUpperCase();
      p.gptType = typeof p.spec.type === 'string' ? p.spec.type.toUpperCase() : defaultGptType(p.spec);
      p.mbrType = typeof p.spec.type === 'number' ? p.spec.type : defaultMbrType(p.spec, p.spec.filesystem === 'fat' ? planFatType(p) : undefined);
      if (gpt && typeof p.spec.type === 'number') throw layoutError(posOf(p.spec, 'type'), 'a GPT partition type is a GUID, not a byte');
      if (!gpt && typeof p.spec.type === 'string') throw layoutError(posOf(p.spec, 'type'), 'an MBR partition type is a byte such as 0x83, not a GUID');
    });
    const plan: DiskPlan = {
      layout,
      size,
      partitions: planned,
      diskSignature: layout.diskSignature ?? derivedU32(`${seed}:mbr`),
      diskGuid: (layout.diskGuid ?? derivedUuid(`${seed}:disk`)).toUpperCase(),
      dispose,
    };
    const bootCode = typeof layout.bootCode === 'string' ? readContent(host.file(layout.bootCode)) : layout.bootCode;
    if (bootCode) {
      plan.bootCode = bootCode.length > 440 ? bootCode.subarray(0, 440) : bootCode;
      if (bootCode.length > 446) throw layoutError(layout.positions?.keys['boot-code'], `boot code is ${bootCode.length} bytes; at most 440 fit in an MBR`);
    } else if (!gpt) {
      const withSyslinux = planned.find((p) => p.syslinux);
      if (withSyslinux) plan.bootCode = withSyslinux.syslinux!.binaries.mbr.subarray(0, 440);
    }
    try {
      tableSectors(plan); // throws on anything the table cannot describe
    } catch (e) {
      if (e instanceof KilnError) throw new KilnError(e.code, at(layout.positions?.keys.table ?? layout.positions?.at, `the ${layout.table.toUpperCase()} table: ${e.message}`), e.hint);
      throw e;
    }
    return plan;
  } catch (e) {
    dispose();
    throw e;
  }
}

/** The FAT type the writer will choose for this partition's final size (for the type byte). */
function planFatType(p: PlannedPartition): number {
  const req: GeometryRequest = {};
  if (p.spec.fatType) req.fatType = p.spec.fatType;
  if (p.spec.clusterSize) req.sectorsPerCluster = p.spec.clusterSize / SECTOR;
  const g = computeGeometry(p.size / SECTOR, req);
  if ('error' in g) throw layoutError(posOf(p.spec, 'size'), `partition ${p.number} (fat): ${g.error}`, 'make the partition larger, or leave the FAT type to be chosen by size');
  return g.fatType;
}

function tableSectors(plan: DiskPlan): TableSector[] {
  const sectors = plan.size / SECTOR;
  const ps = plan.partitions;
  if (plan.layout.table === 'gpt') {
    return encodeGpt(
      ps.map((p) => ({
        start: p.start / SECTOR,
        sectors: p.size / SECTOR,
        typeGuid: p.gptType,
        guid: p.guid,
        ...(p.spec.name !== undefined && { name: p.spec.name }),
        ...(p.spec.bootable && { legacyBootable: true }),
      })),
      { diskSectors: sectors, diskGuid: plan.diskGuid, ...(plan.bootCode && { bootCode: plan.bootCode }) },
    );
  }
  return encodeMbr(
    ps.map((p) => ({ start: p.start / SECTOR, sectors: p.size / SECTOR, type: p.mbrType, bootable: !!p.spec.bootable })),
    { signature: plan.diskSignature, diskSectors: sectors, alignment: (plan.layout.alignment ?? MiB) / SECTOR, ...(plan.bootCode && { bootCode: plan.bootCode }) },
  );
}

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

const OUTPUT_ERRORS = new Set(['disk-full', 'file-too-large', 'interrupted', 'io-error', 'bad-output', 'source-changed', 'no-source']);

/** What a partition's writer counts as progress (as the writers count it themselves). */
function partitionTotals(p: PlannedPartition): { bytes: number; files: number } {
  switch (p.spec.filesystem) {
    case 'fat':
      return treeTotals(p.tree!, true);
    case 'ext4':
      return treeTotals(p.tree!);
    case 'raw':
      return p.raw ? { bytes: p.raw.size, files: 1 } : { bytes: 0, files: 0 };
    default:
      return { bytes: 0, files: 0 };
  }
}

/**
 * Writes a planned disk into `target` (exactly plan.size bytes). A target not declared
 * `zeroed` is zeroed first, so the disk is the same bytes either way (gaps, table areas and
 * every partition's unwritten space included).
 */
export function writeDisk(plan: DiskPlan, target: BlockTarget, options: AssembleOptions = {}): DiskResult {
  if (target.size !== plan.size) throw new KilnError('bad-target', `the disk target is ${target.size} bytes; the plan needs ${plan.size}`);
  const sde = options.sourceDateEpoch;
  const results: PartitionResult[] = [];
  const totals = plan.partitions.map(partitionTotals);
  const meter = new ProgressMeter(options, totals.reduce((n, t) => n + t.bytes, 0), totals.reduce((n, t) => n + t.files, 0));
  zeroTarget(target, plan.size, options.signal);
  let bytesBefore = 0;
  let filesBefore = 0;
  for (const [i, p] of plan.partitions.entries()) {
    // The disk was new or has just been zeroed, and partitions do not overlap: each range reads as zeros.
    const sub = new SubTarget(target, p.start, p.size, { zeroed: true });
    const control: WriteControl = { onProgress: (q) => meter.set(bytesBefore + q.bytesDone, filesBefore + q.filesDone) };
    if (options.signal) control.signal = options.signal;
    const spec = p.spec;
    const r: PartitionResult = { number: p.number, start: p.start, size: p.size, filesystem: spec.filesystem, type: '' };
    if (spec.label !== undefined) r.label = spec.label;
    try {
      writePartition(p, sub, r, sde, control);
    } catch (e) {
      // The output disk's own troubles (full, interrupted, unwritable) and changed sources are not the layout's fault.
      if (e instanceof KilnError && !OUTPUT_ERRORS.has(e.code)) throw new KilnError(e.code, at(posOf(spec, 'size'), `partition ${p.number} (${spec.filesystem}): ${e.message}`), e.hint);
      throw e;
    }
    if (plan.layout.table === 'gpt') {
      r.type = p.gptType;
      r.guid = p.guid;
    } else r.type = `0x${p.mbrType.toString(16).padStart(2, '0')}`;
    results.push(r);
    bytesBefore += totals[i]!.bytes;
    filesBefore += totals[i]!.files;
    meter.set(bytesBefore, filesBefore);
  }
  for (const s of tableSectors(plan)) writeSkippingZeros(target, s.lba * SECTOR, s.bytes);
  meter.finish();
  return {
    size: plan.size,
    table: plan.layout.table,
    id: plan.layout.table === 'gpt' ? plan.diskGuid : `0x${plan.diskSignature.toString(16).padStart(8, '0')}`,
    partitions: results,
  };
}

function writePartition(p: PlannedPartition, sub: BlockTarget, r: PartitionResult, sde: number | undefined, control: WriteControl): void {
  const spec = p.spec;
  switch (spec.filesystem) {
    case 'fat': {
      const res = writeFat(p.tree!, sub, { ...fatOptions(spec, sde, p.start / SECTOR), ...control });
      r.fatType = res.fatType;
      r.uuid = `${hex8(res.volumeId).slice(0, 4)}-${hex8(res.volumeId).slice(4)}`;
      if (typeof spec.type !== 'number') p.mbrType = defaultMbrType(spec, res.fatType);
      if (p.syslinux) {
        const b = p.syslinux.binaries;
        installSyslinux(sub, { bss: b.bss, sys: b.sys, c32: b.c32, directory: p.syslinux.directory, ...(sde !== undefined && { mtime: sde }) });
      }
      break;
    }
    case 'ext4':
      r.uuid = writeExt4(p.tree!, sub, { ...ext4Options(spec, sde), ...control }).uuid;
      break;
    case 'swap':
      r.uuid = writeSwap(sub, { ...swapOptions(spec), ...control }).uuid;
      break;
    case 'raw':
      if (p.raw) copyContent(p.raw, sub, control);
      break;
  }
}

function copyContent(content: FileContent, target: BlockTarget, control: WriteControl): void {
  const meter = new ProgressMeter(control, content.size, 1);
  const reader = content.open();
  try {
    const chunk = new Uint8Array(4 * MiB);
    for (let off = 0; off < content.size; off += chunk.length) {
      const n = reader.read(off, chunk.subarray(0, Math.min(chunk.length, content.size - off)));
      writeSkippingZeros(target, off, chunk.subarray(0, n));
      meter.bytes(n);
    }
  } finally {
    reader.close();
  }
  meter.finish();
}

/** Assembles the disk in memory (tests, browsers, small images). */
export async function assembleDiskToMemory(layout: DiskLayout, options: AssembleOptions = {}): Promise<{ bytes: Uint8Array; result: DiskResult }> {
  const plan = await planDisk(layout, options);
  try {
    const target = new MemoryTarget(plan.size);
    const result = writeDisk(plan, target, options);
    return { bytes: target.bytes, result };
  } finally {
    plan.dispose();
  }
}
