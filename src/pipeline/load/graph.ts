import type { DepType } from '../model.js';

/**
 * The dependency graph of docs/format.md#dependency-order: the deterministic order of an
 * element's direct dependencies (the staging scopes over it are in ../scope.ts).
 */

export interface SortableDep {
  name: string;
  type: DepType;
  /** Every element this dependency depends on, directly or transitively (any type), by name. */
  closure: ReadonlySet<string>;
}

function tieBefore(a: SortableDep, b: SortableDep): boolean {
  const ra = a.type === 'runtime' ? 1 : 0;
  const rb = b.type === 'runtime' ? 1 : 0;
  if (ra !== rb) return ra < rb;
  return a.name < b.name;
}

/**
 * Orders direct dependencies: if A depends on B (directly or transitively) B comes first; otherwise
 * build-or-all before runtime-only; otherwise by name. BuildStream sorts with that comparison;
 * because it is not a total order in general, kiln takes the dependency constraint as a partial
 * order and repeatedly emits the first available dependency by the tie-breaks (Kahn's algorithm).
 * Where the comparison is consistent this is the same order, and it is always deterministic.
 */
export function sortDependencies<T extends SortableDep>(deps: readonly T[]): T[] {
  // blockers[i]: how many other not-yet-emitted dependencies deps[i] depends on
  const blockers = deps.map((c) => deps.reduce((n, o) => (o !== c && c.closure.has(o.name) ? n + 1 : n), 0));
  const emitted = deps.map(() => false);
  const out: T[] = [];
  while (out.length < deps.length) {
    let best = -1;
    for (let i = 0; i < deps.length; i++) {
      if (emitted[i] || blockers[i]! > 0) continue;
      if (best < 0 || tieBefore(deps[i]!, deps[best]!)) best = i;
    }
    // The graph is acyclic (the loader checked), so something is always available.
    const chosen = deps[best]!;
    emitted[best] = true;
    out.push(chosen);
    for (let i = 0; i < deps.length; i++) if (!emitted[i] && deps[i]!.closure.has(chosen.name)) blockers[i]!--;
  }
  return out;
}
