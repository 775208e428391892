import { KilnError, formatPosition } from '../../errors.js';
import type { Element, Project, Scope } from '../model.js';
import { dependencies, scope as scopeList, scopeOf } from '../scope.js';
import { composeElement, parseElement, type RawDependency, type RawElement } from './element.js';
import { sortDependencies } from './graph.js';
import { loadProjectConfig, type LoadOptions, type ProjectConfig } from './project.js';

/**
 * The loader's entry point: project.conf at once, elements lazily with their dependency closure.
 * Element names are relative to element-path. Loading is synchronous and deterministic.
 */
export class LoadedProject {
  readonly project: Project;
  readonly config: ProjectConfig;
  private readonly built = new Map<string, Element>();
  private readonly closures = new Map<Element, Set<string>>();
  private readonly visiting: { name: string; via: RawDependency | undefined }[] = [];

  constructor(config: ProjectConfig) {
    this.config = config;
    this.project = config.project;
  }

  /** Warnings collected while loading (ignored inline refs, ignored keys). */
  get warnings(): readonly string[] {
    return this.config.warnings;
  }

  /** Loads an element and everything it depends on (each file read once per project). */
  element(name: string): Element {
    return this.load(name, undefined);
  }

  /** Several elements, in the order given. */
  elements(names: readonly string[]): Element[] {
    return names.map((n) => this.element(n));
  }

  /** Every element loaded so far, in load (dependency-first) order. */
  loadedElements(): Element[] {
    return [...this.built.values()];
  }

  /** The staging scopes of docs/format.md#scopes. */
  scope(element: Element, which: Scope): Element[] {
    return scopeList(element, which);
  }

  /** A scope's union over several targets, each element once. */
  scopeOf(targets: readonly Element[], which: Scope): Element[] {
    return scopeOf(targets, which);
  }

  /** The scope as a generator sharing `visited` across calls. */
  dependencies(element: Element, which: Scope, visited?: Set<Element>): Generator<Element> {
    return dependencies(element, which, visited);
  }

  /** Names of everything `element` depends on, directly or transitively. */
  closure(element: Element): ReadonlySet<string> {
    return this.closures.get(element) ?? new Set();
  }

  private load(name: string, via: RawDependency | undefined): Element {
    const done = this.built.get(name);
    if (done) return done;
    const at = this.visiting.findIndex((v) => v.name === name);
    if (at >= 0) {
      const cycle = [...this.visiting.slice(at), { name, via }];
      const steps = cycle.slice(1).map((c) => `${c.name} (${formatPosition(c.via!.pos)})`);
      throw new KilnError(
        'dependency-cycle',
        `dependency cycle: ${cycle.map((c) => c.name).join(' -> ')}; declared at ${steps.join(', ')}`,
        'an element cannot depend on itself, directly or through others: remove one of these dependencies',
      );
    }
    const raw: RawElement = parseElement(this.config, name, via?.pos);
    this.visiting.push({ name, via });
    let deps: { raw: RawDependency; element: Element }[];
    try {
      deps = raw.deps.map((d) => ({ raw: d, element: this.load(d.name, d) }));
    } finally {
      // after an error the project stays usable for other elements
      this.visiting.pop();
    }
    const sortable = deps.map((d) => ({ name: d.raw.name, type: d.raw.type, closure: this.closures.get(d.element)!, dep: d }));
    const sorted = sortDependencies(sortable).map((s) => ({
      element: s.dep.element,
      type: s.dep.raw.type,
      strict: s.dep.raw.strict,
      ...(s.dep.raw.config ? { rawConfig: s.dep.raw.config } : {}),
    }));
    const element = composeElement(raw, this.config, sorted);
    const closure = new Set<string>();
    for (const d of deps) {
      closure.add(d.raw.name);
      for (const n of this.closures.get(d.element)!) closure.add(n);
    }
    this.closures.set(element, closure);
    this.built.set(name, element);
    return element;
  }
}

/** Loads project.conf from `directory` (elements load on demand through `element(name)`). */
export function loadProject(directory: string, options: LoadOptions = {}): LoadedProject {
  return new LoadedProject(loadProjectConfig(directory, options));
}
