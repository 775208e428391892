import { existsSync } from 'node:fs';
import type { FileTree } from '../../fs/tree.js';
import { writeAll, writeFileDurably } from '../cache/host-write.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { DownloadableSource } from './downloadable.js';
import type { SourceContext, SourceKind } from './kind.js';
import { overlayTree } from './tree-ops.js';
import { archiveTree, checkSymlinks, type Fail } from './archive-tree.js';

/**
 * `tar` (docs/format.md#tar): an archive pinned by the sha256 of the file as downloaded. Staging turns
 * the archive into a tree from its headers — nothing is extracted: file contents reference the
 * archive in the source cache (compressed archives are decompressed once, next to it, as
 * `<sha256>.tar`). Members that would land outside the staging directory are refused.
 */
export class TarSource extends DownloadableSource {
  /** undefined = the archive root; default '*'. */
  readonly baseDir: string | undefined;

  /** `defaultBaseDir`: what base-dir is when not given ('' for the archive root). */
  constructor(element: Element, decl: SourceDecl, defaultBaseDir = '*') {
    super(element, decl);
    const b = this.config.string('base-dir') ?? defaultBaseDir;
    this.baseDir = b === '' ? undefined : b.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    this.initRef();
  }

  private readonly fail: Fail = (code, message, hint) => this.error(undefined, code, message, hint);

  protected keyParts(): YamlValue {
    return [this.url, this.ref as string, this.baseDir ?? ''];
  }

  /** The uncompressed archive, decompressing into the source cache on first use. */
  protected async plainArchive(ctx: SourceContext): Promise<string> {
    // loaded on use: loading a project (a no-op build) needs no decompressor
    const { detectCompression, openDecompressed } = await import('../../fs/tar/decompress.js');
    const path = this.cachedPath(ctx);
    const compression = await detectCompression(path);
    if (compression === 'none') return path;
    const plain = `${path}.tar`;
    if (existsSync(plain)) return plain;
    await writeFileDurably(plain, async (fd) => {
      for await (const chunk of await openDecompressed(path, compression)) writeAll(fd, chunk as Uint8Array);
    });
    return plain;
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    const archive = await this.plainArchive(ctx);
    const whole = await archiveTree(archive, `${this.label}: ${archive}`, this.fail);
    const base = this.matchBaseDir(whole, this.baseDir);
    checkSymlinks(whole, base, this.directory, this.fail);
    overlayTree(tree, this.directory, whole, base);
  }
}

export const tarKind: SourceKind = {
  name: 'tar',
  configKeys: ['url', 'ref', 'base-dir'],
  configure: (decl, element) => new TarSource(element, decl),
};
