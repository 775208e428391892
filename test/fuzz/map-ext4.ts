/**
 * The metadata map of a clean ext2/3/4 image, built by walking it once: superblock, group
 * descriptors, bitmaps, every reachable inode, extent tree nodes, indirect blocks, directory
 * records and htree blocks, xattr blocks. Structural mutations build what the readers must
 * survive: directory loops, directories of 2^32+ bytes, extent trees whose index entries all
 * lead to one child, indirect blocks that point at themselves, symlinks of gigabytes, a root
 * that is not a directory.
 */
import { MemoryTarget } from '../../src/fs/memory-target.js';
import { INCOMPAT, INODE_FLAG, RO_COMPAT } from '../../src/fs/ext4/constants.js';
import { Dirent, DirentTail, DIRENT_TAIL_SIZE, dirBlockChecksum, hasDirBlockTail } from '../../src/fs/ext4/dirent.js';
import { ExtentHeader, ExtentIndex, ExtentLeaf, decodeExtentIndex, setExtentBlockChecksum } from '../../src/fs/ext4/extent.js';
import { GroupDescriptor, decodeGroupDescriptor, groupDescriptorChecksum, type GroupInfo } from '../../src/fs/ext4/group-descriptor.js';
import { DX_NODE_ENTRIES_OFFSET, DX_ROOT_INFO_OFFSET, DxCountLimit, DxRootInfo, DxTail, dxChecksum } from '../../src/fs/ext4/htree.js';
import { InodeStruct, inodeSeed, setInodeChecksum } from '../../src/fs/ext4/inode.js';
import { readExt4 } from '../../src/fs/ext4/reader.js';
import { Superblock, checksumSeed, setSuperblockChecksum } from '../../src/fs/ext4/superblock.js';
import { XattrBlockHeader, XattrEntry, xattrBlockChecksum, XATTR_MAGIC } from '../../src/fs/ext4/xattr.js';
import type { ImageMap, Region, Structural } from './model.js';
import { view } from './model.js';

interface DirRecord {
  /** Directory holding the record, and the record's byte offset in the image. */
  dir: number;
  at: number;
  ino: number;
  isDir: boolean;
}

interface Owned {
  ino: number;
  block: number;
}

export function mapExt4(bytes: Uint8Array): ImageMap {
  const reader = readExt4(new MemoryTarget(bytes));
  const sb = reader.sb;
  const bs = reader.blockSize;
  const inodeSize = reader.inodeSize;
  const descSize = reader.descSize;
  const regions: Region[] = [{ tag: 'ext4 superblock', offset: 1024, length: 1024, struct: Superblock }];
  const groups: GroupInfo[] = [];
  const descAt: number[] = [];
  for (let g = 0; g < reader.groupCount; g++) {
    const at = (sb.s_first_data_block + 1) * bs + g * descSize;
    descAt.push(at);
    groups.push(decodeGroupDescriptor(padTo(bytes.subarray(at, at + descSize), GroupDescriptor.size), 0, descSize));
    regions.push({ tag: 'ext4 group descriptor', offset: at, length: descSize, struct: GroupDescriptor, structSize: descSize, owner: `group ${g}` });
  }
  for (const [g, d] of groups.entries()) {
    regions.push({ tag: 'ext4 bitmap', offset: d.blockBitmap * bs, length: bs, owner: `block bitmap ${g}` });
    regions.push({ tag: 'ext4 bitmap', offset: d.inodeBitmap * bs, length: bs, owner: `inode bitmap ${g}` });
  }
  const inodeAt = (ino: number): number => {
    const g = Math.floor((ino - 1) / sb.s_inodes_per_group);
    return groups[g]!.inodeTable * bs + ((ino - 1) % sb.s_inodes_per_group) * inodeSize;
  };

  const inodes: number[] = [];
  const types = new Map<number, string>();
  const sizes = new Map<number, number>();
  const parent = new Map<number, number>([[2, 2]]);
  const records: DirRecord[] = [];
  const extentBlocks: (Owned & { depth: number })[] = [];
  const indirect: (Owned & { level: number })[] = [];
  const leafBlocks: Owned[] = [];
  const dxBlocks: (Owned & { entriesOffset: number })[] = [];
  const xattrBlocks: Owned[] = [];
  /** Inodes whose in-inode root has index entries (depth ≥ 1). */
  const deepExtentRoots: number[] = [];
  const ibodyXattrs: number[] = [];
  const firstLeafExtent: { ino: number; at: number }[] = [];

  const seen = new Set<number>();
  const stack = [2];
  while (stack.length > 0) {
    const ino = stack.pop()!;
    if (seen.has(ino)) continue;
    seen.add(ino);
    const inode = reader.inode(ino);
    const at = inodeAt(ino);
    inodes.push(ino);
    types.set(ino, inode.type);
    sizes.set(ino, inode.size);
    regions.push({ tag: 'ext4 inode', offset: at, length: inodeSize, struct: InodeStruct, structSize: inodeSize, owner: `inode ${ino} (${inode.type})` });
    // the magic alone (mke2fs writes it in every inode of an inline_data filesystem) with the
    // end-of-list marker after it holds no entry: bytes mutated there are not part of any
    const area = inode.ibodyXattrArea;
    if (area.length >= 8 && view(area).getUint32(0, true) === XATTR_MAGIC && view(area).getUint32(4, true) !== 0) {
      ibodyXattrs.push(ino);
      regions.push({ tag: 'ext4 xattr entry', offset: at + 128 + inode.extraIsize + 4, length: XattrEntry.size, struct: XattrEntry, owner: `inode ${ino}` });
    }
    const mapped = inode.type === 'file' || inode.type === 'dir' || (inode.type === 'symlink' && !reader.isFastSymlink(inode));
    if (mapped && !(inode.flags & INODE_FLAG.INLINE_DATA)) {
      if (inode.flags & INODE_FLAG.EXTENTS) {
        regions.push({ tag: 'ext4 extent header', offset: at + 0x28, length: 12, struct: ExtentHeader, owner: `inode ${ino}` });
        const depth = ExtentHeader.get(inode.iBlock, 'eh_depth') as number;
        if (depth > 0) deepExtentRoots.push(ino);
        const walkNode = (node: Uint8Array, nodeAt: number, d: number): void => {
          const entries = ExtentHeader.get(node, 'eh_entries') as number;
          for (let i = 0; i < entries; i++) {
            const eAt = 12 + i * 12;
            regions.push({
              tag: d > 0 ? 'ext4 extent index' : 'ext4 extent',
              offset: nodeAt + eAt,
              length: 12,
              struct: d > 0 ? ExtentIndex : ExtentLeaf,
              owner: `inode ${ino}`,
            });
            if (d === 0) {
              if (i === 0) firstLeafExtent.push({ ino, at: nodeAt + eAt });
              continue;
            }
            const child = decodeExtentIndex(node, eAt).child;
            extentBlocks.push({ ino, block: child, depth: d - 1 });
            regions.push({ tag: 'ext4 extent header', offset: child * bs, length: 12, struct: ExtentHeader, owner: `inode ${ino}` });
            walkNode(bytes.subarray(child * bs, (child + 1) * bs), child * bs, d - 1);
          }
        };
        walkNode(inode.iBlock, at + 0x28, depth);
      } else {
        const words = view(inode.iBlock);
        const walkInd = (block: number, level: number): void => {
          if (block === 0 || block * bs >= bytes.length) return;
          indirect.push({ ino, block, level });
          regions.push({ tag: 'ext4 indirect block', offset: block * bs, length: bs, owner: `inode ${ino} level ${level}` });
          if (level === 1) return;
          const v = view(bytes.subarray(block * bs, (block + 1) * bs));
          for (let i = 0; i < bs / 4; i++) walkInd(v.getUint32(i * 4, true), level - 1);
        };
        for (let level = 1; level <= 3; level++) walkInd(words.getUint32((11 + level) * 4, true), level);
      }
    }
    if (inode.xattrBlock !== 0) {
      xattrBlocks.push({ ino, block: inode.xattrBlock });
      regions.push({ tag: 'ext4 xattr block', offset: inode.xattrBlock * bs, length: XattrBlockHeader.size, struct: XattrBlockHeader, owner: `inode ${ino}` });
      regions.push({
        tag: 'ext4 xattr entry',
        offset: inode.xattrBlock * bs + XattrBlockHeader.size,
        length: XattrEntry.size,
        struct: XattrEntry,
        owner: `inode ${ino}`,
      });
    }
    if (inode.type !== 'dir') continue;
    for (const e of reader.dirEntries(inode)) {
      if (!parent.has(e.ino)) parent.set(e.ino, ino);
      stack.push(e.ino);
    }
    if (inode.flags & INODE_FLAG.INLINE_DATA) continue;
    const runs = reader.runsOf(inode);
    for (const run of runs) {
      for (let k = 0; k < run.length; k++) {
        const lb = run.logical + k;
        const block = run.physical + k;
        const blockAt = block * bs;
        const data = bytes.subarray(blockAt, blockAt + bs);
        const indexed = (inode.flags & INODE_FLAG.INDEX) !== 0;
        const isDxNode = indexed && lb > 0 && view(data).getUint32(0, true) === 0 && view(data).getUint16(4, true) === bs;
        if (indexed && lb === 0) {
          regions.push({ tag: 'ext4 htree root', offset: blockAt + DX_ROOT_INFO_OFFSET, length: DxRootInfo.size, struct: DxRootInfo, owner: `inode ${ino}` });
          regions.push({ tag: 'ext4 htree count', offset: blockAt + 32, length: DxCountLimit.size, struct: DxCountLimit, owner: `inode ${ino}` });
          dxBlocks.push({ ino, block, entriesOffset: 32 });
        } else if (isDxNode) {
          regions.push({
            tag: 'ext4 htree count',
            offset: blockAt + DX_NODE_ENTRIES_OFFSET,
            length: DxCountLimit.size,
            struct: DxCountLimit,
            owner: `inode ${ino}`,
          });
          dxBlocks.push({ ino, block, entriesOffset: DX_NODE_ENTRIES_OFFSET });
          continue;
        } else if (hasDirBlockTail(data)) leafBlocks.push({ ino, block });
        regions.push({ tag: 'ext4 directory block', offset: blockAt, length: bs, owner: `inode ${ino} block ${lb}` });
        for (let off = 0; off + 8 <= bs; ) {
          const recLen = view(data).getUint16(off + 4, true);
          const child = view(data).getUint32(off, true);
          const nameLen = data[off + 6]!;
          const dot = nameLen <= 2 && data[off + 8] === 0x2e && (nameLen === 1 || data[off + 9] === 0x2e);
          if (child !== 0 && !dot) {
            regions.push({ tag: 'ext4 dirent', offset: blockAt + off, length: 8, struct: Dirent, owner: `inode ${ino}` });
            records.push({ dir: ino, at: blockAt + off, ino: child, isDir: data[off + 7] === 2 });
          }
          if (recLen < 8) break;
          off += recLen;
        }
      }
    }
  }

  const csum = (sb.s_feature_ro_compat & RO_COMPAT.METADATA_CSUM) !== 0;
  const reseal = csum
    ? (b: Uint8Array): void => {
        const v = view(b);
        const s = Superblock.decode(b, 1024);
        const seed = checksumSeed(s, (s.s_feature_incompat & INCOMPAT.CSUM_SEED) !== 0);
        const gen = (ino: number): number => v.getUint32(inodeAt(ino) + 0x64, true);
        const tryTo = (f: () => void): void => {
          try {
            f();
          } catch {
            // a mutated length field can put a checksum outside its block: leave that one
          }
        };
        const block = (n: number): Uint8Array => b.subarray(n * bs, (n + 1) * bs);
        for (const e of extentBlocks) tryTo(() => setExtentBlockChecksum(inodeSeed(seed, e.ino, gen(e.ino)), block(e.block)));
        for (const l of leafBlocks) {
          tryTo(() => {
            const data = block(l.block);
            if (hasDirBlockTail(data))
              DirentTail.encode({ det_checksum: dirBlockChecksum(inodeSeed(seed, l.ino, gen(l.ino)), data) }, data, bs - DIRENT_TAIL_SIZE);
          });
        }
        for (const d of dxBlocks) {
          tryTo(() => {
            const data = block(d.block);
            const limit = DxCountLimit.get(data, 'limit', d.entriesOffset) as number;
            if (d.entriesOffset + limit * 8 + DxTail.size <= bs)
              DxTail.encode({ dt_checksum: dxChecksum(inodeSeed(seed, d.ino, gen(d.ino)), data, d.entriesOffset) }, data, d.entriesOffset + limit * 8);
          });
        }
        for (const x of xattrBlocks) tryTo(() => XattrBlockHeader.encode({ h_checksum: xattrBlockChecksum(seed, x.block, block(x.block)) }, block(x.block)));
        for (const ino of inodes) tryTo(() => setInodeChecksum(seed, ino, b, inodeAt(ino), inodeSize));
        for (const [g, at] of descAt.entries()) tryTo(() => v.setUint16(at + 0x1e, groupDescriptorChecksum(seed, g, b, at, descSize), true));
        setSuperblockChecksum(b, 1024);
      }
    : undefined;

  // ---- structural mutations ----
  const structural: Structural[] = [];
  const setU32 = (b: Uint8Array, at: number, value: number): void => view(b).setUint32(at, value >>> 0, true);
  const ancestors = (ino: number): number[] => {
    const out: number[] = [];
    for (let cur = ino; ; cur = parent.get(cur)!) {
      out.push(cur);
      if (cur === 2 || !parent.has(cur)) break;
    }
    return out;
  };
  const dirRecords = records.filter((r) => r.isDir && types.get(r.ino) === 'dir');
  for (const r of dirRecords.slice(0, 4)) {
    for (const target of new Set(ancestors(r.dir))) {
      structural.push({ name: `directory entry in inode ${r.dir} -> ancestor directory ${target}`, mustFail: true, apply: (b) => setU32(b, r.at, target) });
    }
  }
  const allDirs = inodes.filter((i) => types.get(i) === 'dir' && i !== 2);
  const fileRecord = records.find((r) => types.get(r.ino) === 'file');
  const deepDir = allDirs.find((d) => !fileRecord || !ancestors(fileRecord.dir).includes(d));
  if (fileRecord && deepDir !== undefined) {
    structural.push({
      name: `directory entry in inode ${fileRecord.dir} -> second link to directory ${deepDir}`,
      mustFail: true,
      apply: (b) => setU32(b, fileRecord.at, deepDir),
    });
  }
  for (const d of [2, ...allDirs.slice(0, 2)]) {
    for (const high of [1, 0xffffffff]) {
      structural.push({ name: `directory inode ${d}: i_size_high = ${high}`, mustFail: false, apply: (b) => setU32(b, inodeAt(d) + 0x6c, high) });
    }
    structural.push({ name: `directory inode ${d}: i_size_lo = 0xffffffff`, mustFail: false, apply: (b) => setU32(b, inodeAt(d) + 0x04, 0xffffffff) });
    // its blocks outlive its size: debugfs lists them, so kiln must refuse rather than hide them
    structural.push({ name: `directory inode ${d}: i_size_lo = 0 (blocks past the size)`, mustFail: true, apply: (b) => setU32(b, inodeAt(d) + 0x04, 0) });
    structural.push({
      name: `directory inode ${d}: EXT4_ENCRYPT_FL set`,
      mustFail: true,
      apply: (b) => setU32(b, inodeAt(d) + 0x20, view(b).getUint32(inodeAt(d) + 0x20, true) | 0x800),
    });
  }
  for (const ino of deepExtentRoots.slice(0, 3)) {
    structural.push({
      name: `extent root of inode ${ino}: every index entry -> the first child`,
      mustFail: true,
      apply: (b) => {
        const at = inodeAt(ino) + 0x28;
        const entries = view(b).getUint16(at + 2, true);
        const max = view(b).getUint16(at + 4, true);
        const first = view(b).getUint32(at + 12 + 4, true);
        const n = Math.max(entries, max);
        view(b).setUint16(at + 2, n, true);
        for (let i = 0; i < n; i++) {
          setU32(b, at + 12 + i * 12, i * 1000);
          setU32(b, at + 12 + i * 12 + 4, first);
          view(b).setUint16(at + 12 + i * 12 + 8, 0, true);
        }
      },
    });
  }
  for (const e of extentBlocks.filter((x) => x.depth > 0).slice(0, 2)) {
    structural.push({
      name: `extent index block ${e.block} of inode ${e.ino}: every entry -> itself`,
      mustFail: true,
      apply: (b) => {
        const at = e.block * bs;
        const entries = view(b).getUint16(at + 2, true);
        for (let i = 0; i < entries; i++) setU32(b, at + 12 + i * 12 + 4, e.block);
      },
    });
  }
  for (const e of extentBlocks.filter((x) => x.depth === 0).slice(0, 2)) {
    structural.push({
      name: `extent leaf block ${e.block} of inode ${e.ino}: depth 1, every entry -> itself`,
      mustFail: true,
      apply: (b) => {
        const at = e.block * bs;
        view(b).setUint16(at + 6, 1, true);
        const entries = view(b).getUint16(at + 2, true);
        for (let i = 0; i < entries; i++) {
          setU32(b, at + 12 + i * 12 + 4, e.block);
          view(b).setUint16(at + 12 + i * 12 + 8, 0, true);
        }
      },
    });
  }
  for (const f of firstLeafExtent.filter((x) => types.get(x.ino) === 'file').slice(0, 2)) {
    structural.push({
      name: `first extent of inode ${f.ino} -> beyond the filesystem`,
      mustFail: true,
      apply: (b) => {
        view(b).setUint16(f.at + 6, 0, true);
        setU32(b, f.at + 8, sb.s_blocks_count_lo + 100);
      },
    });
  }
  for (const ind of indirect.filter((x) => x.level >= 2).slice(0, 3)) {
    structural.push({
      name: `level-${ind.level} indirect block ${ind.block} of inode ${ind.ino}: every pointer -> itself, size 2^40`,
      mustFail: true,
      apply: (b) => {
        for (let i = 0; i < bs / 4; i++) setU32(b, ind.block * bs + i * 4, ind.block);
        setU32(b, inodeAt(ind.ino) + 0x04, 0);
        setU32(b, inodeAt(ind.ino) + 0x6c, 0x100);
      },
    });
  }
  const filesWithInd = [...new Set(indirect.map((x) => x.ino))];
  for (const ino of filesWithInd.slice(0, 2)) {
    structural.push({
      name: `inode ${ino}: double and triple indirect -> its single indirect block, size 2^40`,
      mustFail: true,
      apply: (b) => {
        const at = inodeAt(ino) + 0x28;
        const ind = view(b).getUint32(at + 48, true);
        setU32(b, at + 52, ind);
        setU32(b, at + 56, ind);
        setU32(b, inodeAt(ino) + 0x04, 0);
        setU32(b, inodeAt(ino) + 0x6c, 0x100);
      },
    });
  }
  for (const ino of inodes.filter((i) => types.get(i) === 'symlink').slice(0, 3)) {
    for (const [lo, hi, what] of [
      [0xc0000000, 0, '3 GiB'],
      [5, 1, '4 GiB + 5'],
      [0, 0x100, '2^40'],
    ] as const) {
      structural.push({
        name: `symlink inode ${ino}: size ${what}`,
        mustFail: true,
        apply: (b) => {
          setU32(b, inodeAt(ino) + 0x04, lo);
          setU32(b, inodeAt(ino) + 0x6c, hi);
        },
      });
    }
  }
  const files = inodes.filter((i) => types.get(i) === 'file');
  for (const ino of files.slice(0, 2)) {
    structural.push({
      name: `file inode ${ino}: size 2^40`,
      mustFail: false,
      apply: (b) => (setU32(b, inodeAt(ino) + 0x04, 0), setU32(b, inodeAt(ino) + 0x6c, 0x100)),
    });
  }
  const biggest = files.reduce((best, i) => ((sizes.get(i) ?? 0) > (sizes.get(best) ?? -1) ? i : best), files[0] ?? 0);
  for (const ino of ibodyXattrs.slice(0, 2)) {
    if (!biggest) break;
    structural.push({
      name: `first in-inode xattr of inode ${ino}: value in inode ${biggest} (${sizes.get(biggest)} bytes)`,
      mustFail: (sizes.get(biggest) ?? 0) > 65536,
      apply: (b) => {
        const inode = reader.inode(ino);
        const at = inodeAt(ino) + 128 + inode.extraIsize + 4;
        setU32(b, at + 4, biggest);
        setU32(b, at + 8, sizes.get(biggest) ?? 0);
      },
    });
  }
  structural.push({ name: 'root inode: a regular file', mustFail: true, apply: (b) => view(b).setUint16(inodeAt(2), 0o100644, true) });
  structural.push({
    name: 'superblock: s_inodes_per_group = s_inodes_count',
    mustFail: false,
    apply: (b) => setU32(b, 1024 + 0x28, view(b).getUint32(1024, true)),
  });
  structural.push({
    name: 'superblock: s_first_data_block = blocks count',
    mustFail: true,
    apply: (b) => setU32(b, 1024 + 0x14, view(b).getUint32(1024 + 4, true)),
  });
  structural.push({ name: 'superblock: s_blocks_count_lo = 1', mustFail: true, apply: (b) => setU32(b, 1024 + 4, 1) });
  structural.push({
    name: 'group 0: inode table at block 0',
    mustFail: true,
    apply: (b) => (setU32(b, descAt[0]! + 8, 0), descSize >= 64 && setU32(b, descAt[0]! + 0x28, 0)),
  });
  return { regions, structural, ...(reseal ? { reseal } : {}) };
}

function padTo(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.length >= size) return bytes;
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}
