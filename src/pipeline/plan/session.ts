import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { KilnError } from '../../errors.js';
import { processAlive } from '../../fs/file-target.js';
import type { FileTree, Inode } from '../../fs/tree.js';
import { openCache, type ArtifactRef, type CacheDirs, type LoadedArtifact } from '../cache/artifacts.js';
import type { ArtifactSource, Origin } from '../cache/staged-root.js';
import { kindOf } from '../kinds/registry.js';
import type { ElementKind, KeyValue } from '../kinds/kind.js';
import type { Element, Scope } from '../model.js';
import { scope as scopeList } from '../scope.js';
import { BwrapSandbox } from '../sandbox/bwrap.js';
import { killOrphanedSandboxes } from '../sandbox/orphans.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { configureSource, sourceContext, type Source, type SourceContext } from '../sources/index.js';
import { isUnaliased } from '../sources/url.js';
import { removeTree } from '../util/remove-tree.js';
import { computeKeys, type ElementKeys } from './keys.js';

/** Prefix of scratch directories that could not be removed and were set aside. */
const LEFTOVER = 'leftover-';

/** What `kiln show` reports per element (docs/format.md#kiln-show). */
export type ElementState = 'no reference' | 'cached' | 'fetch needed' | 'buildable' | 'waiting' | 'failed';

export interface SessionOptions {
  cacheDir: string;
  sandbox?: Sandbox;
  /** Warnings that are not fatal go here (default: stderr). */
  warn?: (element: Element | undefined, message: string) => void;
}

/**
 * One pipeline session over a loaded project: the caches, each element's kind, sources and
 * keys, and the questions the planner, scheduler and CLI ask ("is it cached?", "what state?").
 */
export class Session {
  readonly cache: CacheDirs;
  readonly sandbox: Sandbox;
  readonly sourceContext: SourceContext;
  private readonly sourcesOf = new Map<Element, Source[]>();
  private readonly keyMap = new Map<Element, ElementKeys>();
  private readonly artifacts = new Map<Element, FileTree>();
  /** Where each inode of a loaded artifact comes from, for staged roots (filled lazily from `unindexed`). */
  private readonly origins = new Map<Inode, Origin>();
  private readonly unindexed: LoadedArtifact[] = [];
  /** Walks of loaded artifacts' trees that `origins` holds up to where they stand. */
  private readonly indexing: { source: ArtifactSource; walk: Generator<[string, Inode]> }[] = [];
  private readonly cachedNow = new Set<Element>();
  private readonly warnSink: (element: Element | undefined, message: string) => void;

  constructor(options: SessionOptions) {
    this.cache = openCache(options.cacheDir);
    try {
      mkdirSync(this.cache.tmpDir, { recursive: true });
    } catch (e) {
      throw new KilnError(
        'cache-dir',
        `cannot create the cache directory ${options.cacheDir}: ${(e as Error).message}`,
        'choose a writable directory with --cache-dir (default: $XDG_CACHE_HOME/kiln)',
      );
    }
    this.sandbox = options.sandbox ?? new BwrapSandbox();
    this.warnSink = options.warn ?? ((e, m) => process.stderr.write(`WARNING ${e ? `${e.name}: ` : ''}${m}\n`));
    this.sourceContext = sourceContext(this.cache, { warn: (m) => this.warnSink(undefined, m) });
  }

  /** Checks every element's kind and sources up front, so bad input fails before any work. */
  configure(elements: Element[]): void {
    for (const e of elements) {
      kindOf(e).configure(e);
      for (const s of this.sources(e)) {
        // as bst: downloads should go through an alias, so that mirrors and moves are one line in project.conf
        for (const url of s.urls ?? []) if (isUnaliased(url)) this.warn(e, 'unaliased-url', `${s.label}: use of unaliased source download URL: ${url}`);
      }
    }
  }

  kind(element: Element): ElementKind {
    return kindOf(element);
  }

  sources(element: Element): Source[] {
    let s = this.sourcesOf.get(element);
    if (!s) {
      s = element.sources.map((decl) => configureSource(decl, element));
      this.sourcesOf.set(element, s);
    }
    return s;
  }

  dependencies(element: Element, scope: Scope): Element[] {
    return scopeList(element, scope);
  }

  /** Strong and weak keys (memoized; call `forgetKeys` after a track changed refs). */
  keys(element: Element): ElementKeys {
    const k = this.keyMap.get(element);
    if (k) return k;
    computeKeys([element], { kind: (e) => kindOf(e), sourceKeys: (e) => this.sourceKeys(e) }, this.keyMap);
    return this.keyMap.get(element)!;
  }

  forgetKeys(): void {
    this.keyMap.clear();
    this.cachedNow.clear();
    this.artifacts.clear();
    this.origins.clear();
    this.unindexed.length = 0;
    this.indexing.length = 0;
  }

  private sourceKeys(element: Element): { directory: string; key: KeyValue }[] | undefined {
    const out: { directory: string; key: KeyValue }[] = [];
    for (const s of this.sources(element)) {
      const key = s.uniqueKey();
      if (key === undefined) return undefined;
      out.push({ directory: s.directory, key: key as KeyValue });
    }
    return out;
  }

  ref(element: Element): ArtifactRef | undefined {
    const key = this.keys(element).strong;
    return key ? { project: element.project.name, element: element.name, key } : undefined;
  }

  isCached(element: Element): boolean {
    if (this.cachedNow.has(element)) return true;
    const ref = this.ref(element);
    if (ref && this.cache.artifacts.has(ref)) {
      this.cachedNow.add(element);
      return true;
    }
    return false;
  }

  /** Records that an element was just built (so later questions need no disk look-up). */
  markCached(element: Element): void {
    this.cachedNow.add(element);
  }

  sourcesCached(element: Element): boolean {
    return this.sources(element).every((s) => s.isCached(this.sourceContext));
  }

  /** The consistency-based state of docs/format.md#kiln-show (`failed` is set by the scheduler). */
  state(element: Element): ElementState {
    if (this.keys(element).strong === undefined) return 'no reference';
    if (this.isCached(element)) return 'cached';
    if (!this.sourcesCached(element)) return 'fetch needed';
    return scopeList(element, 'build').every((d) => this.isCached(d)) ? 'buildable' : 'waiting';
  }

  /** A cached artifact's tree (memoized). */
  artifact(element: Element): FileTree {
    let tree = this.artifacts.get(element);
    if (tree) return tree;
    const ref = this.ref(element);
    const loaded = ref ? this.cache.artifacts.load(ref) : undefined;
    if (!loaded) throw new KilnError('not-cached', `${element.name} is not in the artifact cache`, `build it first: kiln build ${element.name}`);
    tree = loaded.tree;
    this.artifacts.set(element, tree);
    this.unindexed.push(loaded);
    return tree;
  }

  /**
   * Where an inode of a loaded artifact's tree comes from: the artifact (as a host directory on
   * demand) and its first path there. The trees are indexed only as far as a question needs (a
   * root staged from one artifact as it is asks about one file).
   */
  originOf(inode: Inode): Origin | undefined {
    for (let loaded = this.unindexed.pop(); loaded; loaded = this.unindexed.pop()) {
      const { tree, digest } = loaded;
      let dir: string | undefined;
      this.indexing.push({ source: { tree, dir: () => (dir ??= this.cache.artifactDirs.dir(digest, tree).dir) }, walk: tree.walk() });
    }
    let found = this.origins.get(inode);
    while (!found && this.indexing.length > 0) {
      const { source, walk } = this.indexing[0]!;
      const next = walk.next();
      if (next.done) {
        this.indexing.shift();
        continue;
      }
      const [path, node] = next.value;
      if (node.type === 'dir' || this.origins.has(node)) continue;
      this.origins.set(node, { artifact: source, path });
      if (node === inode) found = this.origins.get(node);
    }
    return found;
  }

  warn(element: Element | undefined, name: string, message: string): void {
    const fatal = element ? element.project.fatalWarnings.includes(name) : false;
    if (fatal) throw new KilnError(`warning-${name}`, `${element!.name}: ${message}`, `'${name}' is listed in fatal-warnings of project.conf`);
    this.warnSink(element, `[${name}] ${message}`);
  }

  /** A fresh scratch directory for one build, named so a later session can tell it is stale. */
  makeWorkDir(element: Element): string {
    mkdirSync(this.cache.tmpDir, { recursive: true });
    const dir = join(this.cache.tmpDir, `build-${process.pid}-${element.name.replace(/[^A-Za-z0-9._-]/g, '_')}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(dir);
    return dir;
  }

  /**
   * Removes scratch directories and temp files of sessions that were killed. Whatever a build
   * left that cannot be removed (another user's files, immutable files) never blocks this
   * session: it is moved aside once, with one warning, and retried quietly later.
   */
  cleanStale(): void {
    this.cache.artifacts.cleanStaleTemps();
    this.cache.artifactDirs.cleanStaleTemps();
    let names: string[];
    try {
      names = readdirSync(this.cache.tmpDir);
    } catch {
      return;
    }
    for (const name of names) {
      const dir = join(this.cache.tmpDir, name);
      if (name.startsWith(LEFTOVER)) {
        try {
          removeTree(dir);
        } catch {
          // still there: it was reported when it was set aside
        }
        continue;
      }
      const m = /^(?:build|sources|shell)-(\d+)/.exec(name);
      if (m && !processAlive(Number(m[1]))) {
        killOrphanedSandboxes(dir);
        this.discardScratch(dir);
      }
    }
  }

  /**
   * Removes a scratch directory. If that fails, the directory is renamed out of the way
   * (`<cache>/tmp/leftover-…`, which later sessions retry quietly) and one warning says what
   * is left and how to remove it; nothing is thrown, so a leftover never fails a build.
   */
  discardScratch(dir: string, element?: Element): void {
    try {
      removeTree(dir);
      return;
    } catch (e) {
      const why = e instanceof KilnError ? e.message : ((e as Error)?.message ?? String(e));
      const aside = join(this.cache.tmpDir, `${LEFTOVER}${basename(dir)}`);
      let where = dir;
      try {
        renameSync(dir, aside);
        where = aside;
      } catch {
        // cannot even move it: leave it where it is (cleanStale only retries dead sessions)
      }
      this.warnSink(
        element,
        `could not remove the scratch directory of a build; moved it aside to ${where} (kiln retries quietly; remove it by hand if it stays): ${why.split('\n').slice(0, 3).join(' ')}`,
      );
    }
  }

  /** Ends the session: removes its source scratch directory. */
  close(): void {
    this.discardScratch(this.sourceContext.tmpDir);
  }
}
