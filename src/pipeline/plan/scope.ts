import { directDependencies, dependencies as scopeGenerator, scopeOf } from '../load/graph.js';
import type { Element, Scope } from '../model.js';

/**
 * Dependency scopes (docs/format.md#scopes) as lists, for the planner, keys and kinds. The loader's graph
 * module holds the one definition; this adapts it to the list form used here.
 */

/** Direct dependencies of a type: 'build' = build or all, 'run' = runtime or all. */
export function directDeps(element: Element, scope: 'build' | 'run'): Element[] {
  return directDependencies(element, scope);
}

/** `run`: the runtime closure, element last; `build`: what its build stages; `all`: everything. */
export function dependencies(element: Element, scope: Scope, visited = new Set<Element>()): Element[] {
  return [...scopeGenerator(element, scope, visited)];
}

/** The union of a scope over several targets, in order, each element once. */
export function dependenciesOf(targets: Element[], scope: Scope): Element[] {
  return scopeOf(targets, scope);
}
