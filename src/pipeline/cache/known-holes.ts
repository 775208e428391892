import { statSync, type BigIntStats } from 'node:fs';

/**
 * A file whose holes kiln knows: a disk image it has just written, with the byte ranges its
 * writer wrote (SparseFileTarget.dataRanges). Hashing it for the cache then reads those ranges
 * and hashes zeros for the rest without reading them: the first read of a fresh sparse file's
 * holes costs the kernel a zeroed page-cache page each (about 0.1 s for the example's 114 MB
 * image, which holds 8 MB of data).
 *
 * The knowledge holds while the file is the one that was written (device, inode, size) with as
 * many blocks allocated and the same mtime. Commands run on the image afterwards
 * (`final-commands`) cannot then have written into a hole without allocating a block for it,
 * and data they rewrote in place is read anyway: ranges are read in whole ALIGN-byte units, so
 * the rest of a block the writer wrote part of is read too.
 */
export interface KnownHoles {
  path: string;
  /** [start, end) pairs, sorted and disjoint: everything else is zeros. */
  dataRanges: number[];
  dev: bigint;
  ino: bigint;
  size: bigint;
  blocks: bigint;
  mtimeNs: bigint;
}

/** A multiple of every filesystem block size in use (4 KiB mostly, 64 KiB on some platforms). */
const ALIGN = 64 << 10;

/** Records what `path` is now, as the writer that wrote `dataRanges` of it left it. */
export function knowHoles(path: string, dataRanges: number[]): KnownHoles {
  const st = statSync(path, { bigint: true });
  return { path, dataRanges, dev: st.dev, ino: st.ino, size: st.size, blocks: st.blocks, mtimeNs: st.mtimeNs };
}

/**
 * The ranges to read of the file `st` describes, [start, end) pairs widened to ALIGN and
 * merged; undefined when the file is no longer the one `known` describes (read all of it).
 */
export function rangesToRead(known: KnownHoles, st: BigIntStats): number[] | undefined {
  if (st.dev !== known.dev || st.ino !== known.ino || st.size !== known.size || st.blocks !== known.blocks || st.mtimeNs !== known.mtimeNs) return undefined;
  const size = Number(st.size);
  const out: number[] = [];
  for (let i = 0; i < known.dataRanges.length; i += 2) {
    const start = Math.floor(known.dataRanges[i]! / ALIGN) * ALIGN;
    const end = Math.min(size, Math.ceil(known.dataRanges[i + 1]! / ALIGN) * ALIGN);
    if (out.length > 0 && start <= out[out.length - 1]!) out[out.length - 1] = Math.max(out[out.length - 1]!, end);
    else out.push(start, end);
  }
  return out;
}
