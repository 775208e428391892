import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheDirs } from '../cache/artifacts.js';
import type { Element } from '../model.js';
import type { Consistency, Source, SourceContext } from './kind.js';
import { configureSource } from './registry.js';

/** A SourceContext over a cache directory, with warnings and progress going to `log`. */
export function sourceContext(
  cache: CacheDirs,
  log: { warn(m: string): void; info?(m: string): void } = { warn: (m) => process.stderr.write(`WARNING ${m}\n`) },
): SourceContext {
  mkdirSync(cache.tmpDir, { recursive: true });
  const ctx: SourceContext = { sourceDir: cache.sourceDir, blobs: cache.blobs, tmpDir: join(cache.tmpDir, `sources-${process.pid}`), warn: (m) => log.warn(m) };
  if (log.info) ctx.info = (m) => log.info!(m);
  return ctx;
}

/** Configures every source of an element (validating each declaration). */
export function configureElementSources(element: Element): Source[] {
  return element.sources.map((decl) => configureSource(decl, element));
}

/** The element's consistency: the least of its sources' (an element without sources is cached). */
export function consistency(sources: readonly Source[], ctx: SourceContext): Consistency {
  let state: Consistency = 'cached';
  for (const s of sources) {
    if (s.needsRef && s.ref === undefined) return 'inconsistent';
    if (!s.isCached(ctx)) state = 'resolved';
  }
  return state;
}
