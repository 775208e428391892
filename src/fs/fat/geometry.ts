import { KilnError } from '../../errors.js';
import { formatSize } from '../../units.js';
import { MAX_CLUST_12, MAX_CLUST_16, MAX_CLUST_32, MIN_CLUST_16, MIN_CLUST_32, SECTOR, type FatType } from './boot-sector.js';

/**
 * The layout of a FAT volume of a given size, computed the way mkfs.fat (dosfstools 4.2)
 * does: FAT32 from 512 MiB up (else FAT12 or FAT16, whichever gives more clusters), the
 * FAT32 cluster size from Microsoft's table, FAT12/16 starting at 4 sectors per cluster and
 * doubling until the cluster count fits; with more than 8192 sectors the reserved area, FATs
 * and root directory are aligned to the cluster size.
 */
export interface FatGeometry {
  fatType: FatType;
  totalSectors: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numFats: number;
  /** Sectors per FAT. */
  fatSectors: number;
  /** Root directory slots (FAT12/16); 0 on FAT32, whose root is a cluster chain. */
  rootEntries: number;
  rootDirSectors: number;
  firstDataSector: number;
  clusterCount: number;
  sectorsPerTrack: number;
  heads: number;
}

const DEFAULT_ROOT_ENTRIES = 512;
const NUM_FATS = 2;

export interface GeometryRequest {
  /** Forced FAT type; otherwise chosen by size. */
  fatType?: FatType;
  /** Forced sectors per cluster (a power of two, 1…128). */
  sectorsPerCluster?: number;
  /** FAT12/16: at least this many root directory slots (default 512, as mkfs.fat). */
  minRootEntries?: number;
}

const cdiv = (a: number, b: number): number => Math.ceil(a / b);

/** mkfs.fat's default FAT32 cluster size in sectors for a volume of `bytes`. */
export function fat32DefaultSectorsPerCluster(bytes: number): number {
  const mb = Math.floor(bytes / (1024 * 1024));
  return mb > 32 * 1024 ? 64 : mb > 16 * 1024 ? 32 : mb > 8 * 1024 ? 16 : mb > 260 ? 8 : 1;
}

/** The geometry, or a reason why no volume of this size can be made with the request. */
export function computeGeometry(totalSectors: number, req: GeometryRequest = {}): FatGeometry | { error: string } {
  const bytes = totalSectors * SECTOR;
  let sizeFat: FatType | 0 = req.fatType ?? (bytes >= 512 * 1024 * 1024 ? 32 : 0);
  let clusterSize = sizeFat === 32 ? fat32DefaultSectorsPerCluster(bytes) : 4;
  const maxClusterSize = req.sectorsPerCluster ?? 128;
  if (req.sectorsPerCluster) clusterSize = req.sectorsPerCluster;
  const align = totalSectors > 8192;
  const alignTo = (n: number, cs: number): number => (align ? Math.ceil(n / cs) * cs : n);
  let reserved = sizeFat === 32 ? 32 : 1;
  const wantedRoot = Math.max(DEFAULT_ROOT_ENTRIES, req.minRootEntries ?? 0);
  let rootEntries = sizeFat === 32 ? 0 : Math.ceil(wantedRoot / 16) * 16;
  let rootDirSectors = cdiv(rootEntries * 32, SECTOR);

  let clust12 = 0,
    clust16 = 0,
    clust32 = 0,
    fat12 = 0,
    fat16 = 0,
    fat32 = 0;
  for (; clusterSize <= maxClusterSize; clusterSize *= 2) {
    const data32 = totalSectors - alignTo(reserved, clusterSize);
    const data1216 = data32 - alignTo(rootDirSectors, clusterSize);

    clust12 = Math.floor((2 * (data1216 * SECTOR + NUM_FATS * 3)) / (2 * clusterSize * SECTOR + NUM_FATS * 3));
    fat12 = alignTo(cdiv(((clust12 + 2) * 3 + 1) >> 1, SECTOR), clusterSize);
    clust12 = Math.floor((data1216 - NUM_FATS * fat12) / clusterSize);
    const max12 = Math.min(MAX_CLUST_12, Math.floor((fat12 * 2 * SECTOR) / 3));
    if (clust12 > max12 || clust12 < 1) clust12 = 0;

    clust16 = Math.floor((data1216 * SECTOR + NUM_FATS * 4) / (clusterSize * SECTOR + NUM_FATS * 2));
    fat16 = alignTo(cdiv((clust16 + 2) * 2, SECTOR), clusterSize);
    clust16 = Math.floor((data1216 - NUM_FATS * fat16) / clusterSize);
    const max16 = Math.min(MAX_CLUST_16, Math.floor((fat16 * SECTOR) / 2));
    if (clust16 > max16) clust16 = 0;
    if (clust16 && clust16 < MIN_CLUST_16) clust16 = 0;

    clust32 = Math.floor((data32 * SECTOR + NUM_FATS * 8) / (clusterSize * SECTOR + NUM_FATS * 4));
    fat32 = alignTo(cdiv((clust32 + 2) * 4, SECTOR), clusterSize);
    clust32 = Math.floor((data32 - NUM_FATS * fat32) / clusterSize);
    const max32 = Math.min(MAX_CLUST_32, Math.floor((fat32 * SECTOR) / 4));
    if (clust32 > max32) clust32 = 0;
    // Unlike mkfs.fat, a forced FAT32 below the minimum is refused, not warned about.
    if (clust32 && clust32 < MIN_CLUST_32) clust32 = 0;

    if ((clust12 && (sizeFat === 0 || sizeFat === 12)) || (clust16 && (sizeFat === 0 || sizeFat === 16)) || (clust32 && sizeFat === 32)) break;
  }
  if (clusterSize > maxClusterSize) {
    const what = req.fatType ? `FAT${req.fatType}` : 'FAT';
    return { error: `no ${what} layout fits ${formatSize(bytes)}${req.sectorsPerCluster ? ` with ${req.sectorsPerCluster * SECTOR}-byte clusters` : ''}` };
  }
  if (sizeFat === 0) sizeFat = clust16 > clust12 ? 16 : 12;
  const clusterCount = sizeFat === 12 ? clust12 : sizeFat === 16 ? clust16 : clust32;
  const fatSectors = sizeFat === 12 ? fat12 : sizeFat === 16 ? fat16 : fat32;
  if (sizeFat === 32) rootEntries = 0;
  reserved = alignTo(reserved, clusterSize);
  if (align && sizeFat !== 32) rootEntries = alignTo(rootDirSectors, clusterSize) * (SECTOR / 32);
  rootDirSectors = cdiv(rootEntries * 32, SECTOR);
  const small = bytes < 512 * 1024 * 1024;
  return {
    fatType: sizeFat,
    totalSectors,
    sectorsPerCluster: clusterSize,
    reservedSectors: reserved,
    numFats: NUM_FATS,
    fatSectors,
    rootEntries,
    rootDirSectors,
    firstDataSector: reserved + NUM_FATS * fatSectors + rootDirSectors,
    clusterCount,
    sectorsPerTrack: small ? 32 : 63,
    heads: small ? 64 : 255,
  };
}

/** The smallest size in bytes (a multiple of `step` sectors, 64 KiB by default) at which `ok(geometry)` holds, by bisection. */
export function smallestSize(req: GeometryRequest, ok: (g: FatGeometry) => boolean, floor = 64 * 1024, step = 128): number | undefined {
  const fits = (units: number): boolean => {
    const g = computeGeometry(units * step, req);
    return !('error' in g) && ok(g);
  };
  let hi = Math.max(1, Math.ceil(floor / SECTOR / step));
  const limit = Math.floor(0xffffffff / step);
  while (!fits(hi)) {
    if (hi >= limit) return undefined;
    hi = Math.min(limit, hi * 2);
  }
  let lo = Math.max(1, Math.ceil(floor / SECTOR / step));
  // FAT type and cluster-size switches make `fits` slightly non-monotonic near thresholds;
  // bisection still ends on a size that fits, which is what callers need.
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi * step * SECTOR;
}

export function requireGeometry(totalSectors: number, req: GeometryRequest): FatGeometry {
  const g = computeGeometry(totalSectors, req);
  if ('error' in g) {
    let hint = 'use a larger size, or let kiln choose the FAT type';
    if (req.fatType === 32) {
      const min = smallestSize({ fatType: 32, ...(req.sectorsPerCluster ? { sectorsPerCluster: req.sectorsPerCluster } : {}) }, () => true, 64 * 1024, 1);
      const spc = req.sectorsPerCluster ?? fat32DefaultSectorsPerCluster(totalSectors * SECTOR);
      hint = `FAT32 needs at least ${MIN_CLUST_32} clusters: with ${spc * SECTOR}-byte clusters the volume must be at least ${min} bytes (${formatSize(min ?? 0)})`;
      throw new KilnError('fat-too-small', `${g.error}: ${hint}`, 'give a larger size, or use FAT16/FAT12 for small volumes');
    }
    throw new KilnError('fat-size', g.error, hint);
  }
  return g;
}
