import { readFileSync, rmSync, statSync } from 'node:fs';
import { KilnError } from '../errors.js';
import { HostFileContent } from '../fs/content.js';
import { newSpoolDir, removeStaleSpools, withSparseFile } from '../fs/file-target.js';
import { treeFromDirectory } from '../fs/tree-from-dir.js';
import { treeFromTar } from '../fs/tree-from-tar.js';
import { planDisk, writeDisk, type AssembleOptions, type DiskResult } from './assemble.js';
import type { DiskHost } from './disk-host.js';
import type { DiskLayout } from './disk-layout.js';
import { loadSyslinuxBinaries } from './syslinux/binaries.js';

/**
 * Disk assembly on Node: the host that reads what a layout names by path (directories, tar
 * archives, files, SYSLINUX binaries, boot code), and assembly straight into a sparse file.
 */

export const nodeDiskHost: DiskHost = {
  async sourceTree(source, spec, disposers) {
    let isDir: boolean;
    try {
      isDir = statSync(source).isDirectory();
    } catch (e) {
      throw new KilnError('no-source', `source '${source}' cannot be read: ${(e as Error).message}`, 'it must exist until the image is written');
    }
    if (isDir) return treeFromDirectory(source, { owners: spec.rootOwner === false ? 'keep' : 'root' });
    // A spool named by PID, so that the spool of a killed or interrupted run can be found and removed.
    removeStaleSpools();
    const spoolDir = newSpoolDir();
    disposers.push(() => rmSync(spoolDir, { recursive: true, force: true }));
    const t = await treeFromTar(source, { owners: spec.rootOwner ? 'root' : 'keep', spoolDir });
    disposers.push(t.dispose);
    return t.tree;
  },
  file: (path) => HostFileContent.of(path),
  mtime: (path) => Math.floor(statSync(path).mtimeMs / 1000),
  readFile: (path) => new Uint8Array(readFileSync(path)),
  syslinuxBinaries: (dir) => loadSyslinuxBinaries(dir),
};

export interface DiskFileResult extends DiskResult {
  /** The byte ranges written, [start, end) pairs (the rest are holes); absent when the writes were too scattered to keep. */
  dataRanges?: number[];
}

/**
 * Assembles the disk into a new sparse file at `outPath` (temp name + rename: no partial file).
 * Host paths in the layout are read through `options.host`, by default `nodeDiskHost`.
 */
export async function assembleDisk(layout: DiskLayout, outPath: string, options: AssembleOptions = {}): Promise<DiskFileResult> {
  const plan = await planDisk(layout, { host: nodeDiskHost, ...options });
  try {
    return await withSparseFile(outPath, plan.size, async (t) => {
      const result: DiskFileResult = await writeDisk(plan, t, options);
      const ranges = t.dataRanges;
      if (ranges) result.dataRanges = ranges;
      return result;
    });
  } finally {
    plan.dispose();
  }
}
