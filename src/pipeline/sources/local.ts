import { lstatSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { treeFromDirectory } from '../../fs/tree-from-dir.js';
import { FileTree, makeInode } from '../../fs/tree.js';
import { type HostContent, HostFileContent } from '../../fs/content.js';
import { hashFile } from '../cache/blobs.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { BaseSource } from './base.js';
import type { SourceContext, SourceKind } from './kind.js';
import { projectPath } from './project-path.js';
import { overlayTree } from './tree-ops.js';

/**
 * `local` (docs/format.md#local): a project file or directory, always "cached", nothing to track. A
 * directory's contents (or a file, under its basename) are staged with their modes kept.
 */
export class LocalSource extends BaseSource {
  readonly needsRef = false;
  readonly path: string;
  readonly fullPath: string;
  private key: YamlValue | undefined;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl);
    this.path = this.config.requireString('path').replace(/\/+$/, '');
    this.fullPath = projectPath(element, decl, 'path', this.path);
  }

  /** The project files; without their extended attributes when only the key is wanted (reading them runs getfattr). */
  private hostTree(xattrs = true): FileTree {
    const st = lstatSync(this.fullPath);
    if (st.isDirectory()) return treeFromDirectory(this.fullPath, { owners: 'root', xattrs });
    const tree = new FileTree();
    const name = basename(this.fullPath);
    if (st.isSymbolicLink()) tree.add(name, Object.assign(makeInode('symlink', 0o777, {}), { target: readlinkSync(this.fullPath, 'utf8') }));
    else tree.file(name, HostFileContent.of(this.fullPath), { mode: st.mode & 0o7777 });
    return tree;
  }

  /**
   * For each path (sorted, relative): sha256 for files, the target for symlinks, "0" for
   * directories — plus the mode, which kiln keeps (an exec bit change must rebuild).
   */
  uniqueKey(): YamlValue {
    if (this.key === undefined) {
      const out: YamlValue[] = [];
      for (const [path, inode] of this.hostTree(false).walk()) {
        if (path === '') continue;
        const digest = inode.type === 'file' ? hashFile((inode.content as HostContent).path) : inode.type === 'symlink' ? (inode.target ?? '') : '0';
        out.push([path, digest, inode.mode.toString(8)]);
      }
      this.key = [this.path, out];
    }
    return this.key;
  }

  isCached(): boolean {
    return true;
  }

  async track(): Promise<YamlValue | undefined> {
    return undefined;
  }

  async fetch(): Promise<void> {}

  async stage(_ctx: SourceContext, tree: FileTree): Promise<void> {
    overlayTree(tree, this.directory, this.hostTree());
  }
}

export const localKind: SourceKind = {
  name: 'local',
  configKeys: ['path'],
  configure: (decl, element) => new LocalSource(element, decl),
};
