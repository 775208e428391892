import { createHash, type Hash } from 'node:crypto';
import { chmodSync, closeSync, constants, copyFileSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KilnError } from '../../errors.js';
import { HostFileContent } from '../../fs/content.js';
import { contentChunks, type FileContent } from '../../fs/file-content.js';
import { fsyncPathAsync, writeAll } from './host-write.js';
import { rangesToRead, type KnownHoles } from './known-holes.js';

/**
 * The content-addressed blob store: `<cas>/objects/xx/yyyy…` named by the sha256 of the bytes.
 * A blob lands under its name only by rename of a complete temp file, so a name always means
 * the whole content. Blobs are read-only (0444) so a stray write through a path fails.
 */

/**
 * hashFile's reads: small enough to stay in the CPU cache between the kernel's copy and the
 * hash (1 MiB cost a third more CPU hashing the example's 114 MB image, mostly in the kernel).
 */
const HASH_CHUNK = 128 << 10;

/**
 * A regular file's content held in the blob store. Made from a manifest without touching the
 * disk (`BlobStore.recorded`), it checks that the blob is there with its recorded size when it is
 * first opened, so a damaged cache is still an error, not other bytes.
 */
export class BlobContent extends HostFileContent {
  /** Blob paths are the store's own, always text. */
  declare readonly path: string;
  private checked: boolean;
  constructor(
    path: string,
    size: number,
    readonly digest: string,
    checked = true,
  ) {
    super(path, size);
    this.checked = checked;
  }

  override checkBeforeRead(): void {
    if (!this.checked) {
      checkBlob(this.path, this.digest, this.size);
      this.checked = true;
    }
  }
}

/** The blob at `path` exists with `size` bytes, else a KilnError saying the cache is damaged. */
function checkBlob(path: string, digest: string, size: number | undefined): number {
  let actual: number;
  try {
    actual = statSync(path).size;
  } catch {
    throw new KilnError(
      'cache-missing-blob',
      `blob ${digest} is missing from the cache at ${dirname(dirname(dirname(path)))}`,
      'the cache is damaged; remove the artifact and build again',
    );
  }
  if (size !== undefined && actual !== size) {
    throw new KilnError(
      'cache-bad-blob',
      `blob ${digest} in ${dirname(dirname(dirname(path)))} has ${actual} bytes, expected ${size}`,
      'the cache is damaged; remove the artifact and build again',
    );
  }
  return actual;
}

export function isSha256(s: string): boolean {
  // by hand: a regular expression test took a tenth of an artifact's load (one per file)
  if (s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

let tmpCounter = 0;

export class BlobStore {
  readonly objectsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.objectsDir = join(root, 'objects');
    this.tmpDir = join(root, 'tmp');
  }

  objectPath(digest: string): string {
    if (!isSha256(digest)) throw new KilnError('bad-digest', `'${digest}' is not a sha256 digest`);
    // objectsDir is normalized and a digest is hex: no join (an artifact's load names thousands)
    return `${this.objectsDir}/${digest.slice(0, 2)}/${digest.slice(2)}`;
  }

  has(digest: string): boolean {
    return existsSync(this.objectPath(digest));
  }

  /** The content of a stored blob, checked now: it must be there (with `size` bytes, if given). */
  content(digest: string, size?: number): BlobContent {
    const path = this.objectPath(digest);
    return new BlobContent(path, checkBlob(path, digest, size), digest);
  }

  /** The content of a blob a manifest names with its size, checked when it is first read. */
  recorded(digest: string, size: number): BlobContent {
    return new BlobContent(this.objectPath(digest), size, digest, false);
  }

  /** A fresh temp path inside the store (same filesystem as the objects, so rename is atomic). */
  tempPath(): string {
    mkdirSync(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${process.pid}-${++tmpCounter}-${Math.random().toString(36).slice(2, 10)}`);
  }

  /**
   * Moves a complete temp file (from `tempPath`) into place under its digest, or drops it if the
   * blob exists. The caller vouches that `digest` is the file's sha256 (the remote-cache pull
   * hashes while it downloads).
   */
  install(tmp: string, digest: string): string {
    const dest = this.objectPath(digest);
    if (existsSync(dest)) {
      rmSync(tmp, { force: true });
      return dest;
    }
    mkdirSync(join(this.objectsDir, digest.slice(0, 2)), { recursive: true });
    chmodSync(tmp, 0o444);
    renameSync(tmp, dest);
    return dest;
  }

  putBytes(bytes: Uint8Array): BlobContent {
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (!this.has(digest)) {
      const tmp = this.tempPath();
      const fd = openSync(tmp, 'w');
      try {
        writeAll(fd, bytes);
      } finally {
        closeSync(fd);
      }
      this.install(tmp, digest);
    }
    return new BlobContent(this.objectPath(digest), bytes.length, digest);
  }

  /** Stores any content (streamed in chunks, hashed on the way). */
  putContent(content: FileContent): BlobContent {
    if (content instanceof BlobContent && content.path.startsWith(this.objectsDir)) return content;
    const tmp = this.tempPath();
    const hash = createHash('sha256');
    const fd = openSync(tmp, 'w');
    try {
      for (const chunk of contentChunks(content, 'content stored in the cache')) {
        hash.update(chunk);
        writeAll(fd, chunk);
      }
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    const digest = hash.digest('hex');
    return new BlobContent(this.install(tmp, digest), content.size, digest);
  }

  /**
   * Stores a host file. With `move`, the file is renamed into the store when it is on the same
   * filesystem (the caller gives it up); otherwise it is copied (reflinked where possible).
   * `digest`: its sha256, when the caller has just hashed it (hashFile) and it has not changed since.
   */
  putFile(path: string | Buffer, options: { move?: boolean; digest?: string } = {}): BlobContent {
    const digest = options.digest ?? hashFile(path);
    const size = statSync(path).size;
    if (!this.has(digest)) {
      const tmp = this.tempPath();
      let moved = false;
      if (options.move) {
        try {
          renameSync(path, tmp);
          moved = true;
        } catch {
          moved = false;
        }
      }
      if (!moved) copyFileSync(path, tmp, constants.COPYFILE_FICLONE);
      this.install(tmp, digest);
    }
    return new BlobContent(this.objectPath(digest), size, digest);
  }

  /**
   * Makes the listed blobs durable before a ref that names them is published, without blocking
   * the event loop (other builds go on meanwhile): an fsync of each blob and of its directory
   * when they are few (a clean file costs next to nothing), else one syncfs of the cache's
   * filesystem (coreutils `sync -f`) — which also flushes whatever else is dirty there, such as
   * a build's scratch files, so it is kept for artifacts of many files.
   */
  async sync(digests: Iterable<string>): Promise<void> {
    const paths = [...new Set(digests)].map((d) => this.objectPath(d));
    if (paths.length > FSYNC_EACH && (await syncfs(this.root))) return;
    await Promise.all([...paths, ...new Set(paths.map(dirname))].map(fsyncPathAsync));
  }
}

/** Up to this many blobs are fsynced one by one (BlobStore.sync). */
const FSYNC_EACH = 64;

/** `sync -f DIR`: whether it ran (coreutils 8.24 or later). */
function syncfs(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = process.getBuiltinModule('node:child_process').spawn('sync', ['-f', dir], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/**
 * sha256 of a host file, streamed. With `holes` (a disk image kiln wrote), only its data is
 * read while the file is still as written (known-holes.ts).
 */
export function hashFile(path: string | Buffer, holes?: KnownHoles): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd, { bigint: true });
    const size = Number(st.size);
    const buf = Buffer.allocUnsafe(Math.min(HASH_CHUNK, Math.max(size, 1)));
    const ranges = (holes && rangesToRead(holes, st)) ?? [0, size];
    let at = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      hashZeros(hash, ranges[i]! - at);
      at = ranges[i]!;
      while (at < ranges[i + 1]!) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, ranges[i + 1]! - at), at);
        if (n === 0)
          throw new KilnError('source-changed', `'${String(path)}' shrank while it was hashed`, "nothing may change a build's output while kiln collects it");
        hash.update(buf.subarray(0, n));
        at += n;
      }
    }
    hashZeros(hash, size - at);
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

let zeros: Buffer | undefined;

function hashZeros(hash: Hash, count: number): void {
  zeros ??= Buffer.alloc(HASH_CHUNK);
  for (; count > 0; count -= zeros.length) hash.update(count >= zeros.length ? zeros : zeros.subarray(0, count));
}
