import { createHash } from 'node:crypto';
import type { ArtifactMeta, ArtifactRef } from '../cache/artifacts.js';
import type { ManifestEntry } from '../cache/manifest.js';

/**
 * An artifact's ref file as the local cache writes it (`kiln-artifact 1 <sha256 of body>` and a
 * JSON body with the manifest), which is exactly what travels as the artifact's manifest blob.
 */

const MAGIC = 'kiln-artifact 1';

export interface RefBody {
  project: string;
  element: string;
  key: string;
  meta: ArtifactMeta;
  tree: ManifestEntry[];
}

/** Parses and checks a ref file's text: its own checksum, and that it is the artifact `ref`. Undefined if not. */
export function parseRefText(text: string, ref: ArtifactRef): RefBody | undefined {
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  const head = text.slice(0, nl);
  const body = text.slice(nl + 1).replace(/\n$/, '');
  if (!head.startsWith(`${MAGIC} `) || createHash('sha256').update(body).digest('hex') !== head.slice(MAGIC.length + 1)) return undefined;
  let parsed: RefBody;
  try {
    parsed = JSON.parse(body) as RefBody;
  } catch {
    return undefined;
  }
  if (parsed.project !== ref.project || parsed.element !== ref.element || parsed.key !== ref.key || !Array.isArray(parsed.tree)) return undefined;
  return parsed;
}

/** Every blob an artifact needs (file contents and the build log), each once, with its size when the manifest records it. */
export function blobsOf(body: RefBody): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const e of body.tree)
    if (e.type === 'file' && typeof e.digest === 'string' && e.link === undefined) out.set(e.digest, typeof e.size === 'number' ? e.size : undefined);
  if (typeof body.meta?.buildLog === 'string') out.set(body.meta.buildLog, out.get(body.meta.buildLog));
  return out;
}
