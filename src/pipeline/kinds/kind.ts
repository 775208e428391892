import { KilnError, formatPosition } from '../../errors.js';
import type { FileTree } from '../../fs/tree.js';
import type { KnownHoles } from '../cache/known-holes.js';
import type { Element, Scope, YamlMap, YamlValue } from '../model.js';
import type { Sandbox, SandboxLog } from '../sandbox/sandbox.js';

/**
 * The element-kind plugin interface (docs/format.md#element-kinds): one module per
 * kind exports one ElementKind, which names the kind, lists its config keys, points at its
 * default YAML and checks an element's configuration, reports the unique key that goes into the
 * cache key, and assembles the artifact from its staged dependencies and sources. The loader
 * finds kinds in one table (registry.ts), which library users extend with `registerElementKind`.
 */

/** JSON-able data for cache keys. */
export type KeyValue = string | number | boolean | null | KeyValue[] | { [key: string]: KeyValue };

export interface ElementKind {
  readonly name: string;
  /** The keys its `config:` accepts; the loader rejects any other at its file:line:col. */
  readonly configKeys: readonly string[];
  /**
   * The kind's default YAML file (BuildStream's `<kind>.yaml`: variables, environment,
   * environment-nocache, config, public, sandbox), composited under project.conf's
   * `elements.<kind>` and then under the element (docs/format.md#composition-order); usually
   * `new URL('./<kind>.yaml', import.meta.url)`. Without one the kind has no defaults.
   */
  readonly defaults?: URL;
  /**
   * For a kind BuildStream gets from a plugin package (not core), that pip package: a project
   * must declare it under `plugins:` to use the kind, as with BuildStream.
   */
  readonly pluginPackage?: string;
  /** Bumped when the kind's behaviour changes, so old artifacts stop matching. */
  readonly version: number;
  /**
   * Strict-rebuild kinds (compose, script, image) put their dependencies' weak keys, not just
   * names, into their own weak key, so every change in a dependency rebuilds them.
   */
  readonly strictRebuild: boolean;
  /** Validates the element's config, dependency types and sources; throws a located KilnError. */
  configure(element: Element): void;
  /** The kind's unique key from the (variable-expanded) config. */
  uniqueKey(element: Element): KeyValue;
  /** Builds the artifact. The returned tree's contents must stay valid until it is committed. */
  assemble(ctx: AssembleContext): Promise<FileTree>;
}

/** What a kind gets to assemble one element. */
export interface AssembleContext {
  readonly element: Element;
  /** A private, empty scratch directory on the cache's filesystem; removed after the build. */
  readonly workDir: string;
  /** Runs commands; in a root `materialize` staged, it first makes private what the run may change. */
  readonly sandbox: Sandbox;
  /** The element's build log. */
  readonly log: SandboxLog;
  /**
   * The cached artifact of a dependency (it must be cached: the scheduler guarantees it). The
   * tree is shared within the session: stage or copy it, never change its inodes in place.
   */
  artifact(element: Element): FileTree;
  /** Dependency scopes (docs/format.md#scopes). */
  dependencies(element: Element, scope: Scope): Element[];
  /** The element's sources staged together, each in its directory, with the fixed source mtime. */
  stageSources(): Promise<FileTree>;
  /**
   * Stages a tree as a sandbox root in an empty host directory, linking and binding the cache
   * rather than copying it (cache/staged-root.ts): only `sandbox` runs and `collect` may rely on
   * its contents. With `merge`, writes private copies into a non-empty directory (sources into
   * the build root).
   */
  materialize(tree: FileTree, dir: string, options?: { merge?: boolean }): Promise<void>;
  /**
   * Reads a host directory (e.g. the install root) back as an artifact tree, owners 0:0, modes
   * kept. `holes`: files in it whose holes are known (cache/known-holes.ts).
   */
  collect(dir: string, holes?: KnownHoles[]): FileTree;
  /** A named warning (e.g. 'overlaps'); fatal if the project lists it in fatal-warnings. */
  warn(name: string, message: string): void;
  /** A status line for the log and the progress display. */
  status(message: string): void;
}

/** Typed reads of an element's config, with located errors (the loader has checked the keys). */
export class KindConfig {
  constructor(readonly element: Element) {}

  error(key: string | undefined, code: string, message: string, hint?: string): KilnError {
    const pos = key !== undefined ? this.element.positions.get(`config.${key}`) : undefined;
    const where = pos ? formatPosition(pos) : this.element.file;
    return new KilnError(code, `${where}: ${this.element.name}: ${message}`, hint);
  }

  value(key: string): YamlValue | undefined {
    return this.element.config[key];
  }

  string(key: string, def: string): string {
    const v = this.value(key);
    if (v === undefined) return def;
    if (typeof v !== 'string') throw this.error(key, 'bad-config-type', `config '${key}' must be a string`);
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.value(key);
    if (v === undefined || v === '') return def;
    if (v === 'True' || v === 'true' || v === '1') return true;
    if (v === 'False' || v === 'false' || v === '0') return false;
    throw this.error(key, 'bad-config-type', `config '${key}' must be True or False, not ${JSON.stringify(v)}`);
  }

  stringList(key: string): string[] {
    const v = this.value(key);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw this.error(key, 'bad-config-type', `config '${key}' must be a list of strings`);
    return v as string[];
  }

  mapList(key: string): YamlMap[] {
    const v = this.value(key);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || Array.isArray(x)))
      throw this.error(key, 'bad-config-type', `config '${key}' must be a list of mappings`);
    return v as YamlMap[];
  }
}

/** An error about an element as a whole, located at its file (or a key in it). */
export function elementError(element: Element, code: string, message: string, hint?: string, key?: string): KilnError {
  const pos = key !== undefined ? element.positions.get(key) : undefined;
  return new KilnError(code, `${pos ? formatPosition(pos) : element.file}: ${element.name}: ${message}`, hint);
}

/** Common dependency/source rules, checked in configure. */
export function requireNoSources(element: Element): void {
  if (element.sources.length > 0)
    throw elementError(
      element,
      'kind-no-sources',
      `a ${element.kind} element cannot have sources`,
      'move the sources into an import or build element',
      'sources',
    );
}

export function requireBuildDepsOnly(element: Element): void {
  // A dependency of type 'all' is a runtime dependency too (BuildStream's BST_FORBID_RDEPENDS).
  const bad = element.dependencies.find((d) => d.type !== 'build');
  if (bad)
    throw elementError(
      element,
      'kind-build-deps-only',
      `a ${element.kind} element can only have build dependencies, but '${bad.element.name}' is a ${bad.type === 'all' ? 'build and runtime' : 'runtime'} dependency`,
      'declare it under build-depends or with type: build',
      'depends',
    );
}
