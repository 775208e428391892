import { KilnError } from '../../errors.js';
import type { FileContent } from '../../fs/file-content.js';
import { FileTree, makeInode, normalizePath, parentOf, type Inode } from '../../fs/tree.js';
import type { PartitionSpec } from '../disk-layout.js';
import { keyPosition, positioned, type PlanContext } from './format.js';

/**
 * The files of a partition that holds a filesystem: its `tree` (copied) or `source`, plus the
 * host files `files` adds.
 */

/** A copy of a tree (inodes shallow-copied, hard links kept), so a caller's tree is never changed. */
function copyTree(src: FileTree): FileTree {
  const out = new FileTree();
  const seen = new Map<Inode, string>();
  for (const [path, inode] of src.walk()) {
    if (path === '') {
      Object.assign(out.root, { ...inode });
      continue;
    }
    const first = seen.get(inode);
    if (first !== undefined) out.link(path, first);
    else {
      out.add(path, { ...inode });
      seen.set(inode, path);
    }
  }
  return out;
}

/** Puts a file at `path` (parents made as needed), replacing what is there. */
export function putFile(tree: FileTree, path: string, content: FileContent, mtimeSec: number): void {
  const p = normalizePath(path);
  tree.mkdirp(parentOf(p), { mode: 0o755, mtime: { sec: mtimeSec, nsec: 0 } });
  const inode = makeInode('file', 0o644, { mtime: { sec: mtimeSec, nsec: 0 } });
  inode.content = content;
  const old = tree.get(p);
  if (old && old.type !== 'file') tree.remove(p);
  tree.set(p, inode);
}

function addFiles(tree: FileTree, spec: PartitionSpec, context: PlanContext): void {
  const { host, sourceDateEpoch } = context;
  for (const [dest, hostPath] of Object.entries(spec.files ?? {})) {
    const content = host.file(hostPath);
    let mtime = sourceDateEpoch;
    if (mtime === undefined) {
      try {
        mtime = host.mtime(hostPath);
      } catch (e) {
        if (e instanceof KilnError) throw e;
        throw new KilnError('no-source', `file for '${dest}' ('${hostPath}') cannot be read: ${(e as Error).message}`);
      }
    }
    try {
      putFile(tree, dest, content, mtime);
    } catch (e) {
      if (e instanceof KilnError) throw new KilnError(e.code, `file destination '${dest}': ${e.message}`, e.hint);
      throw e;
    }
  }
}

/** The partition's tree: a copy of `tree`, or the `source` read through the host (empty without either), plus `files`. */
export async function partitionTree(spec: PartitionSpec, context: PlanContext): Promise<FileTree> {
  const tree = await positioned(keyPosition(spec, 'source'), context.number, () => {
    if (spec.tree) return copyTree(spec.tree);
    if (!spec.source) return new FileTree();
    return context.host.sourceTree(spec.source, spec, context.disposers);
  });
  await positioned(keyPosition(spec, 'files'), context.number, () => addFiles(tree, spec, context));
  return tree;
}
