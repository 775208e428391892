import { KilnError } from '../errors.js';
import { SubSource, type BlockSource } from '../fs/block-target.js';
import { readExt4 } from '../fs/ext4/reader.js';
import { freeBlocksCount, blocksCount } from '../fs/ext4/superblock.js';
import { decodeFat, FREE } from '../fs/fat/fat-table.js';
import { readFat } from '../fs/fat/reader.js';
import { FileSource } from '../fs/file-target.js';
import { readSwap } from '../fs/swap.js';
import { decodeGpt } from '../partition/gpt.js';
import { decodeMbr } from '../partition/mbr.js';
import { ext4Format } from '../partition/formats/ext4.js';
import { fatFormat } from '../partition/formats/fat.js';
import { swapFormat } from '../partition/formats/swap.js';
import { findGaps, typeNameOf, type DiskView, type PartitionView } from './disk-view.js';

/**
 * `kiln image inspect`: the facts of a disk image (its partition table, and in each partition
 * the filesystem, label, UUID and space) as sfdisk and blkid report them, read by kiln's own
 * decoders. A bare filesystem image is one "partition" covering the file.
 */

const SECTOR = 512;

/** What the filesystem in a partition says of itself; nulls where it is not recognised. */
type FsFacts = Pick<PartitionView, 'filesystem' | 'label' | 'uuid' | 'used' | 'free'> & { fatType?: number };

const NONE: FsFacts = { filesystem: null, label: null, uuid: null, used: null, free: null };

/**
 * ext2, ext3 or ext4 as blkid tells them apart: ext2 has no journal and no feature past ext2's,
 * ext3 a journal and nothing past ext3's, anything else is ext4.
 */
function extName(compat: number, incompat: number, roCompat: number): 'ext2' | 'ext3' | 'ext4' {
  const RO_SUPP = 0x1 | 0x2 | 0x4; // sparse_super, large_file, btree_dir
  const journal = (compat & 0x4) !== 0;
  if ((roCompat & ~RO_SUPP) !== 0) return 'ext4';
  if (!journal && (incompat & ~(0x2 | 0x10)) === 0) return 'ext2'; // filetype, meta_bg
  if (journal && (incompat & ~(0x2 | 0x4 | 0x10)) === 0) return 'ext3'; // + recover
  return 'ext4';
}

/** FAT label as blkid reads it: the root directory's volume label entry, else the boot sector's; `NO NAME` is none. */
function fatLabel(rootLabel: string | undefined, bootLabel: string): string | null {
  for (const l of [rootLabel, bootLabel]) {
    const t = l?.replace(/ +$/, '');
    if (t && t !== 'NO NAME') return t;
  }
  return null;
}

/** The filesystem facts of `source`; a recognised but unreadable filesystem is a warning, not an error. */
function probe(source: BlockSource, where: string, warn: (message: string) => void): FsFacts {
  const attempt = (what: string, fn: () => FsFacts): FsFacts => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      warn(`${where}: ${what} filesystem, but ${e.message}`);
      return { ...NONE, filesystem: what };
    }
  };
  if (fatFormat.detect(source)) {
    return attempt('fat', () => {
      const fat = readFat(source);
      const v = fat.volume;
      try {
        fat.list('/'); // reads the root directory, where the volume label entry is
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        warn(`${where}: FAT root directory unreadable: ${e.message}`);
      }
      const entries = decodeFat(
        v.fatType,
        source.read(v.reservedSectors * SECTOR, v.fatSectors * SECTOR),
        Math.min(v.clusterCount + 2, Math.floor((v.fatSectors * SECTOR * 8) / v.fatType)),
      );
      let free = 0;
      for (let c = 2; c < entries.length; c++) if (entries[c] === FREE) free++;
      const cluster = v.sectorsPerCluster * SECTOR;
      const id = v.volumeId.toString(16).toUpperCase().padStart(8, '0');
      return {
        filesystem: 'fat',
        fatType: v.fatType,
        label: fatLabel(fat.label, v.label),
        uuid: `${id.slice(0, 4)}-${id.slice(4)}`,
        used: (v.clusterCount - free) * cluster,
        free: free * cluster,
      };
    });
  }
  if (ext4Format.detect(source)) {
    return attempt('ext4', () => {
      const r = readExt4(source);
      const info = r.info();
      const free = freeBlocksCount(r.sb) * r.blockSize;
      return {
        filesystem: extName(info.features.compat, info.features.incompat, info.features.roCompat),
        label: info.label || null,
        uuid: info.uuid,
        used: blocksCount(r.sb) * r.blockSize - free,
        free,
      };
    });
  }
  if (swapFormat.detect(source)) {
    return attempt('swap', () => {
      const s = readSwap(source);
      return { filesystem: 'swap', label: s.label || null, uuid: s.uuid, used: null, free: null };
    });
  }
  return NONE;
}

/** Reads the partition table (or the bare filesystem) of the image at `path`. */
export function inspectImage(path: string, warn: (message: string) => void): DiskView {
  const file = new FileSource(path);
  try {
    return inspectSource(file, path, warn);
  } finally {
    file.close();
  }
}

export function inspectSource(file: BlockSource, image: string, warn: (message: string) => void): DiskView {
  const bare = (): DiskView => {
    const facts = probe(file, `'${image}'`, warn);
    if (facts.filesystem === null) {
      throw new KilnError(
        'not-an-image',
        `'${image}' holds no partition table and no filesystem kiln knows (ext4, FAT, swap)`,
        'is it a disk or filesystem image? blkid or file(1) may tell what it is',
      );
    }
    const whole: PartitionView = { number: 1, start: 0, size: file.size, type: null, typeName: null, name: null, partuuid: null, bootable: false, ...facts };
    return { image, size: file.size, table: null, id: null, sectorSize: 512, partitions: [whole], gaps: [] };
  };
  if (file.size < SECTOR) {
    throw new KilnError(
      'not-an-image',
      `'${image}' is ${file.size} bytes, smaller than one sector: not a disk or filesystem image`,
      'name a disk or filesystem image',
    );
  }
  // A FAT volume's boot sector ends in 55 AA like an MBR; its BPB tells them apart.
  if (fatFormat.detect(file)) return bare();
  const s0 = file.read(0, SECTOR);
  const signed = s0[510] === 0x55 && s0[511] === 0xaa;
  const sane = [0, 1, 2, 3].every((k) => s0[446 + k * 16] === 0 || s0[446 + k * 16] === 0x80);
  if (!signed || !sane) return bare();

  const mbr = decodeMbr(file);
  const part = (p: { number: number; start: number; size: number }, rest: Omit<PartitionView, 'number' | 'start' | 'size' | keyof FsFacts>): PartitionView => {
    let facts = NONE;
    if (p.start + p.size > file.size)
      warn(`partition ${p.number} ends at byte ${p.start + p.size}, past the end of the ${file.size}-byte image (truncated?): not looked into`);
    else if (rest.typeName !== 'extended') facts = probe(new SubSource(file, p.start, p.size), `partition ${p.number}`, warn);
    return { number: p.number, start: p.start, size: p.size, ...rest, ...facts };
  };

  if (mbr.protective) {
    const gpt = decodeGpt(file);
    const partitions = gpt.partitions.map((p) => {
      const type = p.typeGuid.toUpperCase();
      return part(
        { number: p.number, start: p.start * SECTOR, size: p.sectors * SECTOR },
        { type, typeName: typeNameOf(type), name: p.name || null, partuuid: p.guid.toUpperCase(), bootable: (p.attributes & 4) !== 0 },
      );
    });
    return {
      image,
      size: file.size,
      table: 'gpt',
      id: gpt.diskGuid.toUpperCase(),
      sectorSize: 512,
      partitions,
      gaps: findGaps(partitions, gpt.firstUsable * SECTOR, (gpt.lastUsable + 1) * SECTOR),
    };
  }

  const sig = mbr.signature.toString(16).padStart(8, '0');
  const mbrType = (t: number): string => `0x${t.toString(16).padStart(2, '0')}`;
  const rows: PartitionView[] = mbr.partitions.map((p) =>
    part(
      { number: p.number, start: p.start * SECTOR, size: p.sectors * SECTOR },
      {
        type: mbrType(p.type),
        typeName: typeNameOf(mbrType(p.type)),
        name: null,
        partuuid: `${sig}-${p.number.toString(16).padStart(2, '0')}`,
        bootable: p.bootable,
      },
    ),
  );
  if (mbr.extended) {
    const e = mbr.extended;
    const raw = mbr.raw[e.number - 1]!;
    const type = mbrType(raw.type);
    rows.push(
      part(
        { number: e.number, start: e.start * SECTOR, size: e.sectors * SECTOR },
        { type, typeName: 'extended', name: null, partuuid: `${sig}-${e.number.toString(16).padStart(2, '0')}`, bootable: raw.status === 0x80 },
      ),
    );
  }
  rows.sort((a, b) => a.number - b.number);
  if (rows.length === 0 && mbr.signature === 0 && (ext4Format.detect(file) || swapFormat.detect(file))) return bare();
  return { image, size: file.size, table: 'mbr', id: sig, sectorSize: 512, partitions: rows, gaps: findGaps(rows, SECTOR, file.size) };
}
