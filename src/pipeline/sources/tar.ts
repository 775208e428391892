import { createReadStream, existsSync, fsyncSync, openSync, closeSync, renameSync, rmSync, writeSync } from 'node:fs';
import { HostFileContent } from '../../fs/content.js';
import { detectCompression, openDecompressed } from '../../fs/tar/decompress.js';
import { parseTar, type TarEntry } from '../../fs/tar/reader.js';
import { addTarEntry } from '../../fs/tree-from-tar.js';
import { FileTree, compareNames } from '../../fs/tree.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { DownloadableSource } from './downloadable.js';
import { globToRegExp } from './glob.js';
import type { SourceContext, SourceKind } from './kind.js';
import { overlayTree, resolveInside, symlinkStaysInside } from './tree-ops.js';

/**
 * `tar` (FORMAT.md §6): an archive pinned by the sha256 of the file as downloaded. Staging turns
 * the archive into a tree from its headers — nothing is extracted: file contents reference the
 * archive in the source cache (compressed archives are decompressed once, next to it, as
 * `<sha256>.tar`). Members that would land outside the staging directory are refused.
 */
export class TarSource extends DownloadableSource {
  /** undefined = the archive root; default '*'. */
  readonly baseDir: string | undefined;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl, ['ref', 'base-dir']);
    const b = this.config.string('base-dir');
    this.baseDir = b === undefined ? '*' : b === '' ? undefined : b.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    this.initRef();
  }

  protected keyParts(): YamlValue {
    return [this.url, this.ref as string, this.baseDir ?? ''];
  }

  /** The uncompressed archive, decompressing into the source cache on first use. */
  private async plainArchive(ctx: SourceContext): Promise<string> {
    const path = this.cachedPath(ctx);
    const compression = await detectCompression(path);
    if (compression === 'none') return path;
    const plain = `${path}.tar`;
    if (existsSync(plain)) return plain;
    const tmp = `${plain}.partial-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const fd = openSync(tmp, 'w');
    try {
      for await (const chunk of await openDecompressed(path, compression)) {
        const bytes = chunk as Uint8Array;
        let done = 0;
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      }
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, plain);
    return plain;
  }

  /** The member's path inside the archive, or an error when it would escape. */
  private memberPath(entry: TarEntry, field: 'path' | 'linkname'): string {
    const raw = field === 'path' ? entry.path : entry.linkname;
    const what = field === 'path' ? `member '${entry.path}'` : `member '${entry.path}' is a hard link to '${entry.linkname}', which`;
    if (raw.startsWith('/')) throw this.error(undefined, 'tar-escape', `${what} has an absolute path; it would be staged outside the staging directory`, 'kiln refuses archives whose members escape; repack the archive');
    const p = resolveInside(raw);
    if (p === undefined) throw this.error(undefined, 'tar-escape', `${what} climbs out of the staging directory with '..'`, 'kiln refuses archives whose members escape; repack the archive');
    return p;
  }

  /** The whole archive as a tree (owners from headers; normalised later). */
  private async archiveTree(archive: string): Promise<FileTree> {
    const tree = new FileTree({ mode: 0o755 });
    await parseTar(
      createReadStream(archive, { highWaterMark: 1 << 20 }),
      (entry) => {
        if (entry.type === 'char' || entry.type === 'block') return; // device nodes are skipped
        const path = this.memberPath(entry, 'path');
        const fixed: TarEntry = { ...entry, path };
        if (entry.type === 'hardlink') fixed.linkname = this.memberPath(entry, 'linkname');
        const content = entry.type === 'file' ? new HostFileContent(archive, entry.size, entry.dataOffset) : undefined;
        addTarEntry(tree, fixed, content, 'root');
      },
      `${this.label}: ${archive}`,
    );
    return tree;
  }

  /** The base-dir match: the first, in sorted order, of the archive's directories the glob matches. */
  private selectBaseDir(tree: FileTree): string {
    if (this.baseDir === undefined) return '';
    const re = globToRegExp(this.baseDir);
    const dirs: string[] = [];
    for (const [path, inode] of tree.walk()) if (path !== '' && inode.type === 'dir' && re.test(path)) dirs.push(path);
    dirs.sort(compareNames);
    if (dirs.length === 0) {
      const top = tree.children('').filter((n) => tree.get(n)?.type === 'dir');
      throw this.error('base-dir', 'tar-no-base-dir', `base-dir '${this.baseDir}' matches no directory in the archive${top.length ? ` (top-level directories: ${top.slice(0, 8).join(', ')})` : ' (it has no directories)'}`, "set base-dir to one of them, or to '' to stage the archive root");
    }
    return dirs[0]!;
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    const archive = await this.plainArchive(ctx);
    const whole = await this.archiveTree(archive);
    const base = this.selectBaseDir(whole);
    const prefix = base === '' ? '' : `${base}/`;
    // Symlinks must stay inside the element's staging area once placed under `directory`.
    for (const [path, inode] of whole.walk()) {
      if (inode.type !== 'symlink' || (base !== '' && !path.startsWith(prefix))) continue;
      const rel = path.slice(prefix.length);
      const placed = this.directory ? `${this.directory}/${rel}` : rel;
      if (!symlinkStaysInside(placed, inode.target ?? '')) {
        throw this.error(undefined, 'tar-escape', `member '${path}' is a symlink to '${inode.target}', which points outside the staging directory`, 'kiln refuses archives whose links escape; repack the archive');
      }
    }
    overlayTree(tree, this.directory, whole, base);
  }
}

export const tarKind: SourceKind = { name: 'tar', configure: (decl, element) => new TarSource(element, decl) };
