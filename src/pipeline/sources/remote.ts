import { HostFileContent } from '../../fs/content.js';
import { makeInode, type FileTree } from '../../fs/tree.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { DownloadableSource } from './downloadable.js';
import type { SourceContext, SourceKind } from './kind.js';

/** `remote` (docs/format.md#remote): one downloaded file, staged as `filename` with mode 0755 or 0644. */
export class RemoteSource extends DownloadableSource {
  readonly filename: string;
  readonly executable: boolean;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl);
    const fromUrl = decodeURIComponent(
      this.url
        .replace(/[?#].*$/, '')
        .replace(/\/+$/, '')
        .split(/[/:]/)
        .pop() ?? '',
    );
    this.filename = this.config.string('filename') ?? fromUrl;
    if (this.filename === '' || this.filename.includes('/') || this.filename === '.' || this.filename === '..') {
      throw this.error(
        'filename',
        'source-bad-filename',
        `filename '${this.filename}' must be a plain file name (no '/')`,
        'set `filename:` to the name the file should have',
      );
    }
    this.executable = this.config.bool('executable', false);
    this.initRef();
  }

  protected keyParts(): YamlValue {
    return [this.url, this.ref as string, this.filename, this.executable ? 'True' : 'False'];
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    const path = this.cachedPath(ctx);
    const placed = this.directory ? `${this.directory}/${this.filename}` : this.filename;
    if (this.directory) tree.mkdirp(this.directory);
    const inode = makeInode('file', 0, { mode: this.executable ? 0o755 : 0o644 });
    inode.content = HostFileContent.of(path);
    if (tree.has(placed)) tree.remove(placed);
    tree.add(placed, inode);
  }
}

export const remoteKind: SourceKind = {
  name: 'remote',
  configKeys: ['url', 'ref', 'filename', 'executable'],
  configure: (decl, element) => new RemoteSource(element, decl),
};
