/**
 * The metadata map of a clean FAT12/16/32 volume: boot sector (BPB, FAT32 extension, extended
 * BPB), FSInfo, both FATs, every directory entry. Structural mutations: a subdirectory that
 * points at its own, its parent's or the root's cluster, or at cluster 0; cluster chains that
 * loop back; impossible file sizes.
 */
import { BootSector, ExtendedBpb, Fat32Bpb, SECTOR, ebpbOffset } from '../../src/fs/fat/boot-sector.js';
import { ATTR_DIRECTORY, ATTR_LFN, DIRENT_SIZE, DirEntry, LfnEntry } from '../../src/fs/fat/dirent.js';
import { decodeFat, isEndOfChain, setFatEntry } from '../../src/fs/fat/fat-table.js';
import { parseFatBootSector } from '../../src/fs/fat/boot-sector.js';
import type { ImageMap, Region, Structural } from './model.js';
import { view } from './model.js';

interface Entry {
  /** Byte offset of the 32-byte entry, the directory's first cluster (0 = root), the entry's. */
  at: number;
  dirCluster: number;
  cluster: number;
  isDir: boolean;
  size: number;
}

export function mapFat(bytes: Uint8Array): ImageMap {
  const vol = parseFatBootSector(bytes.subarray(0, SECTOR));
  const regions: Region[] = [
    { tag: 'fat boot sector', offset: 0, length: SECTOR, struct: BootSector },
    { tag: 'fat extended bpb', offset: ebpbOffset(vol.fatType), length: ExtendedBpb.size, struct: ExtendedBpb },
  ];
  if (vol.fatType === 32) {
    regions.push({ tag: 'fat boot sector', offset: 0, length: SECTOR, struct: Fat32Bpb });
    regions.push({ tag: 'fat fsinfo', offset: vol.fsInfoSector * SECTOR, length: SECTOR });
  }
  const fatAt = vol.reservedSectors * SECTOR;
  const fatLen = vol.fatSectors * SECTOR;
  const fat = decodeFat(vol.fatType, bytes.subarray(fatAt, fatAt + fatLen), vol.clusterCount + 2);
  for (let k = 0; k < vol.numFats; k++) regions.push({ tag: 'fat table', offset: fatAt + k * fatLen, length: Math.min(fatLen, 4096), owner: `FAT ${k + 1}` });
  const clusterBytes = vol.sectorsPerCluster * SECTOR;
  const clusterAt = (c: number): number => (vol.firstDataSector + (c - 2) * vol.sectorsPerCluster) * SECTOR;
  const chain = (first: number): number[] => {
    const out: number[] = [];
    for (let c = first; c >= 2 && !isEndOfChain(vol.fatType, c) && out.length <= vol.clusterCount; c = fat[c]!) out.push(c);
    return out;
  };

  const entries: Entry[] = [];
  const parentOf = new Map<number, number>();
  const walkDir = (dirCluster: number, areas: [number, number][]): void => {
    for (const [start, length] of areas) {
      for (let at = start; at + DIRENT_SIZE <= start + length; at += DIRENT_SIZE) {
        const first = bytes[at]!;
        if (first === 0) return;
        if (first === 0xe5) continue;
        const attributes = bytes[at + 11]!;
        if ((attributes & 0x3f) === ATTR_LFN) {
          regions.push({ tag: 'fat lfn entry', offset: at, length: DIRENT_SIZE, struct: LfnEntry, owner: `directory cluster ${dirCluster}` });
          continue;
        }
        regions.push({ tag: 'fat dirent', offset: at, length: DIRENT_SIZE, struct: DirEntry, owner: `directory cluster ${dirCluster}` });
        const e = DirEntry.decode(bytes, at);
        const dot = e.name[0] === 0x2e;
        const cluster = e.clusterHigh * 0x10000 + e.clusterLow;
        if (dot || attributes & 0x08) continue;
        const isDir = (attributes & ATTR_DIRECTORY) !== 0;
        entries.push({ at, dirCluster, cluster, isDir, size: e.size });
        if (isDir && cluster >= 2 && !parentOf.has(cluster)) {
          parentOf.set(cluster, dirCluster);
          walkDir(
            cluster,
            chain(cluster).map((c) => [clusterAt(c), clusterBytes]),
          );
        }
      }
    }
  };
  const rootCluster = vol.fatType === 32 ? vol.rootCluster : 0;
  const rootAreas: [number, number][] =
    vol.fatType === 32
      ? chain(vol.rootCluster).map((c) => [clusterAt(c), clusterBytes])
      : [[(vol.reservedSectors + vol.numFats * vol.fatSectors) * SECTOR, vol.rootEntries * DIRENT_SIZE]];
  walkDir(rootCluster, rootAreas);

  // ---- structural mutations ----
  const structural: Structural[] = [];
  const setCluster = (b: Uint8Array, at: number, c: number): void => {
    view(b).setUint16(at + 20, c >>> 16, true);
    view(b).setUint16(at + 26, c & 0xffff, true);
  };
  const setFat = (b: Uint8Array, i: number, v: number): void => {
    for (let k = 0; k < vol.numFats; k++) setFatEntry(vol.fatType, b.subarray(fatAt + k * fatLen, fatAt + (k + 1) * fatLen), i, v);
  };
  const subdirs = entries.filter((e) => e.isDir && e.cluster >= 2);
  for (const d of subdirs.slice(0, 3)) {
    structural.push({
      name: `subdirectory at cluster ${d.cluster} -> its own cluster's parent (${d.dirCluster || 'root'})`,
      mustFail: true,
      apply: (b) => setCluster(b, d.at, d.dirCluster),
    });
    structural.push({ name: `subdirectory at cluster ${d.cluster} -> cluster 0`, mustFail: true, apply: (b) => setCluster(b, d.at, 0) });
    structural.push({ name: `subdirectory at cluster ${d.cluster} -> cluster 0x0ffffff0`, mustFail: true, apply: (b) => setCluster(b, d.at, 0x0ffffff0) });
  }
  // An entry inside a subdirectory pointing back at that subdirectory (a true cycle).
  const inner = entries.filter((e) => e.dirCluster >= 2 && e.dirCluster !== rootCluster);
  for (const e of inner.slice(0, 3)) {
    structural.push({
      name: `entry in directory cluster ${e.dirCluster} -> a directory at that cluster`,
      mustFail: true,
      apply: (b) => {
        setCluster(b, e.at, e.dirCluster);
        b[e.at + 11] = ATTR_DIRECTORY;
      },
    });
    if (vol.fatType === 32) {
      structural.push({
        name: `entry in directory cluster ${e.dirCluster} -> a directory at the root cluster`,
        mustFail: true,
        apply: (b) => {
          setCluster(b, e.at, rootCluster);
          b[e.at + 11] = ATTR_DIRECTORY;
        },
      });
    }
  }
  const chained = entries.filter((e) => e.cluster >= 2 && e.cluster < vol.clusterCount + 2);
  for (const e of chained.slice(0, 4)) {
    const c = chain(e.cluster);
    if (c.length === 0) continue;
    structural.push({ name: `chain of cluster ${e.cluster}: last -> first (a loop)`, mustFail: e.isDir, apply: (b) => setFat(b, c[c.length - 1]!, c[0]!) });
    structural.push({ name: `chain of cluster ${e.cluster}: first -> itself`, mustFail: e.isDir || c.length > 1, apply: (b) => setFat(b, c[0]!, c[0]!) });
  }
  if (vol.fatType === 32) {
    const rc = chain(vol.rootCluster);
    if (rc.length > 0) structural.push({ name: 'root chain: last -> first (a loop)', mustFail: true, apply: (b) => setFat(b, rc[rc.length - 1]!, rc[0]!) });
  }
  for (const e of entries.filter((x) => !x.isDir).slice(0, 3)) {
    structural.push({ name: `file at cluster ${e.cluster}: size 0xffffffff`, mustFail: true, apply: (b) => view(b).setUint32(e.at + 28, 0xffffffff, true) });
  }
  return { regions, structural };
}
