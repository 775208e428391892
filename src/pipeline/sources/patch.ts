import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { HostContent } from '../../fs/content.js';
import { treeFromDirectory } from '../../fs/tree-from-dir.js';
import { FileTree, type Inode } from '../../fs/tree.js';
import { hashFile } from '../cache/blobs.js';
import { materialize } from '../cache/materialize.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { removeTree } from '../util/remove-tree.js';
import { BaseSource } from './base.js';
import type { SourceContext, SourceKind } from './kind.js';
import { projectPath } from './project-path.js';
import { normalizeSourceTree, overlayTree } from './tree-ops.js';

/**
 * `patch` (docs/format.md#patch): applies a project patch file with the host's `patch -p<N>` to what the
 * earlier sources staged. The host tool needs real files, so the staged subtree is materialised
 * into scratch space, patched and collected back; files the patch did not touch keep their
 * original content references, changed and new ones go into the blob store.
 */
export class PatchSource extends BaseSource {
  readonly needsRef = false;
  readonly path: string;
  readonly fullPath: string;
  readonly strip: number;
  private digest: string | undefined;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl);
    this.path = this.config.requireString('path');
    this.fullPath = projectPath(element, decl, 'path', this.path);
    this.strip = this.config.int('strip-level', 1);
  }

  uniqueKey(): YamlValue {
    this.digest ??= hashFile(this.fullPath);
    return [this.path, this.digest, String(this.strip)];
  }

  isCached(): boolean {
    return true;
  }

  async track(): Promise<YamlValue | undefined> {
    return undefined;
  }

  async fetch(): Promise<void> {}

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    const sub = new FileTree();
    if (!tree.has(this.directory) || tree.get(this.directory)?.type !== 'dir' || tree.children(this.directory).length === 0) {
      throw this.error(
        undefined,
        'patch-nothing-staged',
        `nothing is staged in '${this.directory || '.'}' to apply ${this.path} to`,
        'list the sources the patch applies to before the patch source, with the same `directory`',
      );
    }
    overlayTree(sub, '', tree, this.directory);
    // Staged sources get the fixed mtime anyway; setting it now makes "did patch touch this file?"
    // a plain comparison (host timestamps lose nanoseconds on the way through utimes).
    normalizeSourceTree(sub);
    mkdirSync(ctx.tmpDir, { recursive: true });
    const work = mkdtempSync(join(ctx.tmpDir, 'patch-'));
    try {
      materialize(sub, work, { owners: false });
      // patch writes temp files next to what it patches: open up read-only directories (their
      // modes are restored from the staged tree afterwards)
      for (const [path, inode] of sub.walk())
        if (inode.type === 'dir' && (inode.mode & 0o200) === 0) chmodSync(path ? join(work, path) : work, inode.mode | 0o700);
      const r = process
        .getBuiltinModule('node:child_process')
        .spawnSync('patch', [`-p${this.strip}`, '-i', this.fullPath, '-d', work, '--batch', '--no-backup-if-mismatch'], { encoding: 'utf8' });
      if (r.error) throw this.error(undefined, 'patch-tool', `cannot run 'patch': ${r.error.message}`, "install the Debian package 'patch'");
      if (r.status !== 0) {
        throw this.error(
          'path',
          'patch-failed',
          `${this.path} does not apply (patch -p${this.strip} exited ${r.status}):\n${(r.stdout + r.stderr).trim()}`,
          'check strip-level and that the earlier sources are the ones the patch was made against',
        );
      }
      const patched = treeFromDirectory(work, { owners: 'root' });
      for (const [path, inode] of patched.walk()) {
        const before = sub.get(path);
        if (inode.type === 'dir' && before?.type === 'dir') inode.mode = before.mode;
      }
      const firstPath = new Map<Inode, string>();
      for (const [path, inode] of patched.walk()) if (!firstPath.has(inode)) firstPath.set(inode, path);
      patched.forEachInode((inode) => {
        if (inode.type !== 'file') return;
        const host = inode.content as HostContent;
        const before = sub.get(firstPath.get(inode)!);
        const unchanged =
          before?.type === 'file' && before.content?.size === host.size && before.mtime.sec === inode.mtime.sec && before.mtime.nsec === inode.mtime.nsec;
        inode.content = unchanged ? before.content! : ctx.blobs.putFile(host.path);
      });
      for (const name of tree.children(this.directory)) tree.remove(this.directory ? `${this.directory}/${name}` : name);
      overlayTree(tree, this.directory, patched);
    } finally {
      removeTree(work);
    }
  }
}

export const patchKind: SourceKind = {
  name: 'patch',
  configKeys: ['path', 'strip-level'],
  configure: (decl, element) => new PatchSource(element, decl),
};
