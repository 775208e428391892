import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../errors.js';
import { HostFileContent } from './content.js';
import type { FileContent } from './file-content.js';
import { detectCompression, openDecompressed } from './tar/decompress.js';
import { parseTar, type TarEntry } from './tar/reader.js';
import { FileTree, makeInode, normalizePath, parentOf, type Inode, type Timestamp } from './tree.js';

export type OwnerPolicy = 'keep' | 'root';

export interface TarTreeOptions {
  /** 'keep' (default) takes owners from the headers; 'root' makes everything 0:0. */
  owners?: OwnerPolicy;
  /** Where to spool member data of compressed archives (default: a new temp directory). */
  spoolDir?: string;
}

/** A tree built from a tar archive; `dispose()` removes the spooled data, if any. */
export interface TarTree {
  tree: FileTree;
  dispose(): void;
}

/**
 * Spools member data into one append-only file and hands out ranges of it, so a compressed
 * archive's content is on disk once, never in memory.
 */
class Spool {
  private fd = -1;
  private size = 0;
  readonly path: string;
  constructor(readonly dir: string) {
    this.path = join(dir, 'spool');
  }
  async put(data: AsyncIterable<Uint8Array>, size: number): Promise<FileContent> {
    if (this.fd < 0) this.fd = openSync(this.path, 'w');
    const start = this.size;
    for await (const chunk of data) {
      let done = 0;
      while (done < chunk.length) done += writeSync(this.fd, chunk, done, chunk.length - done, this.size + done);
      this.size += chunk.length;
    }
    return new HostFileContent(this.path, size, start);
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Adds one parsed tar member to a tree (shared by archive sources in the pipeline). */
export function addTarEntry(tree: FileTree, entry: TarEntry, content: FileContent | undefined, owners: OwnerPolicy): void {
  let path: string;
  try {
    path = normalizePath(entry.path.replace(/^\/+/, ''));
  } catch {
    throw new KilnError('tar-escape', `tar member '${entry.path}' points outside the archive root`, 'remove the member or repack the archive');
  }
  if (path === '' && entry.type !== 'dir') return;
  const uid = owners === 'root' ? 0 : entry.uid;
  const gid = owners === 'root' ? 0 : entry.gid;
  const times: { mtime: Timestamp; atime?: Timestamp; ctime?: Timestamp } = { mtime: entry.mtime };
  if (entry.atime) times.atime = entry.atime;
  if (entry.ctime) times.ctime = entry.ctime;
  const init = { mode: entry.mode, uid, gid, ...times, xattrs: entry.xattrs };
  if (path !== '') tree.mkdirp(parentOf(path), { mode: 0o755, mtime: entry.mtime });
  if (entry.type === 'hardlink') {
    const target = normalizePath(entry.linkname.replace(/^\/+/, ''));
    if (!tree.has(target))
      throw new KilnError('tar-bad-link', `tar member '${entry.path}' is a hard link to '${entry.linkname}', which comes later or not at all`);
    if (tree.has(path)) tree.remove(path);
    tree.link(path, target);
    return;
  }
  let inode: Inode;
  switch (entry.type) {
    case 'dir':
      inode = makeInode('dir', 0o755, init);
      if (path === '') {
        Object.assign(tree.root, inode);
        return;
      }
      break;
    case 'file':
      inode = makeInode('file', 0o644, init);
      inode.content = content!;
      break;
    case 'symlink':
      inode = makeInode('symlink', 0o777, init);
      inode.target = entry.linkname;
      break;
    case 'char':
    case 'block':
      inode = makeInode(entry.type, 0o600, init);
      inode.rdev = { major: entry.devmajor, minor: entry.devminor };
      break;
    default:
      inode = makeInode(entry.type, 0o644, init);
  }
  const existing = tree.get(path);
  if (existing && existing.type !== 'dir' && inode.type === 'dir') tree.remove(path);
  if (existing && existing.type === 'dir' && inode.type !== 'dir') tree.remove(path);
  tree.set(path, inode);
}

/**
 * Builds a FileTree from a tar archive file (plain, gzip, bzip2, xz or zstd). Owners, modes
 * with setuid bits, device numbers, hard links and pax xattrs come from the headers. Plain
 * archives are referenced in place; compressed ones are spooled once to a temp file.
 */
export async function treeFromTar(path: string, options: TarTreeOptions = {}): Promise<TarTree> {
  const owners = options.owners ?? 'keep';
  const compression = await detectCompression(path).catch((e: Error) => {
    throw new KilnError('no-source', `cannot read tar archive '${path}': ${e.message}`);
  });
  const tree = new FileTree({ mode: 0o755 });
  let spoolDir: string | undefined;
  let spool: Spool | undefined;
  if (compression !== 'none') {
    spoolDir = options.spoolDir ?? mkdtempSync(join(tmpdir(), 'kiln-tar-'));
    spool = new Spool(spoolDir);
  }
  const dispose = (): void => {
    spool?.close();
    if (spoolDir && !options.spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  };
  try {
    const stream = await openDecompressed(path, compression);
    await parseTar(
      stream,
      async (entry, data) => {
        let content: FileContent | undefined;
        if (entry.type === 'file') content = spool ? await spool.put(data, entry.size) : new HostFileContent(path, entry.size, entry.dataOffset);
        addTarEntry(tree, entry, content, owners);
      },
      path,
    );
    spool?.close();
  } catch (e) {
    dispose();
    throw e;
  }
  return { tree, dispose };
}
