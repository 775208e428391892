import type { TrackResult } from '../pipeline/sources/index.js';

/**
 * How `track`, `fetch --track` and `build --track/--fix-missing` report refs: one line per source
 * whose ref changed, then one indented line per changed pin, so a user sees exactly what moved.
 */
export function refChangeLines(r: TrackResult, describe: (r: TrackResult) => string[], verb: 'track' | 'fix-missing'): string[] {
  if (!r.changed) return [];
  const pins = describe(r);
  const what = r.old === undefined ? 'pinned' : pins.length === 1 ? 're-pinned' : `${pins.length} pins changed`;
  return [`[${verb}] ${r.source.label}: ${what}`, ...pins.map((l) => `    ${l}`)];
}
