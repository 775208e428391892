import { KilnError } from '../errors.js';
import { SubTarget, writeSkippingZeros, type BlockTarget } from '../fs/block-target.js';
import { MemoryTarget } from '../fs/memory-target.js';
import { ProgressMeter, zeroTarget, type WriteControl } from '../fs/write-control.js';
import { readContent } from '../fs/file-content.js';
import { alignUp, formatSize } from '../units.js';
import { encodeGpt, GPT_BACKUP_SECTORS, GPT_FIRST_USABLE } from './gpt.js';
import { derivedU32, derivedUuid } from '../fs/uuid.js';
import { NO_HOST, type DiskHost } from './disk-host.js';
import { at, layoutError, MAX_BYTES, MBR_MAX_BYTES, type DiskLayout, type PartitionSpec } from './disk-layout.js';
import { keyPosition, type ContentPlan, type PartitionFormat } from './formats/format.js';
import { formatNamed, formatNames } from './formats/index.js';
import { encodeMbr, SECTOR, type TableSector } from './mbr.js';
import { namedPartitionType } from './type-names.js';

/**
 * Whole-disk assembly: plan every partition (content, sizes, offsets, table) and refuse bad
 * layouts before a byte is written; then write each partition straight into its range of the
 * disk target (a sparse file or memory), and the table last. This file places partitions and
 * writes the table; what goes into a partition is its format's (formats/index.ts).
 *
 * No Node built-ins: what a layout names on the host is read through a DiskHost (disk-host.ts).
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

export interface PlannedPartition {
  spec: PartitionSpec;
  /** Number as Linux names it (sda1…; 5 and up are logical on MBR). */
  number: number;
  /** Bytes from the start of the disk. */
  start: number;
  size: number;
  /** The format that planned the content and writes it. */
  format: PartitionFormat;
  /** The format's plan: the tree or bytes to write, and what the format chose. */
  content: ContentPlan;
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

/** Extra room `size: auto` leaves: 10% of the minimum plus 1 MiB (files grow; ext4 wants slack). */
function autoMargin(minimum: number): number {
  return Math.ceil(minimum * 0.1) + MiB;
}

/** A KilnError of a partition's content (placing or writing it), named by the partition and its size's position. */
function contentError(p: PlannedPartition, e: unknown): unknown {
  if (!(e instanceof KilnError)) return e;
  return new KilnError(e.code, at(keyPosition(p.spec, 'size'), `partition ${p.number} (${p.spec.filesystem}): ${e.message}`), e.hint);
}

/**
 * Plans the disk: has each partition's format plan its content, sizes `auto` partitions,
 * places them aligned, and checks that everything fits and the table encodes. Nothing is written.
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
    if (!Number.isInteger(align) || align < SECTOR || align % SECTOR !== 0)
      throw layoutError(layout.positions?.keys.alignment, `alignment ${align} is not a positive multiple of 512 bytes`);
    const gpt = layout.table === 'gpt';
    const logicalFrom = !gpt && layout.partitions.length > 4 ? 3 : Infinity;
    const planned: PlannedPartition[] = [];
    for (const [i, spec] of layout.partitions.entries()) {
      const number = i < logicalFrom ? i + 1 : i + 2;
      const format = formatNamed(spec.filesystem);
      if (!format) throw layoutError(keyPosition(spec, 'filesystem'), `partition ${number}: unknown filesystem '${spec.filesystem}'`, `use ${formatNames()}`);
      const content = await format.plan(spec, { host, sourceDateEpoch: sde, number, disposers });
      const p: PlannedPartition = { spec, number, start: 0, size: 0, format, content, mbrType: 0, gptType: '', guid: '', minimumSize: 0 };
      // The minimum is searched only where it decides the size; for a given size the writer's
      // own check (before its first byte) refuses a tree that does not fit.
      if (spec.size === 'auto' || format.cheapMinimum) {
        try {
          p.minimumSize = format.minimumSize(content);
        } catch (e) {
          if (e instanceof KilnError) throw new KilnError(e.code, at(keyPosition(spec, 'source'), `partition ${number}: ${e.message}`), e.hint);
          throw e;
        }
      }
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
          throw layoutError(
            keyPosition(spec, 'start'),
            `partition ${p.number} starts at ${spec.start}, inside ${prev ? `partition ${prev.number} (which ends at ${prev.start + prev.size})` : 'the partition table area'}${i >= logicalFrom ? ' or the room for its extended boot record' : ''}`,
            'partitions must not overlap; move it or remove start',
          );
        }
        start = spec.start;
      }
      let size: number;
      if (spec.size === 'auto') size = alignUp(p.minimumSize + autoMargin(p.minimumSize), align);
      else if (spec.size === 'rest') {
        size = Math.floor((diskSize! - tail - start) / SECTOR) * SECTOR;
        if (size <= 0 && prev && prev.start + prev.size + tail > diskSize!) {
          // the partitions before it already overrun the disk: that is the fault, not this one
          throw layoutError(
            layout.positions?.keys.size,
            `the partitions before partition ${p.number} need ${formatSize(prev.start + prev.size + tail)} (${prev.start + prev.size + tail} bytes) but the disk size is ${formatSize(diskSize!)}`,
            'make the disk larger or the partitions smaller',
          );
        }
        if (size <= 0) throw layoutError(keyPosition(spec, 'size'), `no room is left for partition ${p.number} on a disk of ${formatSize(diskSize!)}`);
      } else size = spec.size;
      const room = diskSize === undefined ? undefined : Math.floor((diskSize - tail - firstStart) / SECTOR) * SECTOR;
      if (room !== undefined && size > room) {
        throw layoutError(
          keyPosition(spec, 'size'),
          `partition ${p.number} (${spec.filesystem}) is ${formatSize(size)} but the disk is ${formatSize(diskSize!)}: the partition does not fit the disk, which has room for ${formatSize(Math.max(room, 0))} of partitions`,
          'make the disk larger (size:) or the partition smaller',
        );
      }
      if (size < p.minimumSize) {
        throw layoutError(
          keyPosition(spec, 'size'),
          `partition ${p.number} (${spec.filesystem}) is ${formatSize(size)} but its content needs at least ${formatSize(p.minimumSize)} (${p.minimumSize} bytes)`,
          'make it larger or use size: auto',
        );
      }
      if (!Number.isSafeInteger(start + size) || start + size + tail > MAX_BYTES) {
        throw layoutError(
          keyPosition(spec, spec.size === 'rest' ? 'start' : 'size'),
          `partition ${p.number} would end at ${formatSize(start + size)}, beyond the 8 PiB (2^53 bytes) kiln can handle`,
          'make the partitions smaller',
        );
      }
      if (!gpt && start + size > MBR_MAX_BYTES) {
        throw layoutError(
          keyPosition(spec, spec.start !== undefined && spec.start >= MBR_MAX_BYTES ? 'start' : 'size'),
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
        throw layoutError(
          layout.positions?.keys.size,
          `the partitions need ${formatSize(end)} (${end} bytes) but the disk size is ${formatSize(diskSize)}`,
          'make the disk larger, the partitions smaller, or use size: auto',
        );
      }
      size = diskSize;
    }
    if (!gpt && size > MBR_MAX_BYTES) {
      throw layoutError(
        layout.positions?.keys.size ?? layout.positions?.keys.table,
        `the disk is ${formatSize(size)} (${size} bytes), beyond what an MBR table can address: at most 2^32 sectors of 512 bytes (2 TiB)`,
        'use table: gpt, or a smaller disk size',
      );
    }
    if (size > MAX_BYTES)
      throw layoutError(
        layout.positions?.keys.size,
        `the disk would be ${formatSize(size)}, beyond the 8 PiB (2^53 bytes) kiln can handle`,
        'make the disk smaller',
      );

    for (const p of planned) {
      try {
        p.format.place?.(p.content, { start: p.start, size: p.size });
      } catch (e) {
        throw contentError(p, e);
      }
    }
    const seed =
      layout.seed ??
      `kiln-disk:${layout.table}:${size}:${planned.map((p) => `${p.spec.filesystem}/${p.start}/${p.size}/${p.spec.label ?? ''}/${p.spec.uuid ?? ''}/${p.spec.name ?? ''}`).join(',')}`;
    planned.forEach((p, i) => {
      const types = p.format.types(p.content);
      p.guid = derivedUuid(`${seed}:partition:${i + 1}`).toUpperCase();
      p.gptType = typeof p.spec.type === 'string' ? p.spec.type.toUpperCase() : namedPartitionType(types.gpt, 'gpt');
      p.mbrType = typeof p.spec.type === 'number' ? p.spec.type : namedPartitionType(types.mbr, 'mbr');
      if (gpt && typeof p.spec.type === 'number') throw layoutError(keyPosition(p.spec, 'type'), 'a GPT partition type is a GUID, not a byte');
      if (!gpt && typeof p.spec.type === 'string') throw layoutError(keyPosition(p.spec, 'type'), 'an MBR partition type is a byte such as 0x83, not a GUID');
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
      const brought = planned.map((p) => p.format.bootCode?.(p.content)).find((b) => b !== undefined);
      if (brought) plan.bootCode = brought.subarray(0, 440);
    }
    try {
      tableSectors(plan); // throws on anything the table cannot describe
    } catch (e) {
      if (e instanceof KilnError)
        throw new KilnError(e.code, at(layout.positions?.keys.table ?? layout.positions?.at, `the ${layout.table.toUpperCase()} table: ${e.message}`), e.hint);
      throw e;
    }
    return plan;
  } catch (e) {
    dispose();
    throw e;
  }
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
    {
      signature: plan.diskSignature,
      diskSectors: sectors,
      alignment: (plan.layout.alignment ?? MiB) / SECTOR,
      ...(plan.bootCode && { bootCode: plan.bootCode }),
    },
  );
}

const OUTPUT_ERRORS = new Set(['disk-full', 'file-too-large', 'interrupted', 'io-error', 'bad-output', 'source-changed', 'no-source']);

/**
 * Writes a planned disk into `target` (exactly plan.size bytes): only what the plan says (its
 * timestamps and host files were settled by planDisk). A target not declared `zeroed` is zeroed first, so the disk is the same bytes either way (gaps, table areas and
 * every partition's unwritten space included).
 */
export function writeDisk(plan: DiskPlan, target: BlockTarget, options: WriteControl = {}): DiskResult {
  if (target.size !== plan.size) throw new KilnError('bad-target', `the disk target is ${target.size} bytes; the plan needs ${plan.size}`);
  const results: PartitionResult[] = [];
  const totals = plan.partitions.map((p) => p.format.totals(p.content));
  const meter = new ProgressMeter(
    options,
    totals.reduce((n, t) => n + t.bytes, 0),
    totals.reduce((n, t) => n + t.files, 0),
  );
  zeroTarget(target, plan.size, options.signal);
  let bytesBefore = 0;
  let filesBefore = 0;
  for (const [i, p] of plan.partitions.entries()) {
    // The disk was new or has just been zeroed, and partitions do not overlap: each range reads as zeros.
    const sub = new SubTarget(target, p.start, p.size, { zeroed: true });
    const control: WriteControl = { onProgress: (q) => meter.set(bytesBefore + q.bytesDone, filesBefore + q.filesDone) };
    if (options.signal) control.signal = options.signal;
    const r: PartitionResult = { number: p.number, start: p.start, size: p.size, filesystem: p.spec.filesystem, type: '' };
    if (p.spec.label !== undefined) r.label = p.spec.label;
    try {
      Object.assign(r, p.format.write(p.content, sub, control));
    } catch (e) {
      // The output disk's own troubles (full, interrupted, unwritable) and changed sources are not the layout's fault.
      throw e instanceof KilnError && OUTPUT_ERRORS.has(e.code) ? e : contentError(p, e);
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
