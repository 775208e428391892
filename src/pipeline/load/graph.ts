import type { DepType, Element, Scope } from '../model.js';

/**
 * The dependency graph of docs/format.md#dependency-order: the deterministic order of an element's direct
 * dependencies, and the RUN / BUILD / ALL staging scopes.
 */

const isBuild = (t: DepType): boolean => t === 'build' || t === 'all';
const isRuntime = (t: DepType): boolean => t === 'runtime' || t === 'all';

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

/** Direct dependencies in a scope: 'build' = build or all, 'run' = runtime or all. */
export function directDependencies(element: Element, scope: 'build' | 'run'): Element[] {
  const want = scope === 'build' ? isBuild : isRuntime;
  return element.dependencies.filter((d) => want(d.type)).map((d) => d.element);
}

function* runScope(e: Element, visited: Set<Element>): Generator<Element> {
  if (visited.has(e)) return;
  visited.add(e);
  for (const d of e.dependencies) if (isRuntime(d.type)) yield* runScope(d.element, visited);
  yield e;
}

function* allScope(e: Element, visited: Set<Element>): Generator<Element> {
  if (visited.has(e)) return;
  visited.add(e);
  for (const d of e.dependencies) if (isBuild(d.type)) yield* allScope(d.element, visited);
  for (const d of e.dependencies) if (d.type === 'runtime') yield* allScope(d.element, visited);
  yield e;
}

/**
 * `dependencies(scope)` of docs/format.md#scopes as a generator with a shared visited set (pass one to
 * take the union over several targets): RUN = the element's runtime closure, element last;
 * BUILD = the runtime closure of each direct build dependency, the element excluded;
 * ALL = build deps, then runtime-only deps, recursively, then the element.
 */
export function* dependencies(element: Element, scope: Scope, visited: Set<Element> = new Set()): Generator<Element> {
  if (scope === 'run') yield* runScope(element, visited);
  else if (scope === 'all') yield* allScope(element, visited);
  else for (const d of element.dependencies) if (isBuild(d.type)) yield* runScope(d.element, visited);
}

/** A scope as a list, in staging order. */
export function scope(element: Element, which: Scope): Element[] {
  return [...dependencies(element, which)];
}

/** The union of a scope over several targets, in order, each element once. */
export function scopeOf(targets: readonly Element[], which: Scope): Element[] {
  const visited = new Set<Element>();
  const out: Element[] = [];
  for (const t of targets) for (const e of dependencies(t, which, visited)) out.push(e);
  return out;
}
