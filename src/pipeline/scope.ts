import type { DepType, Element, Scope } from './model.js';

/**
 * The staging scopes of docs/format.md#scopes (RUN, BUILD, ALL) over the model's dependency
 * lists. They sit beside the model, below every room of the pipeline, because the loaded
 * project, the kinds (what to stage), the planner, the remote cache and the CLI all ask them.
 */

const isBuild = (t: DepType): boolean => t === 'build' || t === 'all';
const isRuntime = (t: DepType): boolean => t === 'runtime' || t === 'all';

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

/**
 * `--except` as bst 1.x reads it: `elements` (a selection for `targets`) without the excepted
 * elements where the targets need them, nor what the targets need only through them. Of each
 * excepted element, the nearest elements on the way down that the targets need are cut; what
 * the targets still reach otherwise stays.
 */
export function exceptElements(targets: readonly Element[], elements: readonly Element[], except: readonly Element[]): Element[] {
  if (except.length === 0) return [...elements];
  const targeted = new Set(scopeOf(targets, 'all'));
  const seen = new Set<Element>();
  const cut = new Set<Element>();
  const border = (e: Element): void => {
    if (seen.has(e)) return;
    seen.add(e);
    if (targeted.has(e)) cut.add(e);
    else for (const d of e.dependencies) border(d.element);
  };
  for (const e of except) border(e);
  const kept = new Set<Element>();
  const queue = [...targets];
  for (let e = queue.pop(); e; e = queue.pop()) {
    if (kept.has(e) || cut.has(e)) continue;
    kept.add(e);
    for (const d of e.dependencies) queue.push(d.element);
  }
  return elements.filter((e) => kept.has(e));
}
