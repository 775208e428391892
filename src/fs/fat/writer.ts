import { KilnError } from '../../errors.js';
import { formatSize } from '../../units.js';
import { WRITE_BYTES, writeSkippingZeros, type BlockTarget } from '../block-target.js';
import type { ContentReader } from '../file-content.js';
import type { FileTree, Inode } from '../tree.js';
import { PlanCache } from '../tree-snapshot.js';
import { ProgressMeter, zeroTarget, type WriteControl } from '../write-control.js';
import {
  BOOT_SIGNATURE,
  BootSector,
  EXTENDED_BOOT_SIGNATURE,
  ExtendedBpb,
  Fat32Bpb,
  MEDIA_FIXED,
  NO_NAME,
  SECTOR,
  bootCodeOffset,
  ebpbOffset,
  type FatType,
} from './boot-sector.js';
import { ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_READ_ONLY, ATTR_VOLUME_ID, DIRENT_SIZE, DirEntry } from './dirent.js';
import { encodeFat, endOfChain, fatBytes } from './fat-table.js';
import { encodeFsInfo } from './fsinfo.js';
import { computeGeometry, requireGeometry, smallestSize, type FatGeometry, type GeometryRequest } from './geometry.js';
import {
  assignAliases,
  clustersNeeded,
  entryInode,
  entryName,
  entryPath,
  hasLongName,
  layoutTree,
  shortNameOf,
  type FatDir,
  type FatLayout,
  type SpecialFilePolicy,
} from './layout.js';
import { encodeLfnEntries, lfnChecksum } from './names.js';
import { clampTimestamp, encodeFatTime } from './time.js';

export interface FatOptions extends WriteControl {
  /** Force a FAT type; by default chosen from the size as mkfs.fat does. */
  fatType?: FatType;
  /** Volume label, up to 11 ASCII characters; stored upper-case in the BPB and the root. */
  label?: string;
  /** 32-bit volume serial; by default derived from the tree and the options. */
  volumeId?: number;
  /** Cluster size in BYTES (a power of two from 512 to 65536); by default mkfs.fat's choice. */
  clusterSize?: number;
  /** The partition's offset in 512-byte sectors (BPB hidden sectors); 0 for a whole-disk volume. */
  hiddenSectors?: number;
  /** Timestamps later than this (seconds since the epoch) are clamped to it. */
  sourceDateEpoch?: number;
  /** Symlinks, devices, fifos and sockets: 'error' (default) refuses the tree, 'skip' leaves them out. */
  specialFiles?: SpecialFilePolicy;
}

export interface FatResult {
  fatType: FatType;
  /** Bytes per cluster. */
  clusterSize: number;
  clusterCount: number;
  usedClusters: number;
  freeClusters: number;
  volumeId: number;
  label: string | undefined;
  /** Bytes of the volume (whole sectors of the target). */
  size: number;
  files: number;
  directories: number;
}

const LABEL_FORBIDDEN = /[*?.,;:/\\|+=<>[\]"]/;

function checkOptions(options: FatOptions): void {
  const bad = (what: string, hint: string): never => {
    throw new KilnError('fat-option', what, hint);
  };
  if (options.fatType !== undefined && ![12, 16, 32].includes(options.fatType))
    bad(`FAT type ${String(options.fatType)} is not 12, 16 or 32`, 'use 12, 16 or 32');
  const cs = options.clusterSize;
  if (cs !== undefined && (!Number.isInteger(cs) || cs < SECTOR || cs > 65536 || (cs & (cs - 1)) !== 0)) {
    bad(`cluster size ${cs} is not a power of two between 512 and 65536 bytes`, 'give the cluster size in bytes, e.g. 4096');
  }
  const u32 = (v: number | undefined, what: string): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff))
      bad(`${what} ${v} is not a 32-bit unsigned number`, `give ${what} between 0 and 4294967295`);
  };
  u32(options.volumeId, 'volume id');
  u32(options.hiddenSectors, 'hidden sectors');
  if (options.sourceDateEpoch !== undefined && !Number.isInteger(options.sourceDateEpoch))
    bad(`SOURCE_DATE_EPOCH ${options.sourceDateEpoch} is not an integer`, 'give seconds since 1970');
  if (options.label !== undefined) normalizeLabel(options.label);
}

/** The label as stored: upper case, checked against what DOS allows. */
export function normalizeLabel(label: string): string | undefined {
  if (label === '') return undefined;
  const bad = (why: string): never => {
    throw new KilnError('fat-bad-label', `volume label '${label}' ${why}`, "use up to 11 ASCII letters, digits, spaces and - _ ! # $ % & ' ( ) @ ^ ` { } ~");
  };
  if (label.length > 11) bad('is longer than 11 characters');
  if (!/^[\x20-\x7e]*$/.test(label)) bad('holds non-ASCII or control characters');
  if (LABEL_FORBIDDEN.test(label)) bad('holds a character DOS forbids in labels (* ? . , ; : / \\ | + = < > [ ] ")');
  if (label.startsWith(' ')) bad('starts with a space');
  return label.toUpperCase();
}

function geometryRequest(options: FatOptions, layout: FatLayout): GeometryRequest {
  const req: GeometryRequest = { minRootEntries: layout.root.slots };
  if (options.fatType) req.fatType = options.fatType;
  if (options.clusterSize) req.sectorsPerCluster = options.clusterSize / SECTOR;
  return req;
}

function fits(layout: FatLayout, g: FatGeometry): boolean {
  if (g.fatType !== 32 && layout.root.slots > g.rootEntries) return false;
  return clustersNeeded(layout, g.sectorsPerCluster * SECTOR, g.fatType === 32) <= g.clusterCount;
}

/** Layouts of the trees planned or written lately (see PlanCache): a CLI run plans a tree, asks its free space at a size and writes it, laying it out once. */
const layouts = new PlanCache<FatLayout>();

function layoutOf(tree: FileTree, options: FatOptions): FatLayout {
  const hasLabel = normalizeLabel(options.label ?? '') !== undefined;
  const specialFiles = options.specialFiles ?? 'error';
  return layouts.get(tree, `${hasLabel}\0${specialFiles}`, (snapshot) => layoutTree(snapshot, { hasLabel, specialFiles }));
}

/**
 * The smallest volume (a multiple of 64 KiB) that holds `tree` with these options, and the
 * FAT type it gets. Refuses what FAT cannot hold, like writeFat (which alone finds a directory
 * that has run out of `~N` aliases: sizing does not make them).
 */
export function planFat(tree: FileTree, options: FatOptions = {}): { minimumSize: number; fatType: FatType } {
  checkOptions(options);
  const layout = layoutOf(tree, options);
  const req = geometryRequest(options, layout);
  const size = smallestSize(req, (g) => fits(layout, g));
  if (size === undefined)
    throw new KilnError('fat-too-large', 'the tree does not fit in any FAT volume kiln can make with these options', 'use ext4, or a larger cluster size');
  const g = computeGeometry(size / SECTOR, req) as FatGeometry;
  return { minimumSize: size, fatType: g.fatType };
}

/**
 * The bytes a FAT volume of `size` bytes would have free in clusters after `tree` is written,
 * or undefined when the tree does not fit (or no volume of that size can be made with these
 * options): how `--size auto --margin` checks that the margin is really free (the FATs grow
 * with the size, and the FAT type and cluster size may change with it).
 */
export function fatFreeBytes(tree: FileTree, size: number, options: FatOptions = {}): number | undefined {
  checkOptions(options);
  const layout = layoutOf(tree, options);
  const g = computeGeometry(Math.min(Math.floor(size / SECTOR), 0xffffffff), geometryRequest(options, layout));
  if ('error' in g || !fits(layout, g)) return undefined;
  const clusterBytes = g.sectorsPerCluster * SECTOR;
  return (g.clusterCount - clustersNeeded(layout, clusterBytes, g.fatType === 32)) * clusterBytes;
}

/** FNV-1a over a description of the tree (as laid out) and the options: the default volume id. */
function deriveVolumeId(layout: FatLayout, options: FatOptions, size: number): number {
  // in int32 arithmetic (the same bits as unsigned, made unsigned once at the end): a third faster
  let h = 0x811c9dc5 | 0;
  const add = (s: string): void => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  };
  add(
    `fat:${size}:${options.fatType ?? ''}:${options.label ?? ''}:${options.clusterSize ?? ''}:${options.hiddenSectors ?? 0}:${options.sourceDateEpoch ?? ''}`,
  );
  for (const d of layout.dirs) {
    add(`\0${d.path}\0${d.inode.mtime.sec}`);
    for (const e of d.entries) {
      if (layout.dirIndex[e]! >= 0) continue;
      const inode = entryInode(layout, e);
      add(`\0${entryName(layout, e)}\0${inode.content?.size ?? 0}\0${inode.mtime.sec}\0${inode.mode}`);
    }
  }
  return h >>> 0;
}

/**
 * Writes `tree` as a FAT12/16/32 volume filling `target` (whole 512-byte sectors). Files are
 * laid out contiguously after the directories and streamed in large sequential writes; zero
 * runs stay holes on a `zeroed` target, and any other target is zeroed first, so the volume is
 * the same bytes either way. Everything FAT cannot hold and trees that do not fit are refused
 * before the first write. Progress counts file content bytes and files (a hard link is a copy
 * on FAT, counted per path); `options.signal` aborts at the next file or buffer flush.
 */
export function writeFat(tree: FileTree, target: BlockTarget, options: FatOptions = {}): FatResult {
  checkOptions(options);
  const label = normalizeLabel(options.label ?? '');
  const layout = layoutOf(tree, options);
  const totalSectors = Math.min(Math.floor(target.size / SECTOR), 0xffffffff);
  const req = geometryRequest(options, layout);
  const g = requireGeometry(totalSectors, req);
  const clusterBytes = g.sectorsPerCluster * SECTOR;
  const needed = clustersNeeded(layout, clusterBytes, g.fatType === 32);
  if (!fits(layout, g)) {
    let min = '';
    try {
      const plan = planFat(tree, options);
      min = `; the smallest volume that holds it is ${plan.minimumSize} bytes (${formatSize(plan.minimumSize)})`;
    } catch {
      // no size fits: the message below says enough
    }
    const rootFull = g.fatType !== 32 && layout.root.slots > g.rootEntries;
    throw new KilnError(
      'fat-no-space',
      rootFull
        ? `the root directory needs ${layout.root.slots} entries but this FAT${g.fatType} layout has ${g.rootEntries}${min}`
        : `the tree needs ${needed} clusters of ${clusterBytes} bytes but a ${formatSize(totalSectors * SECTOR)} FAT${g.fatType} volume has ${g.clusterCount}${min}`,
      'give a larger size (or --size auto)',
    );
  }
  assignAliases(layout);
  const volumeId = options.volumeId ?? deriveVolumeId(layout, options, totalSectors * SECTOR);

  // Allocation: FAT32's root at cluster 2, then every directory, then every file, each one
  // contiguous, so that file data is one sequential run.
  const fat = new Uint32Array(g.clusterCount + 2);
  const eoc = endOfChain(g.fatType);
  fat[0] = (eoc & ~0xff) | MEDIA_FIXED;
  fat[1] = eoc;
  let next = 2;
  const allocate = (bytes: number, atLeastOne: boolean): number => {
    const count = Math.max(atLeastOne ? 1 : 0, Math.ceil(bytes / clusterBytes));
    if (count === 0) return 0;
    const first = next;
    for (let i = 0; i < count - 1; i++) fat[first + i] = first + i + 1;
    fat[first + count - 1] = eoc;
    next += count;
    return first;
  };
  for (const d of layout.dirs) d.cluster = d === layout.root && g.fatType !== 32 ? 0 : allocate(d.slots * DIRENT_SIZE, true);
  let contentBytes = 0;
  for (const f of layout.files) {
    const size = entryInode(layout, f).content?.size ?? 0;
    layout.firstCluster[f] = allocate(size, false);
    contentBytes += size;
  }
  const used = next - 2;

  const clusterOffset = (c: number): number => (g.firstDataSector + (c - 2) * g.sectorsPerCluster) * SECTOR;

  // Checks are done: from here on the target is written. A target not known to be zero is
  // zeroed first (reserved sectors, FATs, directory slack and free clusters are left unwritten).
  zeroTarget(target, totalSectors * SECTOR, options.signal);
  // asked for first: its helper gets ready while the metadata is written
  const copier = target.copier?.(contentBytes);
  const meter = new ProgressMeter(options, contentBytes, layout.files.length);

  // Reserved area: boot sector, and on FAT32 the FSInfo sector and the backup boot sector.
  const boot = encodeBootSector(g, volumeId, label, options.hiddenSectors ?? 0);
  target.write(0, boot);
  if (g.fatType === 32) {
    const free = g.clusterCount - used;
    target.write(SECTOR, encodeFsInfo(free, next - 1));
    target.write(6 * SECTOR, boot);
  }

  // Both FATs.
  const fatImage = encodeFat(g.fatType, fat, g.fatSectors * SECTOR);
  for (let i = 0; i < g.numFats; i++)
    writeSkippingZeros(target, (g.reservedSectors + i * g.fatSectors) * SECTOR, fatImage.subarray(0, fatBytes(g.fatType, fat.length)));

  // Directories, then file data, in allocation order: one sequential stream of large writes
  // (not a write per directory), but for the files the target's copier takes (host files,
  // copied by two threads).
  const stream = new DataStream(target, meter);
  // Many entries share a timestamp: encode each distinct second once.
  const timeCache = new Map<number, ReturnType<typeof entryTimes>>();
  const times = (inode: Inode): ReturnType<typeof entryTimes> => {
    let t = timeCache.get(inode.mtime.sec);
    if (!t) timeCache.set(inode.mtime.sec, (t = entryTimes(inode, options.sourceDateEpoch)));
    return t;
  };
  for (const d of layout.dirs) {
    const bytes = encodeDirectory(layout, d, {
      parent: d.parent && d.parent !== layout.root ? d.parent.cluster : 0,
      label: d === layout.root ? label : undefined,
      times,
    });
    const offset = d === layout.root && g.fatType !== 32 ? (g.reservedSectors + g.numFats * g.fatSectors) * SECTOR : clusterOffset(d.cluster);
    stream.seek(offset);
    stream.put(bytes);
  }

  let copies = 0;
  for (const f of layout.files) {
    const content = entryInode(layout, f).content;
    const size = content?.size ?? 0;
    const offset = clusterOffset(layout.firstCluster[f]!);
    if (size > 0 && copier?.add(content!, offset)) {
      copies++;
      continue;
    }
    if (size > 0) {
      stream.seek(offset);
      const reader = content!.open();
      try {
        stream.append(reader, size, entryPath(layout, f));
      } finally {
        reader.close();
      }
    }
    meter.file();
  }
  stream.flush();
  copier?.finish((n) => meter.bytes(n));
  for (let i = 0; i < copies; i++) meter.file();
  meter.finish();

  return {
    fatType: g.fatType,
    clusterSize: clusterBytes,
    clusterCount: g.clusterCount,
    usedClusters: used,
    freeClusters: g.clusterCount - used,
    volumeId,
    label,
    size: totalSectors * SECTOR,
    files: layout.files.length,
    directories: layout.dirs.length,
  };
}

function entryTimes(inode: Inode, sourceDateEpoch: number | undefined): { date: number; time: number; fine: number } {
  return encodeFatTime(clampTimestamp(inode.mtime, sourceDateEpoch));
}

function encodeBootSector(g: FatGeometry, volumeId: number, label: string | undefined, hiddenSectors: number): Uint8Array {
  const b = new Uint8Array(SECTOR);
  const code = bootCodeOffset(g.fatType);
  BootSector.encode(
    {
      jump: Uint8Array.of(0xeb, code - 2, 0x90),
      oemName: 'KILN',
      bytesPerSector: SECTOR,
      sectorsPerCluster: g.sectorsPerCluster,
      reservedSectors: g.reservedSectors,
      numFats: g.numFats,
      rootEntries: g.rootEntries,
      totalSectors16: g.totalSectors < 65536 ? g.totalSectors : 0,
      media: MEDIA_FIXED,
      fatSectors16: g.fatType === 32 ? 0 : g.fatSectors,
      sectorsPerTrack: g.sectorsPerTrack,
      heads: g.heads,
      hiddenSectors,
      totalSectors32: g.totalSectors < 65536 ? 0 : g.totalSectors,
      signature: BOOT_SIGNATURE,
    },
    b,
  );
  if (g.fatType === 32) {
    Fat32Bpb.encode({ fatSectors32: g.fatSectors, extFlags: 0, fsVersion: 0, rootCluster: 2, fsInfoSector: 1, backupBootSector: 6 }, b);
  }
  ExtendedBpb.encode(
    {
      driveNumber: 0x80,
      reserved: 0,
      bootSignature: EXTENDED_BOOT_SIGNATURE,
      volumeId,
      volumeLabel: label ?? NO_NAME,
      fsType: `FAT${g.fatType}`,
    },
    b,
    ebpbOffset(g.fatType),
  );
  // Not bootable: ask the BIOS for the next boot device (int 18h), then halt.
  b.set([0xcd, 0x18, 0xf4, 0xeb, 0xfd], code);
  return b;
}

interface DirContext {
  /** The parent's first cluster as '..' names it (0 for the root). */
  parent: number;
  label: string | undefined;
  times(inode: Inode): { date: number; time: number; fine: number };
}

function shortEntry(
  out: Uint8Array,
  at: number,
  name: Uint8Array,
  attributes: number,
  ntCase: number,
  cluster: number,
  size: number,
  t: { date: number; time: number; fine: number },
): void {
  DirEntry.encode(
    {
      name,
      attributes,
      ntCase,
      createTimeFine: t.fine,
      createTime: t.time,
      createDate: t.date,
      accessDate: t.date,
      clusterHigh: cluster >>> 16,
      writeTime: t.time,
      writeDate: t.date,
      clusterLow: cluster & 0xffff,
      size,
    },
    out,
    at,
  );
}

const DOT = Uint8Array.from('.          ', (c) => c.charCodeAt(0));
const DOTDOT = Uint8Array.from('..         ', (c) => c.charCodeAt(0));

function encodeDirectory(layout: FatLayout, d: FatDir, ctx: DirContext): Uint8Array {
  const out = new Uint8Array(d.slots * DIRENT_SIZE);
  let at = 0;
  const own = ctx.times(d.inode);
  if (d.parent) {
    shortEntry(out, at, DOT, ATTR_DIRECTORY, 0, d.cluster, 0, own);
    shortEntry(out, at + DIRENT_SIZE, DOTDOT, ATTR_DIRECTORY, 0, ctx.parent, 0, d.parent.parent ? ctx.times(d.parent.inode) : own);
    at += 2 * DIRENT_SIZE;
  } else if (ctx.label !== undefined) {
    const name = Uint8Array.from(ctx.label.padEnd(11, ' '), (c) => c.charCodeAt(0));
    shortEntry(out, at, name, ATTR_VOLUME_ID, 0, 0, 0, own);
    at += DIRENT_SIZE;
  }
  for (const e of d.entries) {
    const short = shortNameOf(layout, e);
    if (hasLongName(layout, e)) at = encodeLfnEntries(entryName(layout, e), lfnChecksum(short), out, at);
    const inode = entryInode(layout, e);
    const dirIndex = layout.dirIndex[e]!;
    const dir = dirIndex >= 0 ? layout.dirs[dirIndex] : undefined;
    let attributes = dir ? ATTR_DIRECTORY : ATTR_ARCHIVE;
    if (!dir && (inode.mode & 0o222) === 0) attributes |= ATTR_READ_ONLY;
    shortEntry(out, at, short, attributes, layout.ntCase[e]!, dir?.cluster ?? layout.firstCluster[e]!, dir ? 0 : (inode.content?.size ?? 0), ctx.times(inode));
    at += DIRENT_SIZE;
  }
  return out;
}

/** Collects directories and file data into large buffers and writes them sequentially, skipping zero runs. */
class DataStream {
  private readonly buf = new Uint8Array(WRITE_BYTES);
  private readonly words = new Uint32Array(this.buf.buffer);
  private start = 0;
  private len = 0;
  constructor(
    private readonly target: BlockTarget,
    private readonly meter: ProgressMeter,
  ) {}

  seek(offset: number): void {
    const end = this.start + this.len;
    if (offset < end) throw new Error(`FAT data stream went backwards (${offset} < ${end})`);
    const gap = offset - end;
    if (this.len > 0 && this.len + gap <= this.buf.length) {
      this.buf.fill(0, this.len, this.len + gap);
      this.len += gap;
    } else {
      this.flush();
      this.start = offset;
    }
  }

  /** Metadata at the current position (not counted as file content). */
  put(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) {
      if (this.len === this.buf.length) this.flush();
      const n = Math.min(this.buf.length - this.len, bytes.length - done);
      this.buf.set(bytes.subarray(done, done + n), this.len);
      this.len += n;
      done += n;
    }
  }

  append(reader: ContentReader, size: number, path: string): void {
    let done = 0;
    while (done < size) {
      if (this.len === this.buf.length) this.flush();
      const want = Math.min(this.buf.length - this.len, size - done);
      const n = reader.read(done, this.buf.subarray(this.len, this.len + want));
      if (n <= 0)
        throw new KilnError(
          'fat-short-read',
          `'${path}' ended after ${done} of ${size} bytes while being written`,
          'do not change the source while kiln reads it',
        );
      this.len += n;
      done += n;
      this.meter.bytes(n);
    }
  }

  /** Writes the buffer, leaving 4 KiB blocks (relative to the buffer start) of zeros as holes. */
  flush(): void {
    const BLOCK = 4096;
    let run = -1;
    for (let pos = 0; pos < this.len; pos += BLOCK) {
      const end = Math.min(pos + BLOCK, this.len);
      let zero = true;
      if (end - pos === BLOCK) {
        for (let w = pos >> 2, last = (pos + BLOCK) >> 2; w < last; w++)
          if (this.words[w] !== 0) {
            zero = false;
            break;
          }
      } else
        for (let i = pos; i < end; i++)
          if (this.buf[i] !== 0) {
            zero = false;
            break;
          }
      if (zero) {
        if (run >= 0) this.target.write(this.start + run, this.buf.subarray(run, pos));
        run = -1;
      } else if (run < 0) run = pos;
    }
    if (run >= 0) this.target.write(this.start + run, this.buf.subarray(run, this.len));
    this.start += this.len;
    this.len = 0;
  }
}
