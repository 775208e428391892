import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourcePosition } from '../../errors.js';
import type { DepType, Element, Project, YamlMap } from '../model.js';
import type { RememberedKeys } from '../plan/keys.js';
import type { LoadOptions } from './project.js';

/**
 * The load cache, as bst keeps parsed YAML keyed by the files' digests: what loading a project
 * produced — its Project and every Element loaded, with their dependencies — kept in the kiln
 * cache (`<cache>/loads/<digest of the project directory>.json`) and used again as long as its
 * inputs are unchanged: the bytes of every file the loader read (sha256; project.refs also when
 * absent), the .bst files under element-path (an element-mask option lists them), and the rest a
 * load depends on (option values, the user configuration's, the default mirror, max-jobs, the
 * host architecture, and kiln's own loader and kinds). A hit costs reading those files again,
 * not parsing, compositing and resolving them. The elements' cache keys are kept with them
 * (plan/keys.ts checks them against their sources' keys before using them).
 */

const VERSION = 3;

/** Files read by the loader in this process, in order, with the sha256 of their bytes (`noteRead`). */
const reads: [string, string][] = [];

/** Records a file the loader read (yaml.ts calls it for every YAML file). */
export function noteRead(path: string, text: string): void {
  reads.push([path, sha256(text)]);
}

/** A mark in the reads so far: a load keeps what was read after it (`store`). */
export function readMark(): number {
  return reads.length;
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

function digestOf(path: string): string | null {
  try {
    return sha256(readFileSync(path));
  } catch {
    return null;
  }
}

/** The .bst files under the element directory, as one digest. */
function elementListing(dir: string): string {
  const names: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.bst')) names.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return sha256(names.sort().join('\n'));
}

/**
 * Defined by the CLI bundle (scripts/bundle-cli.ts): a digest of the sources it was built from.
 * Elsewhere (tsc's modules, tests under tsx) it is not defined.
 */
declare const KILN_BUNDLE_IDENTITY: string | undefined;

let identity: string | undefined;

/**
 * kiln's loader and kinds: a changed kiln loads afresh. The bundle knows what it was built
 * from; tsc's modules are taken as they are on disk (sizes and times of the modules and default
 * YAML), which costs a directory listing and a stat of each.
 */
function kilnIdentity(): string {
  if (identity !== undefined) return identity;
  if (typeof KILN_BUNDLE_IDENTITY === 'string') {
    identity = KILN_BUNDLE_IDENTITY;
    return identity;
  }
  const pipeline = dirname(dirname(fileURLToPath(import.meta.url)));
  const parts: string[] = [];
  for (const sub of ['load', 'kinds', 'sources']) {
    const dir = join(pipeline, sub);
    // the modules (from source or built) and the kinds' default YAML; not types or source maps
    for (const name of readdirSync(dir)
      .filter((n) => /\.(js|ts|yaml)$/.test(n) && !n.endsWith('.d.ts'))
      .sort()) {
      const st = statSync(join(dir, name));
      parts.push(`${sub}/${name} ${st.size} ${st.mtimeMs}`);
    }
  }
  for (const name of ['model.ts', 'model.js', 'scope.ts', 'scope.js', 'plan/keys.ts', 'plan/keys.js']) {
    try {
      const st = statSync(join(pipeline, name));
      parts.push(`${name} ${st.size} ${st.mtimeMs}`);
    } catch {
      // one of .ts (from source) or .js (built) is there
    }
  }
  identity = sha256(parts.join('\n'));
  return identity;
}

/** What a load depends on besides its files. */
function contextOf(directory: string, options: LoadOptions): string {
  return sha256(
    JSON.stringify([
      VERSION,
      kilnIdentity(),
      directory,
      options.options ?? {},
      [...(options.userOptions ?? new Map())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      options.defaultMirror ?? null,
      options.maxJobs ?? Math.max(1, Math.min(cpus().length, 8)),
      arch(),
    ]),
  );
}

interface StoredProject extends Omit<Project, 'declaredPlugins'> {
  declaredPlugins: [string, string][];
}

interface StoredDependency {
  /** Index of the element in `elements`. */
  element: number;
  type: DepType;
  strict: boolean;
  config?: YamlMap;
}

interface StoredElement extends Omit<Element, 'project' | 'dependencies' | 'positions'> {
  project: number;
  dependencies: StoredDependency[];
  /** JSON of the positions' entries, parsed on first use (`withStoredPositions`). */
  positions: string;
}

interface Entry {
  context: string;
  /** Every file read, with its sha256 (null: it must still be absent). */
  files: [string, string | null][];
  listing: string;
  projects: StoredProject[];
  /** Dependencies before the elements that depend on them. */
  elements: StoredElement[];
  warnings: string[];
  /** The keys of `elements` (same index) a session computed: null for those it did not. */
  keys?: (RememberedKeys | null)[];
}

/** A load found in the cache: the elements by name (every project's), and the load's warnings. */
export interface CachedLoad {
  project: Project;
  elements: Map<string, Element>;
  warnings: string[];
}

/**
 * An element from the cache whose `positions` (where each key was written: for error messages
 * only) become a Map when first read. Most runs never read them, and making them costs more
 * than the rest of a lookup (the example's base.bst has about 1,500).
 */
function withStoredPositions(element: Omit<Element, 'positions'>, stored: string): Element {
  return Object.defineProperty(element as Element, 'positions', {
    configurable: true,
    enumerable: true,
    get(this: Element): Map<string, SourcePosition> {
      const positions = new Map(JSON.parse(stored) as [string, SourcePosition][]);
      Object.defineProperty(this, 'positions', { value: positions, writable: true, enumerable: true, configurable: true });
      return positions;
    },
  });
}

export class LoadCache {
  /** The files of the entry `lookup` found: a load that went on from it depends on them too. */
  private found: [string, string | null][] = [];
  /** The entry last looked up or stored, where it is, and its elements (for `keepKeys`). */
  private last: { entry: Entry; path: string; elements: Element[] } | undefined;

  constructor(readonly dir: string) {}

  private entryPath(directory: string): string {
    return join(this.dir, `${sha256(directory)}.json`);
  }

  /** The earlier load of the project at `directory` with these options, if none of its inputs changed. */
  lookup(directory: string, options: LoadOptions): CachedLoad | undefined {
    this.found = [];
    this.last = undefined;
    let entry: Entry;
    try {
      entry = JSON.parse(readFileSync(this.entryPath(directory), 'utf8')) as Entry;
    } catch {
      return undefined;
    }
    if (entry.context !== contextOf(directory, options)) return undefined;
    for (const [path, digest] of entry.files) if (digestOf(path) !== digest) return undefined;
    const projects = entry.projects.map((p): Project => ({ ...p, declaredPlugins: new Map(p.declaredPlugins) }));
    if (entry.listing !== elementListing(projects[0]!.elementDirectory)) return undefined;
    const built: Element[] = [];
    for (const { positions, ...s } of entry.elements) {
      built.push(
        withStoredPositions(
          {
            ...s,
            project: projects[s.project]!,
            dependencies: s.dependencies.map((d) => ({
              element: built[d.element]!,
              type: d.type,
              strict: d.strict,
              ...(d.config ? { config: d.config } : {}),
            })),
          },
          positions,
        ),
      );
    }
    this.found = entry.files;
    this.last = { entry, path: this.entryPath(directory), elements: built };
    for (const w of entry.warnings) options.onWarning?.(w);
    return { project: projects[0]!, elements: new Map(built.filter((e) => e.project === projects[0]).map((e) => [e.name, e])), warnings: entry.warnings };
  }

  /**
   * Keeps a load for later runs: `elements` with everything they depend on, loaded from the
   * project at `directory` with `options` by reading the files read after `since` (a
   * `readMark`).
   */
  store(directory: string, options: LoadOptions, since: number, project: Project, elements: readonly Element[], warnings: readonly string[]): void {
    const order: Element[] = [];
    const index = new Map<Element, number>();
    const visit = (e: Element): void => {
      if (index.has(e)) return;
      for (const d of e.dependencies) visit(d.element);
      index.set(e, order.length);
      order.push(e);
    };
    elements.forEach(visit);
    const projects: Project[] = [project];
    for (const e of order) if (!projects.includes(e.project)) projects.push(e.project);
    const files = new Map<string, string | null>([...this.found, ...reads.slice(since)]);
    for (const p of projects) files.set(p.refsFile, digestOf(p.refsFile));
    const entry: Entry = {
      context: contextOf(directory, options),
      files: [...files],
      listing: elementListing(project.elementDirectory),
      projects: projects.map((p) => ({ ...p, declaredPlugins: [...p.declaredPlugins] })),
      elements: order.map((e) => ({
        ...e,
        project: projects.indexOf(e.project),
        dependencies: e.dependencies.map((d) => ({
          element: index.get(d.element)!,
          type: d.type,
          strict: d.strict,
          ...(d.config ? { config: d.config } : {}),
        })),
        positions: JSON.stringify([...e.positions]),
      })),
      warnings: [...warnings],
    };
    this.last = { entry, path: this.entryPath(directory), elements: order };
    this.write(this.last.path, entry);
  }

  /** The keys kept with the entry last looked up (none for one just stored), by element. */
  keys(): Map<Element, RememberedKeys> {
    const out = new Map<Element, RememberedKeys>();
    const { entry, elements } = this.last ?? { entry: undefined, elements: [] };
    entry?.keys?.forEach((k, i) => {
      if (k) out.set(elements[i]!, k);
    });
    return out;
  }

  /** Keeps `keys` (one session's: all or none of an element's dependencies') with the entry last looked up or stored. */
  keepKeys(keys: ReadonlyMap<Element, RememberedKeys>): void {
    if (!this.last) return;
    this.last.entry.keys = this.last.elements.map((e) => keys.get(e) ?? null);
    this.write(this.last.path, this.last.entry);
  }

  /** Written by rename, so a reader sees an entry whole. */
  private write(path: string, entry: Entry): void {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, JSON.stringify(entry));
      renameSync(tmp, path);
    } catch {
      // a cache that cannot be written only costs the next run a full load
      rmSync(tmp, { force: true });
    }
  }
}
