import { KilnError, type SourcePosition } from '../../errors.js';
import type { BlockSource } from '../../fs/block-target.js';
import { BytesContent } from '../../fs/bytes-content.js';
import { SECTOR, type FatType } from '../../fs/fat/boot-sector.js';
import { computeGeometry, type FatGeometry } from '../../fs/fat/geometry.js';
import { layoutTree } from '../../fs/fat/layout.js';
import { TreeSnapshot } from '../../fs/tree-snapshot.js';
import { normalizeLabel, planFat, writeFat, type FatOptions } from '../../fs/fat/writer.js';
import { FileTree, normalizePath } from '../../fs/tree.js';
import { treeTotals } from '../../fs/write-control.js';
import { alignUp } from '../../units.js';
import { syslinuxConfig } from '../boot-config.js';
import { controlCharacter, type PartitionSpec, type SyslinuxSpec } from '../disk-layout.js';
import { installSyslinux, type SyslinuxBinaries } from '../syslinux/install.js';
import { ReadBackTarget } from '../syslinux/read-back.js';
import { buildUki, readUkiSpec, type UkiSpec } from '../uefi/uki-layout.js';
import { keyPosition, positioned, type ContentPlan, type LayoutNode, type LayoutReader, type PartitionFormat } from './format.js';
import { partitionTree, putFile } from './partition-tree.js';

/** FAT12/16/32, with SYSLINUX installed when the layout asks for it. */

/** Bytes of a FAT partition's writes kept for the SYSLINUX installer to read back: its metadata, most of the time. */
const READ_BACK_BUDGET = 1 << 20;

declare module '../disk-layout.js' {
  interface PartitionSpec {
    /** FAT: force 12, 16 or 32 (layout key `fat`). */
    fatType?: FatType;
    /** FAT: bytes per cluster (`cluster-size`). */
    clusterSize?: number;
    /** FAT: install SYSLINUX (`syslinux`). */
    syslinux?: SyslinuxSpec;
    /** FAT: build a unified kernel image into it (`uki`; uefi/uki-layout.ts). */
    uki?: UkiSpec;
  }
}

export interface FatPlan extends ContentPlan {
  tree: FileTree;
  options: FatOptions;
  syslinux?: { binaries: SyslinuxBinaries; directory: string; mtime: number | undefined };
  /** Whether it holds a unified kernel image: an EFI system partition by default on GPT. */
  uki: boolean;
  /** Settled once placed: the BPB's hidden sectors (the partition's offset) and the FAT type its size gives. */
  hiddenSectors?: number;
  fatType?: FatType;
}

const SYSLINUX_KEYS = ['binaries', 'directory', 'config', 'kernel', 'initrd', 'cmdline', 'serial', 'timeout'] as const;
const SYSLINUX_BINARIES = ['ldlinux.bss', 'ldlinux.sys', 'ldlinux.c32', 'mbr.bin'];

function readSyslinux(r: LayoutReader, node: LayoutNode): SyslinuxSpec {
  const { map, positions } = r.entries(node, 'syslinux', SYSLINUX_KEYS);
  if (!map.has('binaries')) r.fail(node, "syslinux needs 'binaries': the directory holding ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin");
  const binaries = r.hostPath(map.get('binaries'), 'syslinux binaries', 'dir');
  for (const name of SYSLINUX_BINARIES) {
    if (!r.hostHas(binaries, name))
      r.fail(map.get('binaries'), `syslinux binaries directory has no ${name}`, `it must hold ${SYSLINUX_BINARIES.join(', ')} from one SYSLINUX build`);
  }
  let directory = map.has('directory') ? r.string(map.get('directory'), 'syslinux directory') : '/syslinux';
  if (!directory.startsWith('/')) directory = `/${directory}`;
  if (directory.length > 255) r.fail(map.get('directory'), 'syslinux directory is longer than 255 bytes');
  if (map.has('directory')) {
    const ctl = controlCharacter(directory);
    if (ctl) r.fail(map.get('directory'), `syslinux directory contains ${ctl}`, 'write a plain path inside the FAT partition, e.g. /syslinux');
    if (directory.split('/').includes('..'))
      r.fail(
        map.get('directory'),
        `syslinux directory '${directory}' has a '..' component, which would leave the partition`,
        'write a path inside the FAT partition, e.g. /syslinux or / (the root)',
      );
  }
  const spec: SyslinuxSpec = { binaries, directory, positions };
  if (map.has('config')) spec.config = r.hostPath(map.get('config'), 'syslinux config', 'file');
  for (const k of ['kernel', 'initrd', 'cmdline'] as const) {
    if (!map.has(k)) continue;
    const text = r.string(map.get(k), `syslinux ${k}`);
    // Each value becomes part of one syslinux.cfg line: a line break would add directives.
    const ctl = controlCharacter(text);
    if (ctl)
      r.fail(
        map.get(k),
        `syslinux ${k} contains ${ctl}; it would break the syslinux.cfg line it goes into`,
        `write the ${k} on one line without control characters${k === 'cmdline' ? ' (separate kernel arguments with spaces)' : ''}`,
      );
    if (k !== 'cmdline' && /\s/.test(text))
      r.fail(map.get(k), `syslinux ${k} '${text}' contains a space; SYSLINUX would read only the part before it`, `name the ${k} by a path without spaces`);
    if (k !== 'cmdline' && text === '') r.fail(map.get(k), `syslinux ${k} is empty`, `name the ${k} file, e.g. /vmlinuz`);
    spec[k] = text;
  }
  if (map.has('serial')) {
    const v = r.scalar(map.get('serial'));
    spec.serial = v === true ? 115200 : r.int(map.get('serial'), 'syslinux serial (baud rate)', 1, 4_000_000);
  }
  if (map.has('timeout')) spec.timeout = r.int(map.get('timeout'), 'syslinux timeout (tenths of a second)', 0, 36000);
  if (spec.config && (spec.kernel || spec.cmdline || spec.initrd)) r.fail(map.get('config'), "give either 'config' or kernel/initrd/cmdline, not both");
  if (!spec.config && !spec.kernel) r.fail(node, "syslinux needs 'kernel' (path of the kernel in this partition) or a 'config' file");
  return spec;
}

function fatOptions(spec: PartitionSpec, sourceDateEpoch: number | undefined): FatOptions {
  const o: FatOptions = {};
  if (spec.fatType) o.fatType = spec.fatType;
  if (spec.label !== undefined) o.label = spec.label;
  if (spec.uuid) o.volumeId = parseInt(spec.uuid.replace('-', ''), 16);
  if (spec.clusterSize) o.clusterSize = spec.clusterSize;
  if (sourceDateEpoch !== undefined) o.sourceDateEpoch = sourceDateEpoch;
  return o;
}

/**
 * The geometry the FAT writer gives a volume of `size` bytes with these options (and a root
 * directory of `rootEntries` entries, which can turn FAT16 into FAT12), or why none fits.
 */
export function fatGeometry(size: number, options: Pick<FatOptions, 'fatType' | 'clusterSize'>, rootEntries?: number): FatGeometry | { error: string } {
  return computeGeometry(Math.min(Math.floor(size / SECTOR), 0xffffffff), {
    ...(rootEntries !== undefined && { minRootEntries: rootEntries }),
    ...(options.fatType && { fatType: options.fatType }),
    ...(options.clusterSize && { sectorsPerCluster: options.clusterSize / SECTOR }),
  });
}

/** A FAT boot sector: x86 jump, a sane BPB, and the type string where mkfs.fat puts it. */
function looksLikeFat(source: BlockSource): boolean {
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

/**
 * The root directory entries the writer lays out for `tree` (long names take several). Names
 * alone decide them, so only the root's children are laid out, not the whole tree.
 */
function rootEntries(tree: FileTree, options: FatOptions): number {
  const root = new FileTree();
  for (const name of tree.children('')) root.add(name, { ...tree.get(name)! });
  return layoutTree(TreeSnapshot.of(root), { hasLabel: normalizeLabel(options.label ?? '') !== undefined, specialFiles: options.specialFiles ?? 'error' }).root
    .slots;
}

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

export const fatFormat: PartitionFormat<FatPlan, 'fat'> = {
  name: 'fat',
  keys: {
    fat: (r, node, spec) => {
      const t = r.int(node, 'fat', 12, 32);
      if (t === 12 || t === 16 || t === 32) spec.fatType = t;
      else r.fail(node, 'fat must be 12, 16 or 32');
    },
    'cluster-size': (r, node, spec) => {
      const c = r.size(node, 'cluster-size');
      if (typeof c === 'number' && c >= 512 && c <= 65536 && (c & (c - 1)) === 0) spec.clusterSize = c;
      else r.fail(node, 'cluster-size must be a power of two from 512 bytes to 64K');
    },
    syslinux: (r, node, spec) => {
      spec.syslinux = readSyslinux(r, node);
    },
    uki: (r, node, spec) => {
      spec.uki = readUkiSpec(r, node);
    },
  },
  labelBytes: 11,
  uuid: { valid: (text) => /^[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}$/.test(text), hint: 'a FAT volume id is 8 hex digits, e.g. 1234-ABCD' },
  source: 'tree',
  detect: looksLikeFat,

  async plan(spec, context) {
    const tree = await partitionTree(spec, context);
    const sde = context.sourceDateEpoch;
    const plan: FatPlan = { tree, options: fatOptions(spec, sde), uki: spec.uki !== undefined };
    const uki = spec.uki;
    if (uki) {
      const built = await positioned(keyPosition(spec, 'uki'), context.number, () => buildUki(uki, context.host));
      putFile(tree, built.path, new BytesContent(built.bytes), sde ?? 0);
    }
    const sl = spec.syslinux;
    if (sl) {
      const slPos = (key: string): SourcePosition | undefined => sl.positions?.keys[key] ?? keyPosition(spec, 'syslinux');
      const binaries =
        typeof sl.binaries === 'string'
          ? await positioned(slPos('binaries'), context.number, () => context.host.syslinuxBinaries(sl.binaries as string))
          : sl.binaries;
      plan.syslinux = { binaries, directory: sl.directory, mtime: sde };
      const cfg = await positioned(slPos(sl.config ? 'config' : 'kernel'), context.number, () => syslinuxConfig(sl, (path) => context.host.readFile(path)));
      const dir = normalizePath(sl.directory);
      putFile(tree, dir ? `${dir}/syslinux.cfg` : 'syslinux.cfg', new BytesContent(cfg), sde ?? 0);
    }
    return plan;
  },

  minimumSize(plan) {
    const { tree, syslinux } = plan;
    const added: string[] = [];
    if (syslinux) {
      // Room for LDLINUX.SYS (+ its two ADV sectors) and LDLINUX.C32, which the installer adds.
      const dir = normalizePath(syslinux.directory);
      for (const [name, size] of [
        ['ldlinux.sys', alignUp(syslinux.binaries.sys.length, SECTOR) + 2 * SECTOR],
        ['ldlinux.c32', syslinux.binaries.c32.length],
      ] as const) {
        const path = dir ? `${dir}/${name}` : name;
        if (!tree.has(path)) {
          putFile(tree, path, new BytesContent(new Uint8Array(size)), 0);
          added.push(path);
        }
      }
    }
    try {
      return planFat(tree, plan.options).minimumSize;
    } finally {
      for (const path of added) tree.remove(path);
    }
  },

  place(plan, placed) {
    plan.hiddenSectors = placed.start / SECTOR;
    // The FAT type as the writer will choose it, root directory included, for the type byte.
    const g = fatGeometry(placed.size, plan.options, rootEntries(plan.tree, plan.options));
    if ('error' in g) throw new KilnError('bad-layout', g.error, 'make the partition larger, or leave the FAT type to be chosen by size');
    plan.fatType = g.fatType;
  },

  // An ESP on GPT; on MBR the FAT type byte all the same (firmware boots any FAT there, and SYSLINUX may share it).
  types: (plan) => ({ mbr: plan.fatType === 32 ? 'fat32-lba' : plan.fatType === 16 ? 'fat16-lba' : 'fat12', gpt: plan.uki ? 'esp' : 'basic-data' }),
  bootCode: (plan) => plan.syslinux?.binaries.mbr,
  totals: (plan) => treeTotals(plan.tree, true),

  write(plan, target, control) {
    // The installer reads back the boot sector, FATs and directories: kept in memory, they need
    // not wait for the file data queued before them (the writer writes them first, then data).
    const fat = plan.syslinux ? ReadBackTarget.over(target, READ_BACK_BUDGET) : target;
    const res = writeFat(plan.tree, fat, { ...plan.options, ...(plan.hiddenSectors !== undefined && { hiddenSectors: plan.hiddenSectors }), ...control });
    if (plan.syslinux) {
      const { binaries: b, directory, mtime } = plan.syslinux;
      installSyslinux(fat, { bss: b.bss, sys: b.sys, c32: b.c32, directory, ...(mtime !== undefined && { mtime }) });
    }
    return { fatType: res.fatType, uuid: `${hex8(res.volumeId).slice(0, 4)}-${hex8(res.volumeId).slice(4)}` };
  },
};
