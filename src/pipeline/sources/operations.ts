import { KilnError } from '../../errors.js';
import type { Element, YamlValue } from '../model.js';
import type { Source, SourceContext } from './kind.js';

/**
 * Track and fetch over many elements (what `kiln track` and `kiln fetch` do), with a bounded
 * number of downloads at once. Results come back in element and source order whatever the
 * completion order.
 */

export interface TrackResult {
  element: Element;
  source: Source;
  /** The ref before tracking. */
  old: YamlValue | undefined;
  /** The tracked ref (undefined: the kind has nothing to track). */
  ref: YamlValue | undefined;
  changed: boolean;
}

export interface FetchResult {
  element: Element;
  source: Source;
  /** 'fetched' = downloaded now; 'cached' = it was there already. */
  outcome: 'fetched' | 'cached';
}

/** Runs `jobs` with at most `limit` at once; the first failure is thrown after running ones settle. */
export async function runLimited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && !failure) {
      const i = next++;
      try {
        results[i] = await jobs[i]!();
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}

function sameRef(a: YamlValue | undefined, b: YamlValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Tracks every source of `elements`; each changed ref is handed to `write` (the loader's
 * writeSourceRef) and set on the source. Sources of one element are tracked in order.
 */
export async function trackElements(
  elements: readonly Element[],
  sourcesOf: (e: Element) => Source[],
  ctx: SourceContext,
  write: (element: Element, index: number, ref: YamlValue) => void,
  options: { jobs?: number; onResult?: (r: TrackResult) => void } = {},
): Promise<TrackResult[]> {
  const perElement = elements.map((element) => async (): Promise<TrackResult[]> => {
    const out: TrackResult[] = [];
    for (const source of sourcesOf(element)) {
      const old = source.ref;
      const ref = await source.track(ctx);
      const changed = ref !== undefined && !sameRef(ref, old);
      if (changed) {
        source.setRef(ref);
        write(element, source.decl.index, ref);
      }
      const r: TrackResult = { element, source, old, ref, changed };
      options.onResult?.(r);
      out.push(r);
    }
    return out;
  });
  return (await runLimited(perElement, options.jobs ?? 4)).flat();
}

/**
 * `track --fix-missing`: fetches every source of `elements`; a source whose pinned files no origin
 * offers any more (kinds with `fixMissing`) is re-pinned in that part only, and the new ref is
 * handed to `write`. Every other ref stays as it is.
 */
export async function fixMissingElements(
  elements: readonly Element[],
  sourcesOf: (e: Element) => Source[],
  ctx: SourceContext,
  write: (element: Element, index: number, ref: YamlValue) => void,
  options: { jobs?: number; onResult?: (r: TrackResult) => void } = {},
): Promise<TrackResult[]> {
  const perElement = elements.map((element) => async (): Promise<TrackResult[]> => {
    const out: TrackResult[] = [];
    for (const source of sourcesOf(element)) {
      const old = source.ref;
      if (source.needsRef && old === undefined) {
        throw new KilnError('sources-inconsistent', `${source.label}: has no ref, so nothing is pinned to fix`, `run \`kiln track ${element.name}\` first`);
      }
      let ref: YamlValue | undefined;
      if (source.fixMissing) ref = await source.fixMissing(ctx);
      else if (!source.isCached(ctx)) await source.fetch(ctx);
      const changed = ref !== undefined && !sameRef(ref, old);
      if (changed) {
        source.setRef(ref);
        write(element, source.decl.index, ref!);
        // the new pins must fetch too (they come from the archive as it is now)
        await source.fetch(ctx);
      }
      const r: TrackResult = { element, source, old, ref: changed ? ref : old, changed };
      options.onResult?.(r);
      out.push(r);
    }
    return out;
  });
  return (await runLimited(perElement, options.jobs ?? 4)).flat();
}

/** The lines that say how a source's ref changed ("linux-libc-dev: 6.1.192-2 -> 6.1.192-3"). */
export function describeRefChange(r: TrackResult): string[] {
  if (!r.changed || r.ref === undefined) return [];
  if (r.source.describeChange) return r.source.describeChange(r.old, r.ref);
  const short = (v: YamlValue | undefined): string => (v === undefined ? 'none' : typeof v === 'string' ? v : JSON.stringify(v));
  return [r.old === undefined ? short(r.ref) : `${short(r.old)} -> ${short(r.ref)}`];
}

/** Elements with a source that has no ref, for the "track first" error. */
export function inconsistentElements(elements: readonly Element[], sourcesOf: (e: Element) => Source[]): Element[] {
  return elements.filter((e) => sourcesOf(e).some((s) => s.needsRef && s.ref === undefined));
}

/** Fetches every source of `elements` (refusing up front if any lacks a ref). */
export async function fetchElements(
  elements: readonly Element[],
  sourcesOf: (e: Element) => Source[],
  ctx: SourceContext,
  options: { jobs?: number; onResult?: (r: FetchResult) => void } = {},
): Promise<FetchResult[]> {
  const missing = inconsistentElements(elements, sourcesOf);
  if (missing.length > 0) {
    throw new KilnError(
      'sources-inconsistent',
      `Exact versions are missing for the following elements:\n${missing.map((e) => `  ${e.name}`).join('\n')}`,
      `Try tracking these elements first with \`kiln track ${missing.map((e) => e.name).join(' ')}\``,
    );
  }
  const jobs: (() => Promise<FetchResult>)[] = [];
  for (const element of elements) {
    for (const source of sourcesOf(element)) {
      jobs.push(async () => {
        const cached = source.isCached(ctx);
        if (!cached) await source.fetch(ctx);
        const r: FetchResult = { element, source, outcome: cached ? 'cached' : 'fetched' };
        options.onResult?.(r);
        return r;
      });
    }
  }
  return runLimited(jobs, options.jobs ?? 4);
}
