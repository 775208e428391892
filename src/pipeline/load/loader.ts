import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import type { Element, Project, Scope } from '../model.js';
import { dependencies, scope as scopeList, scopeOf } from '../scope.js';
import { composeElement, parseElement, splitJunctionName, type RawDependency, type RawElement } from './element.js';
import { junctionLoadOptions, junctionProjectDirectory } from './junction.js';
import { sortDependencies } from './graph.js';
import { readMark, type CachedLoad, type LoadCache } from './cache.js';
import { loadProjectConfig, type LoadOptions, type ProjectConfig } from './project.js';

/**
 * The loader's entry point: project.conf at once, elements lazily with their dependency closure.
 * Element names are relative to element-path. Loading is synchronous and deterministic.
 */
export class LoadedProject {
  readonly project: Project;
  private readConfig: ProjectConfig | undefined;
  /** Where this load's file reads begin (for the load cache). */
  private readonly mark = readMark();
  private readonly built = new Map<string, Element>();
  /** Shared with the projects of junctions: a dependency's closure is wherever it was built. */
  private readonly closures: Map<Element, Set<string>>;
  private readonly visiting: { name: string; via: RawDependency | undefined }[] = [];
  /** Sub-projects of junctions by junction name; null where a sub-project asked and this project has none (bst's conflict marker). */
  private readonly junctions = new Map<string, LoadedProject | null>();

  /**
   * With `cached` (from the load cache), its elements are the loaded ones and project.conf is
   * read only if an element outside them is asked for.
   */
  constructor(
    private readonly configOf: () => ProjectConfig,
    private readonly cached?: CachedLoad,
    /** How sub-projects are loaded; for one loaded through a junction, also the project that junction is in. */
    private readonly link: { options: LoadOptions; parent?: LoadedProject; prefix?: string } = { options: {} },
  ) {
    this.closures = link.parent?.closures ?? new Map();
    if (!cached) {
      this.readConfig = this.withJunctionIncludes(configOf());
      this.project = this.readConfig.project;
      return;
    }
    this.project = cached.project;
    for (const e of cached.elements.values()) {
      const closure = new Set<string>();
      for (const d of e.dependencies) {
        closure.add(d.element.name);
        for (const n of this.closures.get(d.element) ?? []) closure.add(n);
      }
      this.closures.set(e, closure);
      this.built.set(e.name, e);
    }
  }

  get config(): ProjectConfig {
    if (!this.readConfig) {
      this.readConfig = this.withJunctionIncludes(this.configOf());
      // the cached elements' project (the same project.conf, unchanged)
      this.readConfig.project = this.project;
    }
    return this.readConfig;
  }

  /** Warnings collected while loading (ignored inline refs, ignored keys). */
  get warnings(): readonly string[] {
    return [...(this.cached?.warnings ?? []), ...(this.readConfig?.warnings ?? [])];
  }

  /** Keeps what was loaded in `cache` for later runs, unless it all came from there. */
  keep(cache: LoadCache, directory: string, options: LoadOptions): void {
    // a load that followed junctions read other projects' files too: not kept
    if (!this.readConfig || this.junctions.size > 0) return;
    cache.store(directory, options, this.mark, this.project, [...this.built.values()], this.warnings);
  }

  /** Loads an element and everything it depends on (each file read once per project); `junction.bst:element.bst` names one of a junction's project. */
  element(name: string): Element {
    const through = this.built.has(name) ? undefined : splitJunctionName(name, undefined);
    return through ? this.junctionProject(through.junction, undefined).load(through.name, undefined) : this.load(name, undefined);
  }

  /** Element names as shown: `junction.bst:` before those of a junction's project. */
  private get prefix(): string {
    return this.link.prefix ?? '';
  }

  private withJunctionIncludes(config: ProjectConfig): ProjectConfig {
    config.junctionInclude = (name, pos) => {
      const sub = this.junctionProject(name, pos);
      return { directory: sub.project.directory, options: sub.config.optionValues, junction: sub.config.junctionInclude };
    };
    return config;
  }

  /**
   * The project of this project's junction `name`, loaded on first use. As in bst, a junction of
   * the same name in a project above takes precedence; a name that two sub-projects define and
   * no project above them does is a conflict.
   */
  junctionProject(name: string, pos: SourcePosition | undefined): LoadedProject {
    return this.findJunction(name, pos, 0)!;
  }

  private findJunction(name: string, pos: SourcePosition | undefined, level: number): LoadedProject | undefined {
    if (this.junctions.has(name)) {
      const known = this.junctions.get(name);
      if (known === null) {
        throw new KilnError(
          'junction-conflict',
          `junction ${name} is defined in more than one sub-project${pos ? ` (needed at ${formatPosition(pos)})` : ''}, and they may differ`,
          `define the junction ${name} in project ${this.project.name} too: it then takes precedence`,
        );
      }
      return known;
    }
    const above = this.link.parent?.findJunction(name, pos, level + 1);
    if (above) {
      this.junctions.set(name, above);
      return above;
    }
    let junction: Element;
    try {
      const raw: RawElement = parseElement(this.config, name, pos);
      if (raw.kind.value !== 'junction') {
        throw new KilnError(
          'junction-kind',
          `${raw.display} is used as a junction${pos ? ` (${formatPosition(pos)})` : ''} but its kind is ${raw.kind.value}`,
          'name a junction element before the colon: JUNCTION.bst:ELEMENT.bst',
        );
      }
      junction = composeElement(raw, this.config, [], `${this.prefix}${name}`);
    } catch (e) {
      // asked for from a sub-project: not here is not an error (the sub-project has its own)
      if (level > 0 && e instanceof KilnError && e.code === 'element-missing') {
        this.junctions.set(name, null);
        return undefined;
      }
      throw e;
    }
    const directory = junctionProjectDirectory(junction, this.link.options.junctionSources);
    const options = junctionLoadOptions(junction, this.link.options);
    // bst names an element of the junction's project by the junction's own name and its own (one colon, however deep)
    const sub = openProject(directory, options, undefined, { options, parent: this, prefix: `${name}:` });
    sub.project.junction = junction;
    this.junctions.set(name, sub);
    return sub;
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
    if (via && raw.kind.value === 'junction') {
      throw new KilnError(
        'junction-dependency',
        `${formatPosition(via.pos)}: cannot depend on junction ${name}`,
        'depend on an element of its project instead: JUNCTION.bst:ELEMENT.bst, or junction: and filename:',
      );
    }
    this.visiting.push({ name, via });
    let deps: { raw: RawDependency; element: Element }[];
    try {
      deps = raw.deps.map((d) => ({ raw: d, element: d.junction ? this.junctionProject(d.junction, d.pos).load(d.name, d) : this.load(d.name, d) }));
    } finally {
      // after an error the project stays usable for other elements
      this.visiting.pop();
    }
    const sortable = deps.map((d) => ({ name: d.element.name, type: d.raw.type, closure: this.closures.get(d.element)!, dep: d }));
    const sorted = sortDependencies(sortable).map((s) => ({
      element: s.dep.element,
      type: s.dep.raw.type,
      strict: s.dep.raw.strict,
      ...(s.dep.raw.config ? { rawConfig: s.dep.raw.config } : {}),
    }));
    const element = composeElement(raw, this.config, sorted, `${this.prefix}${name}`);
    const closure = new Set<string>();
    for (const d of deps) {
      closure.add(d.element.name);
      for (const n of this.closures.get(d.element)!) closure.add(n);
    }
    this.closures.set(element, closure);
    this.built.set(name, element);
    return element;
  }
}

/**
 * Loads project.conf from `directory` (elements load on demand through `element(name)`); with a
 * load cache, from there while nothing it was loaded from changed.
 */
export function loadProject(directory: string, options: LoadOptions = {}, cache?: LoadCache): LoadedProject {
  return openProject(directory, options, cache?.lookup(directory, options), { options });
}

type Link = ConstructorParameters<typeof LoadedProject>[2];

/** A project whose project.conf may include files through its junctions (read with its first pass). */
function openProject(directory: string, options: LoadOptions, cached: CachedLoad | undefined, link: Link): LoadedProject {
  const junctionIncludes = (firstPass: ProjectConfig) => {
    const first = new LoadedProject(() => firstPass, undefined, link);
    return (name: string, pos: SourcePosition) => {
      const sub = first.junctionProject(name, pos);
      return { directory: sub.project.directory, options: sub.config.optionValues, junction: sub.config.junctionInclude };
    };
  };
  return new LoadedProject(() => loadProjectConfig(directory, { ...options, junctionIncludes }), cached, link);
}
