import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KilnError } from '../../errors.js';
import { processAlive } from '../../fs/file-target.js';
import type { FileTree, Inode } from '../../fs/tree.js';
import type { YamlMap } from '../model.js';
import { ArtifactDirs } from './artifact-dirs.js';
import { BlobStore } from './blobs.js';
import { writeAll, writeFileDurably } from './host-write.js';
import { blobDigest, decodeManifest, encodeManifest, type ManifestEntry } from './manifest.js';

export { materialize, type MaterializeOptions, type MaterializeResult } from './materialize.js';
export { treeFromStagedDir, type CollectOptions } from './collect.js';
export { BlobStore, BlobContent } from './blobs.js';

/**
 * The local artifact cache (docs/format.md#artifact-cache): blobs by sha256 under `<cache>/cas`, and one ref file
 * per artifact at `<cache>/artifacts/<project>/<normal-name>/<key>` holding the manifest (the
 * FileTree) and the metadata. A ref is published by rename only after every blob it names is
 * durable and the ref itself is fsynced, so a crash or kill -9 mid-commit leaves at most
 * unreferenced temp files and blobs — never a ref that a later build would trust. Each ref carries
 * the sha256 of its body, checked on load.
 */

export interface ArtifactRef {
  project: string;
  /** Element name, e.g. 'contents/busybox.bst'. */
  element: string;
  /** Full cache key (hex). */
  key: string;
}

export interface ArtifactMeta {
  /** The element's public data (variables expanded). */
  public: YamlMap;
  keys: { strong: string; weak?: string };
  /** Element name → strong key of each dependency in the BUILD scope. */
  dependencies: Record<string, string>;
  /** Blob digest of the build log, if one was kept (commit's `logFile` sets it). */
  buildLog?: string;
  /** Anything else a kind records (JSON-able). */
  extra?: Record<string, unknown>;
}

export interface LoadedArtifact {
  tree: FileTree;
  meta: ArtifactMeta;
  /** The sha256 of the ref's body (manifest and metadata): what the artifact is, byte for byte. */
  digest: string;
}

const MAGIC = 'kiln-artifact 1';

/** `contents/busybox.bst` → `contents-busybox` (docs/format.md#artifact-cache). */
export function normalName(element: string): string {
  return element
    .replace(/\.bst$/, '')
    .replace(/\//g, '-')
    .replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The caches under one directory: artifacts, blobs, sources. */
export interface CacheDirs {
  root: string;
  blobs: BlobStore;
  artifacts: ArtifactCache;
  /** `<cache>/extract`: artifacts as host directories, for staging without copies. */
  artifactDirs: ArtifactDirs;
  /** `<cache>/sources`: the source cache (docs/format.md#source-cache). */
  sourceDir: string;
  /** `<cache>/tmp`: scratch space on the cache's filesystem (staging roots, spools). */
  tmpDir: string;
}

export function openCache(root: string): CacheDirs {
  const blobs = new BlobStore(join(root, 'cas'));
  return {
    root,
    blobs,
    artifacts: new ArtifactCache(root, blobs),
    artifactDirs: new ArtifactDirs(join(root, 'extract')),
    sourceDir: join(root, 'sources'),
    tmpDir: join(root, 'tmp'),
  };
}

export class ArtifactCache {
  readonly refsDir: string;
  readonly blobs: BlobStore;

  constructor(
    readonly root: string,
    blobs?: BlobStore,
  ) {
    this.refsDir = join(root, 'artifacts');
    this.blobs = blobs ?? new BlobStore(join(root, 'cas'));
  }

  refPath(ref: ArtifactRef): string {
    if (!/^[0-9a-f]{8,128}$/.test(ref.key)) throw new KilnError('cache-bad-key', `'${ref.key}' is not a cache key`);
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(ref.project)) throw new KilnError('cache-bad-key', `'${ref.project}' is not a project name`);
    return join(this.refsDir, ref.project, normalName(ref.element), ref.key);
  }

  has(ref: ArtifactRef): boolean {
    return existsSync(this.refPath(ref));
  }

  /**
   * Stores `tree` (contents not yet in the store are ingested) with `meta` under `ref`.
   * Committing a ref that exists replaces it atomically.
   */
  async commit(ref: ArtifactRef, tree: FileTree, meta: ArtifactMeta, options: { logFile?: string } = {}): Promise<void> {
    const digests = new Map<Inode, { digest: string; size: number }>();
    // every blob the ref names: some were ingested before (a build's collect) and may not be on disk yet
    const named = new Set<string>();
    tree.forEachInode((inode) => {
      if (inode.type !== 'file') return;
      if (!inode.content) throw new KilnError('cache-no-content', `cannot cache ${ref.element}: a file has no content`);
      const known = blobDigest(inode);
      const blob = known && this.blobs.has(known.digest) ? known : this.blobs.putContent(inode.content);
      named.add(blob.digest);
      digests.set(inode, { digest: blob.digest, size: blob.size });
    });
    const fullMeta: ArtifactMeta = { ...meta };
    if (options.logFile) {
      const log = this.blobs.putFile(options.logFile);
      named.add(log.digest);
      fullMeta.buildLog = log.digest;
    }
    const entries = encodeManifest(tree, (inode) => digests.get(inode)!);
    const body = JSON.stringify({ project: ref.project, element: ref.element, key: ref.key, meta: fullMeta, tree: entries });
    const text = `${MAGIC} ${createHash('sha256').update(body).digest('hex')}\n${body}\n`;
    await this.blobs.sync(named);
    this.publishRef(ref, Buffer.from(text));
  }

  /**
   * Makes `text` the ref file of `ref` (its blobs must already be durable): fsynced temp,
   * rename, fsynced directory, so a crash leaves the old ref or the new one, never a torn one.
   */
  publishRef(ref: ArtifactRef, text: Uint8Array): void {
    const dest = this.refPath(ref);
    mkdirSync(dirname(dest), { recursive: true });
    const tmpDir = join(this.refsDir, '.tmp');
    mkdirSync(tmpDir, { recursive: true });
    // named PID-… so that cleanStaleTemps can tell a killed session's temp
    writeFileDurably(dest, (fd) => writeAll(fd, text), { temp: join(tmpDir, `${process.pid}-${ref.key}-${Math.random().toString(36).slice(2, 10)}`) });
  }

  /** The artifact under `ref`, or undefined if it is not cached. A damaged ref is an error. */
  load(ref: ArtifactRef): LoadedArtifact | undefined {
    const path = this.refPath(ref);
    let text: Buffer;
    try {
      text = readFileSync(path);
    } catch {
      return undefined;
    }
    const what = `artifact ${ref.project}/${ref.element}/${ref.key.slice(0, 8)} (${path})`;
    // The body's bytes are hashed and parsed where they lie (no copy of a large manifest as a string first).
    const nl = text.indexOf(0x0a);
    const head = text.toString('latin1', 0, Math.max(nl, 0));
    const end = text.length > nl + 1 && text[text.length - 1] === 0x0a ? text.length - 1 : text.length;
    const digest = createHash('sha256')
      .update(text.subarray(nl + 1, end))
      .digest('hex');
    if (nl < 0 || !head.startsWith(`${MAGIC} `) || digest !== head.slice(MAGIC.length + 1)) {
      throw new KilnError('cache-bad-manifest', `${what} is damaged (checksum mismatch)`, 'remove it from the cache and build again');
    }
    const parsed = JSON.parse(text.toString('utf8', nl + 1, end)) as { meta: ArtifactMeta; tree: ManifestEntry[] };
    return { tree: decodeManifest(parsed.tree, this.blobs, what), meta: parsed.meta, digest };
  }

  /** The host path of an artifact's build log, if it kept one. */
  logPath(meta: ArtifactMeta): string | undefined {
    return meta.buildLog ? this.blobs.objectPath(meta.buildLog) : undefined;
  }

  remove(ref: ArtifactRef): void {
    rmSync(this.refPath(ref), { force: true });
  }

  /** Keys cached for an element (any order). */
  keys(project: string, element: string): string[] {
    try {
      return readdirSync(join(this.refsDir, project, normalName(element)));
    } catch {
      return [];
    }
  }

  /** Removes temp files left by processes that no longer run (killed mid-commit). */
  cleanStaleTemps(): number {
    let removed = 0;
    for (const dir of [join(this.refsDir, '.tmp'), this.blobs.tmpDir]) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const pid = Number(name.split('-')[0]);
        if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
          rmSync(join(dir, name), { force: true, recursive: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
