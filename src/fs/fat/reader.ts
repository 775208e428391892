import { KilnError } from '../../errors.js';
import type { BlockSource } from '../block-target.js';
import { readContent, type ContentReader, type FileContent } from '../file-content.js';
import { checkedSource, type FsDirEntry, type FsReader, type FsStat } from '../reader.js';
import { SECTOR, parseFatBootSector, type FatVolume } from './boot-sector.js';
import { ATTR_DIRECTORY, ATTR_LFN, ATTR_READ_ONLY, ATTR_VOLUME_ID, DELETED, DIRENT_SIZE, DirEntry, LFN_LAST, LfnEntry, entryCluster } from './dirent.js';
import { decodeFat, isBadCluster, isEndOfChain } from './fat-table.js';
import { decodeShortName, lfnChecksum, lfnEntryUnits } from './names.js';
import { decodeFatTime } from './time.js';

interface RawEntry {
  name: string;
  attributes: number;
  cluster: number;
  size: number;
  stat: FsStat;
}

/** Reads a FAT12/16/32 volume: listing, stat and file content (long names included). */
export function readFat(source: BlockSource): FsReader & { volume: FatVolume; label: string | undefined } {
  // Every read is checked: a truncated volume is a fat-corrupt KilnError, not a RangeError.
  source = checkedSource(source, 'fat-corrupt', 'FAT image');
  if (source.size < SECTOR) throw new KilnError('not-fat', `not a FAT filesystem: the image is ${source.size} bytes, less than a boot sector`);
  const vol = parseFatBootSector(source.read(0, SECTOR));
  const fat = decodeFat(
    vol.fatType,
    source.read(vol.reservedSectors * SECTOR, vol.fatSectors * SECTOR),
    Math.min(vol.clusterCount + 2, Math.floor((vol.fatSectors * SECTOR * 8) / vol.fatType)),
  );
  const clusterBytes = vol.sectorsPerCluster * SECTOR;
  const clusterOffset = (c: number): number => (vol.firstDataSector + (c - 2) * vol.sectorsPerCluster) * SECTOR;

  const fatCorrupt = (message: string): KilnError => new KilnError('fat-corrupt', message, 'the FAT volume is damaged; fsck.fat -n tells more');
  // One mark per cluster the FAT describes (bounded by the FAT read, so by the image).
  const visited = new Uint32Array(fat.length);
  let walk = 0;
  const chain = (first: number, what: string): number[] => {
    const out: number[] = [];
    let c = first;
    walk++;
    while (c >= 2 && !isEndOfChain(vol.fatType, c)) {
      if (c >= vol.clusterCount + 2 || isBadCluster(vol.fatType, c))
        throw fatCorrupt(`'${what}': cluster chain points to cluster ${c}, outside the volume's ${vol.clusterCount} clusters`);
      if (c >= fat.length) throw fatCorrupt(`'${what}': cluster ${c} has no entry in the ${vol.fatSectors}-sector FAT`);
      if (visited[c] === walk) throw fatCorrupt(`'${what}': cluster chain loops back to cluster ${c} after ${out.length} clusters`);
      visited[c] = walk;
      out.push(c);
      c = fat[c]!;
    }
    return out;
  };

  const readChain = (first: number, what: string): Uint8Array => {
    const clusters = chain(first, what);
    const out = new Uint8Array(clusters.length * clusterBytes);
    clusters.forEach((c, i) => out.set(source.read(clusterOffset(c), clusterBytes), i * clusterBytes));
    return out;
  };

  let volumeLabel: string | undefined;
  const parseDir = (bytes: Uint8Array, where: string): RawEntry[] => {
    const out: RawEntry[] = [];
    let lfnUnits: number[][] = [];
    let lfnSum = -1;
    let lfnNext = 0;
    for (let at = 0; at + DIRENT_SIZE <= bytes.length; at += DIRENT_SIZE) {
      const first = bytes[at]!;
      if (first === 0) break;
      if (first === DELETED) {
        lfnUnits = [];
        continue;
      }
      const attributes = bytes[at + 11]!;
      if ((attributes & 0x3f) === ATTR_LFN) {
        const l = LfnEntry.decode(bytes, at);
        if (l.order & LFN_LAST) {
          lfnUnits = [];
          lfnSum = l.checksum;
          lfnNext = l.order & 0x1f;
        }
        if ((l.order & 0x1f) !== lfnNext || l.checksum !== lfnSum) {
          lfnUnits = [];
          continue;
        }
        lfnUnits.unshift(lfnEntryUnits(bytes, at));
        lfnNext--;
        continue;
      }
      const e = DirEntry.decode(bytes, at);
      let name: string;
      if (lfnUnits.length > 0 && lfnNext === 0 && lfnChecksum(e.name) === lfnSum) {
        const units = lfnUnits.flat();
        const end = units.indexOf(0);
        name = String.fromCharCode(...(end >= 0 ? units.slice(0, end) : units));
      } else name = decodeShortName(e.name, e.ntCase);
      lfnUnits = [];
      if (attributes & ATTR_VOLUME_ID) {
        // 11 characters, no dot between 8 and 3 as a file name has
        if (where === '' && volumeLabel === undefined) volumeLabel = String.fromCharCode(...e.name.subarray(0, 11)).replace(/ +$/, '');
        continue;
      }
      if (name === '.' || name === '..') continue;
      const isDir = (attributes & ATTR_DIRECTORY) !== 0;
      const cluster = entryCluster(e);
      out.push({
        name,
        attributes,
        cluster,
        size: isDir ? 0 : e.size,
        stat: {
          type: isDir ? 'dir' : 'file',
          mode: isDir ? 0o755 : attributes & ATTR_READ_ONLY ? 0o444 : 0o644,
          uid: 0,
          gid: 0,
          size: isDir ? 0 : e.size,
          mtime: decodeFatTime(e.writeDate, e.writeTime),
          atime: decodeFatTime(e.accessDate, 0),
          crtime: decodeFatTime(e.createDate, e.createTime, e.createTimeFine),
          ino: 0,
          nlink: 1,
          attributes,
        },
      });
    }
    return out;
  };

  const rootBytes = (): Uint8Array =>
    vol.fatType === 32
      ? readChain(vol.rootCluster, '/')
      : source.read((vol.reservedSectors + vol.numFats * vol.fatSectors) * SECTOR, vol.rootEntries * DIRENT_SIZE);
  const root = parseDir(rootBytes(), '');
  // The root's identity is its first cluster on FAT32 (1 where it has none), so a subdirectory
  // pointing back at the root is seen as the same directory by walkers that track identities.
  const rootStat: FsStat = {
    type: 'dir',
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: { sec: 315532800, nsec: 0 },
    ino: vol.rootCluster >= 2 ? vol.rootCluster : 1,
    nlink: 2,
    attributes: ATTR_DIRECTORY,
  };

  const dirCache = new Map<string, RawEntry[]>([['', root]]);
  const split = (path: string): string[] => path.split('/').filter((p) => p !== '' && p !== '.');
  const lookup = (path: string): RawEntry | undefined => {
    const parts = split(path);
    let entries = root;
    let cur = '';
    let found: RawEntry | undefined;
    for (let i = 0; i < parts.length; i++) {
      const want = parts[i]!.toUpperCase();
      found = entries.find((e) => e.name === parts[i]) ?? entries.find((e) => e.name.toUpperCase() === want);
      if (!found) throw new KilnError('no-such-path', `'${path}' does not exist in the FAT image`);
      cur = cur ? `${cur}/${found.name}` : found.name;
      if (i < parts.length - 1) {
        if (found.stat.type !== 'dir') throw new KilnError('not-a-directory', `'${cur}' is not a directory`);
        entries = dirEntries(found, cur);
      }
    }
    return found;
  };
  const dirEntries = (e: RawEntry, path: string): RawEntry[] => {
    let list = dirCache.get(path);
    if (!list) {
      // Only '..' may name the root as cluster 0; a subdirectory there would be the root again
      // (a loop), and clusters 1 and past the volume hold no directory.
      if (e.cluster < 2 || e.cluster >= vol.clusterCount + 2)
        throw fatCorrupt(`'${path}': directory entry points at cluster ${e.cluster}, where no directory can start (clusters 2–${vol.clusterCount + 1})`);
      if (vol.fatType === 32 && e.cluster === vol.rootCluster)
        throw fatCorrupt(`'${path}': directory entry points at the root directory's cluster ${e.cluster} (a loop)`);
      list = parseDir(readChain(e.cluster, path), path);
      dirCache.set(path, list);
    }
    return list;
  };
  const withIno = (e: RawEntry): FsStat => ({ ...e.stat, ino: e.cluster || 0x100000000 + hashName(e.name) });

  const contentOf = (e: RawEntry, path: string): FileContent => {
    const size = e.size;
    return {
      size,
      open(): ContentReader {
        const clusters = size === 0 ? [] : chain(e.cluster, path);
        if (clusters.length * clusterBytes < size) throw new KilnError('fat-corrupt', `'${path}': ${size} bytes but only ${clusters.length} clusters`);
        return {
          read(offset, into) {
            let done = 0;
            const want = Math.max(0, Math.min(into.length, size - offset));
            while (done < want) {
              const pos = offset + done;
              const ci = Math.floor(pos / clusterBytes);
              const within = pos % clusterBytes;
              // Extend over physically consecutive clusters for one large read.
              let run = 1;
              while (ci + run < clusters.length && clusters[ci + run] === clusters[ci]! + run && run * clusterBytes - within < want - done) run++;
              const n = Math.min(want - done, run * clusterBytes - within);
              into.set(source.read(clusterOffset(clusters[ci]!) + within, n), done);
              done += n;
            }
            return done;
          },
          close() {},
        };
      },
    };
  };

  return {
    kind: 'fat',
    volume: vol,
    get label() {
      return volumeLabel;
    },
    stat(path) {
      const e = lookup(path);
      return e ? withIno(e) : rootStat;
    },
    list(path) {
      const e = lookup(path);
      if (e && e.stat.type !== 'dir') throw new KilnError('not-a-directory', `'${path}' is not a directory`);
      const entries = e ? dirEntries(e, split(path).join('/')) : root;
      return entries.map((x): FsDirEntry => ({ name: x.name, stat: withIno(x) }));
    },
    readFile(path) {
      return readContent(this.content(path));
    },
    content(path) {
      const e = lookup(path);
      if (e?.stat.type !== 'file') throw new KilnError('not-a-file', `'${path}' is not a regular file`);
      return contentOf(e, path);
    },
  };
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
