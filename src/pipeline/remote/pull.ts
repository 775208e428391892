import { readFileSync, rmSync } from 'node:fs';
import type { ArtifactCache, ArtifactRef } from '../cache/artifacts.js';
import { decodeManifest } from '../cache/manifest.js';
import type { Element } from '../model.js';
import { dependencies } from '../scope.js';
import { buildPlan } from '../plan/plan.js';
import type { Session } from '../plan/session.js';
import { actionKey, decodeActionResult } from './action-result.js';
import { RemoteError } from './http-cache.js';
import { blobsOf, parseRefText } from './ref-text.js';
import { runPool, type Remote, type Remotes } from './remotes.js';

/**
 * Pulling artifacts: the `/ac/` entry names the manifest blob; the manifest names every blob.
 * Each blob streams into a temp file in the local blob store, hashed on the way, and enters the
 * store under its name only if the hash is the name. The artifact's ref is published last (after
 * its blobs are durable), exactly as a local commit does, so a pull cut short leaves nothing a
 * build would trust. A damaged entry or blob on a remote is reported and skipped: the next
 * remote is asked, or the element is built locally.
 */

/** How many blobs of one artifact download at once (the HTTP client bounds the total too). */
const BLOB_PARALLEL = 8;

export interface PullResult {
  remote: string;
  blobs: number;
  bytes: number;
  /** Blobs the local cache already had. */
  present: number;
}

class Damaged extends Error {}

function what(ref: ArtifactRef): string {
  return `${ref.element} (key ${ref.key.slice(0, 8)})`;
}

async function pullFrom(remote: Remote, remotes: Remotes, cache: ArtifactCache, ref: ArtifactRef): Promise<PullResult | undefined> {
  const blobs = cache.blobs;
  const entry = await remote.http.getBytes('ac', actionKey(ref));
  if (entry === undefined) return undefined;
  const manifest = decodeActionResult(ref, entry);
  if (!manifest) throw new Damaged(`its cache-key entry /ac/${actionKey(ref)} is not a kiln artifact entry for it`);
  const mtmp = blobs.tempPath();
  let text: Buffer;
  try {
    const got = await remote.http.getToFile('cas', manifest.digest, mtmp);
    if (!got) throw new Damaged(`its manifest /cas/${manifest.digest} is missing (the server lost it, or a push is still under way)`);
    if (got.sha256 !== manifest.digest) {
      remotes.suspect.add(manifest.digest);
      throw new Damaged(`its manifest /cas/${manifest.digest} arrived with sha256 ${got.sha256}`);
    }
    text = readFileSync(mtmp);
  } finally {
    rmSync(mtmp, { force: true });
  }
  const body = parseRefText(text.toString('utf8'), ref);
  if (!body) throw new Damaged(`its manifest /cas/${manifest.digest} is not a valid manifest of this artifact`);
  const needed = blobsOf(body);
  const missing = [...needed.keys()].filter((d) => !blobs.has(d));
  const fresh: string[] = [];
  const expectBytes = missing.reduce((n, d) => n + (needed.get(d) ?? 0), 0);
  remotes.pulled.blobsTotal += missing.length;
  remotes.pulled.bytesTotal += expectBytes;
  remotes.events.progress?.();
  let bytes = 0;
  await runPool(missing, BLOB_PARALLEL, async (digest) => {
    const tmp = blobs.tempPath();
    try {
      const got = await remote.http.getToFile('cas', digest, tmp, (n) => {
        remotes.pulled.bytes += n;
        remotes.events.progress?.();
      });
      if (!got) throw new Damaged(`blob /cas/${digest} is missing on the server`);
      if (got.sha256 !== digest) {
        remotes.suspect.add(digest);
        throw new Damaged(`blob /cas/${digest} arrived with sha256 ${got.sha256} (${got.size} bytes): the server's copy is damaged`);
      }
      blobs.install(tmp, digest);
      fresh.push(digest);
      bytes += got.size;
      remotes.pulled.blobs++;
      remotes.events.progress?.();
    } finally {
      rmSync(tmp, { force: true });
    }
  });
  await blobs.sync(fresh);
  // every blob present with its recorded size before anyone can load it
  decodeManifest(body.tree, blobs, `artifact ${what(ref)} from ${remote.http.display}`, true);
  cache.publishRef(ref, text);
  remotes.pulled.elements++;
  return { remote: remote.http.display, blobs: missing.length, bytes, present: needed.size - missing.length };
}

/**
 * Pulls one artifact from the first remote that has it intact. Undefined when none has it (or
 * every remote that had it served it damaged, which is warned about).
 */
export async function pullArtifact(remotes: Remotes, cache: ArtifactCache, ref: ArtifactRef): Promise<PullResult | undefined> {
  if (cache.has(ref)) return undefined;
  for (const remote of remotes.pullable) {
    try {
      const r = await pullFrom(remote, remotes, cache, ref);
      if (r) return r;
    } catch (e) {
      if (e instanceof Damaged) {
        remotes.events.warn(`remote cache ${remote.http.display}: artifact ${what(ref)} is damaged there, not used: ${e.message}`);
        continue;
      }
      if (e instanceof RemoteError) {
        remotes.trouble(remote, e, 'pull');
        continue;
      }
      throw e;
    }
  }
  return undefined;
}

export interface PullEvents {
  start?(element: Element): void;
  pulled?(element: Element, result: PullResult): void;
}

/**
 * Before a build: pulls what the plan needs, targets first. An element pulled takes its build
 * dependencies out of the plan, so they are never downloaded; what no remote has stays in the
 * plan and its build dependencies are asked for next. Returns the elements pulled.
 */
export async function pullPlan(session: Session, targets: Element[], remotes: Remotes, events: PullEvents = {}, parallel = 4): Promise<Element[]> {
  const tried = new Set<Element>();
  const pulled: Element[] = [];
  for (;;) {
    if (remotes.pullable.length === 0) break;
    const plan = buildPlan(session, targets).filter((e) => !tried.has(e));
    if (plan.length === 0) break;
    const needed = new Set<Element>();
    for (const p of plan) for (const d of dependencies(p, 'build')) needed.add(d);
    const tops = plan.filter((e) => !needed.has(e));
    await runPool(tops, parallel, async (e) => {
      tried.add(e);
      const ref = session.ref(e);
      if (!ref || remotes.pullable.length === 0) return;
      events.start?.(e);
      const r = await pullArtifact(remotes, session.cache.artifacts, ref);
      if (!r) return;
      session.markCached(e);
      pulled.push(e);
      events.pulled?.(e, r);
    });
  }
  return pulled;
}
