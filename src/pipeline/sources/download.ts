import { createHash } from 'node:crypto';
import { createReadStream, fsyncSync, mkdirSync, openSync, closeSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../errors.js';

/**
 * Downloads (http, https, file) into a directory of the source cache, naming the file by the
 * sha256 of its bytes. Data goes to a temp name in the same directory and is renamed only once
 * complete, fsynced and verified, so a partial or wrong download never sits under a final name.
 */

export class DigestMismatch extends KilnError {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
    where: string,
  ) {
    super(
      'digest-mismatch',
      `${where}: the download from ${url} has sha256 ${actual}, but the ref expects ${expected}`,
      'if upstream changed the file on purpose, run `kiln track` to take the new ref; otherwise the download was tampered with or corrupted',
    );
  }
}

export interface DownloadOptions {
  /** Give up when the server has not answered (headers) within this many milliseconds. */
  answerTimeoutMs?: number;
}

async function openUrl(url: string, where: string, options: DownloadOptions = {}): Promise<AsyncIterable<Uint8Array>> {
  if (url.startsWith('file:')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (e) {
      throw new KilnError('download-failed', `${where}: bad file URL '${url}': ${(e as Error).message}`);
    }
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (e) =>
        reject(new KilnError('download-failed', `${where}: cannot read ${url}: ${e.message}`, 'check the path and the alias it came from')),
      );
    });
    return stream;
  }
  if (!/^https?:/.test(url)) {
    throw new KilnError(
      'download-failed',
      `${where}: cannot download '${url}': only http, https and file URLs are supported`,
      'define the alias in project.conf `aliases`, or give a full URL',
    );
  }
  let res: Response;
  const abort = new AbortController();
  const timer = options.answerTimeoutMs === undefined ? undefined : setTimeout(() => abort.abort(), options.answerTimeoutMs);
  try {
    res = await fetch(url, { redirect: 'follow', signal: abort.signal });
  } catch (e) {
    const cause = abort.signal.aborted ? `no answer within ${options.answerTimeoutMs! / 1000} s` : (e as { cause?: { message?: string } }).cause?.message;
    throw new KilnError('download-failed', `${where}: cannot download ${url}: ${cause ?? (e as Error).message}`, 'check the URL and the network');
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok || !res.body) throw new KilnError('download-failed', `${where}: cannot download ${url}: HTTP ${res.status} ${res.statusText}`, 'check the URL');
  return Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
}

/**
 * Downloads `url` into `dir` as `<sha256>`; verifies against `expected` when given. Returns the
 * digest and final path.
 */
export async function downloadToCache(
  url: string,
  dir: string,
  where: string,
  expected?: string,
  options: DownloadOptions = {},
): Promise<{ digest: string; path: string }> {
  const source = await openUrl(url, where, options);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.partial-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const hash = createHash('sha256');
  const fd = openSync(tmp, 'w');
  try {
    for await (const chunk of source) {
      hash.update(chunk);
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof KilnError) throw e;
    throw new KilnError('download-failed', `${where}: download from ${url} failed: ${(e as Error).message}`, 'try again');
  }
  closeSync(fd);
  const digest = hash.digest('hex');
  if (expected !== undefined && digest !== expected) {
    rmSync(tmp, { force: true });
    throw new DigestMismatch(url, expected, digest, where);
  }
  const path = join(dir, digest);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // directory fsync is best effort
  }
  return { digest, path };
}
