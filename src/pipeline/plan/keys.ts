import { createHash } from 'node:crypto';
import type { Element, Project, YamlValue } from '../model.js';
import { dependencies, directDependencies } from '../scope.js';
import type { ElementKind, KeyValue } from '../kinds/kind.js';

/**
 * Cache keys (docs/format.md#cache-keys): sha256 over the canonical JSON (sorted keys, no spaces) of what
 * determines an element's artifact. Variables count only through what they expand into.
 */

/** Bumped when the artifact format or the key layout changes. */
export const CORE_ARTIFACT_VERSION = 1;

/** Sorted-key compact JSON: the one serialization keys are hashed over. */
export function canonicalJson(value: KeyValue | YamlValue | undefined): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, KeyValue>)[k])}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface ElementKeys {
  /** Undefined while a source of the element or of anything in its BUILD scope has no ref. */
  strong: string | undefined;
  weak: string | undefined;
}

/** What the key computation needs to know about sources and kinds (injected for tests). */
export interface KeyInputs {
  kind(element: Element): ElementKind;
  /** `{directory, key}` per source in order, or undefined if any source lacks its ref. */
  sourceKeys(element: Element): { directory: string; key: KeyValue }[] | undefined;
}

/**
 * For an element of a project loaded through a junction: that junction (its project, name and
 * sources' keys, and the same of the junction above it, if any), so that a new version of the
 * sub-project changes the keys of all its elements. Undefined while a junction source has no ref.
 */
function junctionKey(project: Project, inputs: KeyInputs): KeyValue | undefined {
  const junction = project.junction;
  if (!junction) return null;
  const sources = inputs.sourceKeys(junction);
  const above = junctionKey(junction.project, inputs);
  if (sources === undefined || above === undefined) return undefined;
  return { project: junction.project.name, name: junction.name, sources: sources.map((s) => ({ directory: s.directory, 'unique-key': s.key })), above };
}

/** The element's own part of the key: everything except the dependencies. */
export function elementKeyDict(element: Element, inputs: KeyInputs): { [key: string]: KeyValue } | undefined {
  const sources = inputs.sourceKeys(element);
  if (sources === undefined) return undefined;
  const junction = junctionKey(element.project, inputs);
  if (junction === undefined) return undefined;
  const kind = inputs.kind(element);
  const nocache = new Set(element.environmentNocache);
  const environment: { [key: string]: KeyValue } = {};
  for (const [k, v] of Object.entries(element.environment)) if (!nocache.has(k)) environment[k] = v;
  const sandbox: { [key: string]: KeyValue } = {};
  if (element.sandbox.buildUid !== 0) sandbox['build-uid'] = element.sandbox.buildUid;
  if (element.sandbox.buildGid !== 0) sandbox['build-gid'] = element.sandbox.buildGid;
  if (element.sandbox.buildOs) sandbox['build-os'] = element.sandbox.buildOs;
  if (element.sandbox.buildArch) sandbox['build-arch'] = element.sandbox.buildArch;
  return {
    'core-artifact-version': CORE_ARTIFACT_VERSION,
    'element-plugin-name': element.kind,
    'element-plugin-version': kind.version,
    'element-plugin-key': kind.uniqueKey(element),
    'element-base-key': { 'build-root': element.variables['build-root'] ?? '' },
    sources: sources.map((s) => ({ directory: s.directory, 'unique-key': s.key })),
    public: element.public as KeyValue,
    'fatal-warnings': [...element.project.fatalWarnings].sort(),
    environment,
    sandbox,
    // only in the keys of a junction's elements: every other key stays as it was
    ...(junction === null ? {} : { junction }),
  };
}

/**
 * Keys an earlier run computed (the load cache keeps them), with the canonical JSON of the
 * element's source keys they were computed from.
 */
export interface RememberedKeys {
  sources: string;
  strong?: string;
  weak?: string;
}

/**
 * Remembered keys of loaded elements (`rememberKeys`). The load cache proves an element and its
 * kind unchanged; its sources' keys (a local source's file digests, refs written since) are
 * computed again and compared, and its dependencies' keys must be the remembered ones too.
 */
const remembered = new WeakMap<Element, RememberedKeys>();

/** The canonical JSON of the source keys each element's keys were computed with (`keysToRemember`). */
const computedWith = new WeakMap<Element, string>();

export function rememberKeys(element: Element, keys: RememberedKeys): void {
  remembered.set(element, keys);
}

/** Whether `keys` are the ones remembered for `element`. */
function asRemembered(element: Element, keys: ElementKeys): boolean {
  const known = remembered.get(element);
  return known !== undefined && known.strong === keys.strong && known.weak === keys.weak;
}

/**
 * What `rememberKeys` takes in a later run for `elements` (keys of one session, so that each
 * element's dependencies' remembered keys are the ones its own were computed with); undefined
 * when each of them has its remembered keys already.
 */
export function keysToRemember(elements: readonly Element[], keysOf: (element: Element) => ElementKeys): Map<Element, RememberedKeys> | undefined {
  if (elements.every((e) => asRemembered(e, keysOf(e)))) return undefined;
  const out = new Map<Element, RememberedKeys>();
  for (const e of elements) {
    const { strong, weak } = keysOf(e);
    const sources = computedWith.get(e);
    if (sources === undefined || e.project.junction) continue;
    out.set(e, { sources, ...(strong ? { strong } : {}), ...(weak ? { weak } : {}) });
  }
  return out;
}

/**
 * Computes strong and weak keys for `elements` and everything they depend on. Results are
 * memoized in `cache` (pass the same map to reuse across calls).
 */
export function computeKeys(elements: Element[], inputs: KeyInputs, cache = new Map<Element, ElementKeys>()): Map<Element, ElementKeys> {
  // Each element's own part is serialized once; the dependency list is spliced in where sorted
  // keys put it (right after 'core-artifact-version'), giving exactly canonicalJson({...own, dependencies}).
  const head = `{"core-artifact-version":${CORE_ARTIFACT_VERSION},`;
  const own = new Map<Element, string | undefined>();
  const ownDict = (e: Element): string | undefined => {
    if (!own.has(e)) {
      const dict = elementKeyDict(e, inputs);
      const json = dict ? canonicalJson(dict) : undefined;
      if (json !== undefined && !json.startsWith(head)) throw new Error('cache key layout: core-artifact-version must sort first');
      own.set(e, json);
    }
    return own.get(e);
  };
  const withDeps = (ownJson: string, deps: KeyValue[]): string => sha256Hex(`${head}"dependencies":${canonicalJson(deps)},${ownJson.slice(head.length)}`);
  const visit = (e: Element): ElementKeys => {
    const done = cache.get(e);
    if (done) return done;
    const known = remembered.get(e);
    if (known && !e.project.junction) {
      const sources = inputs.sourceKeys(e);
      // every dependency a key covers: its keys as remembered, so these are as computed then
      const same = (d: Element): boolean => asRemembered(d, visit(d));
      if (
        sources !== undefined &&
        canonicalJson(sources) === known.sources &&
        [...dependencies(e, 'build')].every(same) &&
        e.dependencies.every((d) => same(d.element))
      ) {
        computedWith.set(e, known.sources);
        const keys: ElementKeys = { strong: known.strong, weak: known.weak };
        cache.set(e, keys);
        return keys;
      }
    }
    const dict = ownDict(e);
    // Strong: every element staged for the build, with its strong key, in staging order.
    let strongDeps: KeyValue[] | undefined = [];
    for (const d of dependencies(e, 'build')) {
      const k = visit(d).strong;
      if (k === undefined) {
        strongDeps = undefined;
        break;
      }
      strongDeps.push([d.project.name, d.name, k]);
    }
    // Weak: direct build deps by name; strict-rebuild kinds and strict deps carry the dep's weak key.
    const strictKind = inputs.kind(e).strictRebuild;
    let weakDeps: KeyValue[] | undefined = [];
    for (const dep of e.dependencies) {
      if (dep.type === 'runtime') continue;
      if (strictKind || dep.strict) {
        const k = visit(dep.element).weak;
        if (k === undefined) {
          weakDeps = undefined;
          break;
        }
        weakDeps.push([dep.element.project.name, dep.element.name, k]);
      } else weakDeps.push([dep.element.project.name, dep.element.name]);
    }
    // Visit runtime-only deps too, so every element reachable gets keys.
    for (const r of directDependencies(e, 'run')) visit(r);
    const keys: ElementKeys = {
      strong: dict && strongDeps ? withDeps(dict, strongDeps) : undefined,
      weak: dict && strongDeps && weakDeps ? withDeps(dict, weakDeps) : undefined,
    };
    const sources = dict ? inputs.sourceKeys(e) : undefined;
    if (sources) computedWith.set(e, canonicalJson(sources));
    cache.set(e, keys);
    return keys;
  };
  for (const e of elements) visit(e);
  return cache;
}

/** The 8-character display form; unknown keys show as '????????'. */
export function shortKey(key: string | undefined): string {
  return key ? key.slice(0, 8) : '????????';
}
