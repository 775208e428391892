import { createReadStream } from 'node:fs';
import type { KilnError } from '../../errors.js';
import { HostFileContent } from '../../fs/content.js';
import { parseTar, type TarEntry } from '../../fs/tar/reader.js';
import { addTarEntry } from '../../fs/tree-from-tar.js';
import { FileTree } from '../../fs/tree.js';
import { resolveInside, symlinkStaysInside } from './tree-ops.js';

/**
 * An uncompressed tar archive in the source cache as a tree, straight from its headers: file
 * contents reference the archive, owners are dropped (sources are normalised later), device
 * nodes are skipped, and members that would land outside the staging directory are refused.
 */

/** Makes a located error for the source being staged. */
export type Fail = (code: string, message: string, hint?: string) => KilnError;

const REPACK = 'kiln refuses archives whose members escape; repack the archive';

function memberPath(entry: TarEntry, field: 'path' | 'linkname', fail: Fail): string {
  const raw = field === 'path' ? entry.path : entry.linkname;
  const what = field === 'path' ? `member '${entry.path}'` : `member '${entry.path}' is a hard link to '${entry.linkname}', which`;
  if (raw.startsWith('/')) throw fail('tar-escape', `${what} has an absolute path; it would be staged outside the staging directory`, REPACK);
  const p = resolveInside(raw);
  if (p === undefined) throw fail('tar-escape', `${what} climbs out of the staging directory with '..'`, REPACK);
  return p;
}

export async function archiveTree(archive: string, what: string, fail: Fail): Promise<FileTree> {
  const tree = new FileTree({ mode: 0o755 });
  await parseTar(
    createReadStream(archive, { highWaterMark: 1 << 20 }),
    (entry) => {
      if (entry.type === 'char' || entry.type === 'block') return; // device nodes are skipped
      const fixed: TarEntry = { ...entry, path: memberPath(entry, 'path', fail) };
      if (entry.type === 'hardlink') fixed.linkname = memberPath(entry, 'linkname', fail);
      const content = entry.type === 'file' ? new HostFileContent(archive, entry.size, entry.dataOffset) : undefined;
      addTarEntry(tree, fixed, content, 'root');
    },
    what,
  );
  return tree;
}

/**
 * Refuses symlinks under `base` that would point outside the element's staging area once
 * placed under `directory` (absolute targets included).
 */
export function checkSymlinks(tree: FileTree, base: string, directory: string, fail: Fail): void {
  const prefix = base === '' ? '' : `${base}/`;
  for (const [path, inode] of tree.walk()) {
    if (inode.type !== 'symlink' || (base !== '' && !path.startsWith(prefix))) continue;
    const rel = path.slice(prefix.length);
    const placed = directory ? `${directory}/${rel}` : rel;
    if (!symlinkStaysInside(placed, inode.target ?? '')) {
      throw fail(
        'tar-escape',
        `member '${path}' is a symlink to '${inode.target}', which points outside the staging directory`,
        'kiln refuses archives whose links escape; repack the archive',
      );
    }
  }
}
