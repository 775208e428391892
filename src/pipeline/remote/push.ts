import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ArtifactCache, ArtifactRef } from '../cache/artifacts.js';
import type { Source, SourceContext } from '../sources/index.js';
import { actionKey, encodeActionResult } from './action-result.js';
import { RemoteError } from './http-cache.js';
import { blobsOf, parseRefText } from './ref-text.js';
import { runPool, type Remote, type Remotes } from './remotes.js';

/**
 * Pushing: every blob the artifact needs, then its manifest, then (last) its `/ac/` entry, so a
 * remote never has an entry whose blobs are not all there. Each blob is asked about with HEAD
 * first and sent only when missing (or when a pull found the remote's copy damaged), so an
 * interrupted push resumes where it stopped and two machines pushing the same artifact at once
 * only write identical bytes under identical names.
 */

const BLOB_PARALLEL = 8;

export interface PushResult {
  remote: string;
  /** Blobs sent / already there. */
  sent: number;
  present: number;
  bytes: number;
}

interface Upload {
  digest: string;
  path: string;
  size: number;
}

/** Sends what `remote` lacks of `files` (HEAD first, bounded parallelism). */
async function sendMissing(remote: Remote, remotes: Remotes, files: Upload[]): Promise<{ sent: number; bytes: number }> {
  let sent = 0;
  let bytes = 0;
  remotes.pushed.blobsTotal += files.length;
  remotes.pushed.bytesTotal += files.reduce((n, f) => n + f.size, 0);
  remotes.events.progress?.();
  await runPool(files, BLOB_PARALLEL, async (f) => {
    const has = remotes.suspect.has(f.digest) ? undefined : await remote.http.head('cas', f.digest);
    if (has !== f.size) {
      await remote.http.putFile('cas', f.digest, f.path, f.size, (n) => {
        remotes.pushed.bytes += n;
        remotes.events.progress?.();
      });
      sent++;
      bytes += f.size;
    }
    remotes.pushed.blobs++;
    remotes.events.progress?.();
  });
  return { sent, bytes };
}

/**
 * Pushes a locally cached artifact to every remote with `push: true` that is still up.
 * Returns one result per remote it reached; a remote that fails is warned about once and skipped.
 */
export async function pushArtifact(remotes: Remotes, cache: ArtifactCache, ref: ArtifactRef): Promise<PushResult[]> {
  const targets = remotes.pushable;
  if (targets.length === 0) return [];
  const text = readFileSync(cache.refPath(ref));
  const body = parseRefText(text.toString('utf8'), ref);
  if (!body) throw new Error(`the local artifact ${ref.element} (${cache.refPath(ref)}) is damaged; not pushing it`);
  const manifestDigest = createHash('sha256').update(text).digest('hex');
  const files: Upload[] = [...blobsOf(body).entries()].map(([digest, size]) => {
    const path = cache.blobs.objectPath(digest);
    return { digest, path, size: size ?? statSync(path).size };
  });
  const out: PushResult[] = [];
  for (const remote of targets) {
    try {
      const r = await sendMissing(remote, remotes, files);
      const m = remotes.suspect.has(manifestDigest) ? undefined : await remote.http.head('cas', manifestDigest);
      if (m !== text.length) {
        await remote.http.putBytes('cas', manifestDigest, text);
        r.sent++;
        r.bytes += text.length;
      }
      await remote.http.putBytes('ac', actionKey(ref), encodeActionResult(ref, { digest: manifestDigest, size: text.length }));
      remotes.pushed.elements++;
      out.push({ remote: remote.http.display, sent: r.sent, present: files.length + 1 - r.sent, bytes: r.bytes });
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      remotes.trouble(remote, e, 'push');
    }
  }
  return out;
}

/** The pinned files of `sources` that are in the source cache (kinds without `cachedFiles` have none). */
export function sourceFiles(sources: readonly Source[], ctx: SourceContext): Upload[] {
  const out = new Map<string, Upload>();
  for (const s of sources) {
    for (const f of s.cachedFiles?.(ctx) ?? []) {
      let size: number;
      try {
        size = statSync(f.path).size;
      } catch {
        continue;
      }
      out.set(f.sha256, { digest: f.sha256, path: f.path, size });
    }
  }
  return [...out.values()];
}

/** Pushes the cached files of `sources` (tarballs, .debs, source package files) to every push remote, by sha256. */
export async function pushSourceFiles(remotes: Remotes, sources: readonly Source[], ctx: SourceContext): Promise<PushResult[]> {
  const files = sourceFiles(sources, ctx);
  const out: PushResult[] = [];
  if (files.length === 0) return out;
  for (const remote of remotes.pushable) {
    try {
      const r = await sendMissing(remote, remotes, files);
      out.push({ remote: remote.http.display, sent: r.sent, present: files.length - r.sent, bytes: r.bytes });
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      remotes.trouble(remote, e, 'push');
    }
  }
  return out;
}
