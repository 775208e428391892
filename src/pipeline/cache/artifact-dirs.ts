import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { FileTree } from '../../fs/tree.js';
import { processAlive } from '../../fs/file-target.js';
import { removeTree } from '../util/remove-tree.js';
import { materialize, type MaterializeResult } from './materialize.js';

/**
 * Cached artifacts as host directories, `<cache>/extract/<digest>` (the sha256 of the ref's
 * body, so a directory always matches its manifest): each written once from the blobs, with
 * modes, times and hard links, so that a sandbox root can bind it read-only or hard-link its
 * files instead of copying them (staged-root.ts). A directory appears by rename of a complete
 * temp directory beside it, so a name always means the whole tree; nothing writes into one
 * afterwards, and a sandbox sees them only through read-only mounts.
 */
export class ArtifactDirs {
  constructor(readonly root: string) {}

  /** The directory holding `tree` (the artifact whose ref body has sha256 `digest`), written on first use. */
  dir(digest: string, tree: FileTree): { dir: string; written?: MaterializeResult } {
    const dir = join(this.root, digest);
    if (existsSync(dir)) return { dir };
    mkdirSync(this.root, { recursive: true });
    // Beside the final name: a directory renamed within its parent needs no write permission on itself.
    const tmp = join(this.root, `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    try {
      const written = materialize(tree, tmp);
      try {
        renameSync(tmp, dir);
      } catch (e) {
        // another process published it first: theirs is the same tree
        if (!existsSync(dir)) throw e;
      }
      return { dir, written };
    } finally {
      if (existsSync(tmp)) removeTree(tmp);
    }
  }

  /** Removes temp directories of processes that no longer run (killed while writing one). */
  cleanStaleTemps(): void {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return;
    }
    for (const name of names) {
      const m = /^\.tmp-(\d+)-/.exec(name);
      if (m && !processAlive(Number(m[1]))) removeTree(join(this.root, name));
    }
  }
}
