import { KilnError } from '../../errors.js';
import type { BlockTarget } from '../block-target.js';
import { SECTOR, parseFatBootSector, type FatVolume } from './boot-sector.js';
import { ATTR_DIRECTORY, ATTR_LFN, DELETED, DIRENT_SIZE, DirEntry, entryCluster } from './dirent.js';
import { decodeFat, encodeFat, endOfChain, fatBytes, isEndOfChain } from './fat-table.js';
import { FSINFO_LEAD, FSINFO_STRUCT, FSINFO_UNKNOWN, FsInfo } from './fsinfo.js';
import { packedFromBytes } from './names.js';
import { encodeFatTime } from './time.js';

/**
 * In-place changes to an existing FAT volume, for installers that add files after the
 * writer has run (SYSLINUX): allocate free clusters the way mtools does (first free after
 * the FSInfo "last allocated" hint), add short entries to a directory (growing it or creating
 * it), write file data, then write the changed FAT sectors to every copy and update FSInfo.
 */
export interface DirSlot {
  /** Byte offset of the 32-byte entry in the volume. */
  offset: number;
  /** The directory's first cluster (0: the FAT12/16 root). */
  dirCluster: number;
}

export class FatEditor {
  readonly vol: FatVolume;
  private readonly fat: Uint32Array;
  private readonly original: Uint8Array;
  private lastAllocated: number;
  private allocated = 0;
  private freed = 0;

  constructor(readonly target: BlockTarget) {
    this.vol = parseFatBootSector(target.read(0, SECTOR));
    const v = this.vol;
    this.original = target.read(v.reservedSectors * SECTOR, v.fatSectors * SECTOR);
    this.fat = decodeFat(v.fatType, this.original, v.clusterCount + 2);
    let hint = 1;
    if (v.fatType === 32) {
      const info = FsInfo.decode(target.read(v.fsInfoSector * SECTOR, SECTOR));
      if (info.leadSignature === FSINFO_LEAD && info.structSignature === FSINFO_STRUCT && info.nextFree >= 2 && info.nextFree < v.clusterCount + 2)
        hint = info.nextFree;
    }
    this.lastAllocated = hint;
  }

  get clusterBytes(): number {
    return this.vol.sectorsPerCluster * SECTOR;
  }

  /** First sector (from the volume start) of cluster `c`. */
  clusterSector(c: number): number {
    return this.vol.firstDataSector + (c - 2) * this.vol.sectorsPerCluster;
  }

  freeClusters(): number {
    let n = 0;
    for (let c = 2; c < this.vol.clusterCount + 2; c++) if (this.fat[c] === 0) n++;
    return n;
  }

  /** Allocates a chain of `count` clusters, first free ones after the last allocation. */
  allocate(count: number, what: string): number[] {
    if (count === 0) return [];
    const total = this.vol.clusterCount;
    const out: number[] = [];
    let c = this.lastAllocated;
    for (let scanned = 0; out.length < count && scanned < total; scanned++) {
      c = c + 1 >= total + 2 ? 2 : c + 1;
      if (this.fat[c] === 0) out.push(c);
    }
    if (out.length < count) {
      throw new KilnError(
        'fat-no-space',
        `${what} needs ${count} clusters of ${this.clusterBytes} bytes but the volume has ${out.length} free`,
        'make the FAT volume larger',
      );
    }
    const eoc = endOfChain(this.vol.fatType);
    out.forEach((x, i) => (this.fat[x] = i + 1 < out.length ? out[i + 1]! : eoc));
    this.lastAllocated = out[out.length - 1]!;
    this.allocated += count;
    return out;
  }

  chain(first: number): number[] {
    const out: number[] = [];
    for (let c = first; c >= 2 && c < this.vol.clusterCount + 2 && !isEndOfChain(this.vol.fatType, c); c = this.fat[c]!) {
      out.push(c);
      if (out.length > this.vol.clusterCount) throw new KilnError('fat-corrupt', `cluster chain from ${first} loops`);
    }
    return out;
  }

  freeChain(first: number): void {
    for (const c of this.chain(first)) {
      this.fat[c] = 0;
      this.freed++;
    }
  }

  /** Writes `data` over the clusters of a chain (all of it: free clusters may hold old bytes). */
  writeChain(clusters: number[], data: Uint8Array): void {
    const cb = this.clusterBytes;
    let i = 0;
    while (i < clusters.length && i * cb < data.length) {
      let run = 1;
      while (i + run < clusters.length && clusters[i + run] === clusters[i]! + run) run++;
      const part = data.subarray(i * cb, Math.min(data.length, (i + run) * cb));
      this.target.write(this.clusterSector(clusters[i]!) * SECTOR, part);
      i += run;
    }
  }

  /** Byte ranges of a directory: the FAT12/16 root region or its clusters. */
  private dirRanges(dirCluster: number): { offset: number; length: number }[] {
    const v = this.vol;
    if (dirCluster === 0 && v.fatType !== 32) return [{ offset: (v.reservedSectors + v.numFats * v.fatSectors) * SECTOR, length: v.rootEntries * DIRENT_SIZE }];
    const first = dirCluster === 0 ? v.rootCluster : dirCluster;
    return this.chain(first).map((c) => ({ offset: this.clusterSector(c) * SECTOR, length: this.clusterBytes }));
  }

  /** Every live short entry of a directory with its position (long-name entries skipped). */
  entries(dirCluster: number): { offset: number; name: Uint8Array; attributes: number; cluster: number }[] {
    const out: { offset: number; name: Uint8Array; attributes: number; cluster: number }[] = [];
    for (const r of this.dirRanges(dirCluster)) {
      const bytes = this.target.read(r.offset, r.length);
      for (let at = 0; at < bytes.length; at += DIRENT_SIZE) {
        if (bytes[at] === 0) return out;
        if (bytes[at] === DELETED || (bytes[at + 11]! & 0x3f) === ATTR_LFN) continue;
        const e = DirEntry.decode(bytes, at);
        out.push({ offset: r.offset + at, name: e.name, attributes: e.attributes, cluster: entryCluster(e) });
      }
    }
    return out;
  }

  find(dirCluster: number, short: string): { offset: number; attributes: number; cluster: number } | undefined {
    return this.entries(dirCluster).find((e) => packedFromBytes(e.name) === short);
  }

  /** A free slot in the directory (the end marker or a deleted entry), growing it if needed. */
  freeSlot(dirCluster: number, what: string): number {
    const ranges = this.dirRanges(dirCluster);
    for (const r of ranges) {
      const bytes = this.target.read(r.offset, r.length);
      for (let at = 0; at < bytes.length; at += DIRENT_SIZE) if (bytes[at] === 0 || bytes[at] === DELETED) return r.offset + at;
    }
    if (dirCluster === 0 && this.vol.fatType !== 32) {
      throw new KilnError('fat-root-full', `the root directory is full; cannot add ${what}`, 'leave room in the root directory or install into a subdirectory');
    }
    const first = dirCluster === 0 ? this.vol.rootCluster : dirCluster;
    const chain = this.chain(first);
    const [added] = this.allocate(1, `growing a directory for ${what}`);
    this.fat[chain[chain.length - 1]!] = added!;
    // The new cluster must read as empty even where the target is not a fresh hole.
    this.target.write(this.clusterSector(added!) * SECTOR, new Uint8Array(this.clusterBytes));
    return this.clusterSector(added!) * SECTOR;
  }

  writeEntry(offset: number, e: { name: Uint8Array; attributes: number; ntCase: number; cluster: number; size: number; time: number }): void {
    const t = encodeFatTime(e.time);
    const bytes = DirEntry.encode({
      name: e.name,
      attributes: e.attributes,
      ntCase: e.ntCase,
      createTimeFine: t.fine,
      createTime: t.time,
      createDate: t.date,
      accessDate: t.date,
      clusterHigh: e.cluster >>> 16,
      writeTime: t.time,
      writeDate: t.date,
      clusterLow: e.cluster & 0xffff,
      size: e.size,
    });
    this.target.write(offset, bytes);
  }

  /** Finds or creates the directory `path` (short names only: upper-case 8.3 components). */
  mkdirs(path: string, time: number): number {
    let cur = 0;
    for (const part of path.split('/').filter((p) => p !== '')) {
      const short = toShort83(part);
      if (!short)
        throw new KilnError('fat-bad-name', `directory name '${part}' in '${path}' is not an 8.3 name`, 'use a short directory name such as syslinux or boot');
      const found = this.find(cur, short.packed);
      if (found) {
        if (!(found.attributes & ATTR_DIRECTORY)) throw new KilnError('fat-not-dir', `'${part}' in '${path}' exists and is not a directory`);
        cur = found.cluster;
        continue;
      }
      const slot = this.freeSlot(cur, `directory '${part}'`);
      const [c] = this.allocate(1, `directory '${part}'`);
      const body = new Uint8Array(this.clusterBytes);
      const dot = (name: string, cluster: number, at: number): void => {
        const t = encodeFatTime(time);
        DirEntry.encode(
          {
            name: Uint8Array.from(name.padEnd(11, ' '), (ch) => ch.charCodeAt(0)),
            attributes: ATTR_DIRECTORY,
            ntCase: 0,
            createTimeFine: t.fine,
            createTime: t.time,
            createDate: t.date,
            accessDate: t.date,
            clusterHigh: cluster >>> 16,
            writeTime: t.time,
            writeDate: t.date,
            clusterLow: cluster & 0xffff,
            size: 0,
          },
          body,
          at,
        );
      };
      dot('.', c!, 0);
      dot('..', cur, DIRENT_SIZE);
      this.target.write(this.clusterSector(c!) * SECTOR, body);
      this.writeEntry(slot, { name: short.bytes, attributes: ATTR_DIRECTORY, ntCase: short.ntCase, cluster: c!, size: 0, time });
      cur = c!;
    }
    return cur;
  }

  /** Writes the changed FAT sectors to every copy and the FSInfo counts. */
  commit(): void {
    const v = this.vol;
    const bytes = encodeFat(v.fatType, this.fat, v.fatSectors * SECTOR);
    // FAT12/16 keep whatever lies past the last entry (and entries 0/1) as they were.
    const keepFrom = fatBytes(v.fatType, this.fat.length);
    bytes.set(this.original.subarray(keepFrom), keepFrom);
    for (let s = 0; s < v.fatSectors; s++) {
      const a = s * SECTOR;
      let same = true;
      for (let i = a; i < a + SECTOR; i++)
        if (bytes[i] !== this.original[i]) {
          same = false;
          break;
        }
      if (same) continue;
      for (let f = 0; f < v.numFats; f++) this.target.write((v.reservedSectors + f * v.fatSectors) * SECTOR + a, bytes.subarray(a, a + SECTOR));
    }
    if (v.fatType === 32) {
      const sector = this.target.read(v.fsInfoSector * SECTOR, SECTOR);
      const info = FsInfo.decode(sector);
      if (info.leadSignature === FSINFO_LEAD && info.structSignature === FSINFO_STRUCT) {
        const free = info.freeCount === FSINFO_UNKNOWN || info.freeCount > v.clusterCount ? this.freeClusters() : info.freeCount - this.allocated + this.freed;
        FsInfo.encode({ freeCount: free, nextFree: this.lastAllocated }, sector);
        this.target.write(v.fsInfoSector * SECTOR, sector);
      }
    }
  }
}

/** The packed 8.3 form of a name that needs no long entry (upper or lower case), else undefined. */
export function toShort83(name: string): { packed: string; bytes: Uint8Array; ntCase: number } | undefined {
  const m = /^([A-Za-z0-9_~!#$%&'()@^`{}-]{1,8})(?:\.([A-Za-z0-9_~!#$%&'()@^`{}-]{1,3}))?$/.exec(name);
  if (!m) return undefined;
  const base = m[1]!;
  const ext = m[2] ?? '';
  const caseBit = (s: string, bit: number): number | undefined => (s === s.toUpperCase() ? 0 : s === s.toLowerCase() ? bit : undefined);
  const cb = caseBit(base, 0x08);
  const ce = caseBit(ext, 0x10);
  if (cb === undefined || ce === undefined) return undefined;
  const packed = base.toUpperCase().padEnd(8, ' ') + ext.toUpperCase().padEnd(3, ' ');
  return { packed, bytes: Uint8Array.from(packed, (c) => c.charCodeAt(0)), ntCase: cb | ce };
}
