import type { PinMode, RefUpdate } from '../pipeline/pipeline.js';

/**
 * How `track`, `fetch --track` and `build --track/--fix-missing` report refs: one line per source
 * whose ref changed, then one indented line per changed pin, so a user sees exactly what moved.
 */
export function refChangeLines(r: RefUpdate, verb: PinMode): string[] {
  if (!r.changed) return [];
  const what = r.old === undefined ? 'pinned' : r.changes.length === 1 ? 're-pinned' : `${r.changes.length} pins changed`;
  return [`[${verb}] ${r.source.label}: ${what}`, ...r.changes.map((l) => `    ${l}`)];
}
