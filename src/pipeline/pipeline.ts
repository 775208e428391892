import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../errors.js';
import { outputError } from '../fs/file-target.js';
import type { FileTree } from '../fs/tree.js';
import { materialize, type MaterializeResult } from './cache/materialize.js';
import { LoadCache } from './load/cache.js';
import { findProjectDirectory, loadProject, writeSourceRef, type LoadedProject, type LoadOptions } from './load/index.js';
import type { UserProjectOptions } from './load/user-config.js';
import type { Element, Project } from './model.js';
import { checkoutTree, type CheckoutOptions } from './plan/checkout.js';
import { keysToRemember, rememberKeys, shortKey, type ElementKeys } from './plan/keys.js';
import { buildPlan } from './plan/plan.js';
import { runPlan, type BuildSummary, type SchedulerEvents } from './plan/scheduler.js';
import { Session, type ElementState } from './plan/session.js';
import { prepareShell } from './plan/shell.js';
import {
  effectiveRemotes,
  pullArtifact,
  pullPlan,
  pushArtifact,
  pushSourceFiles,
  Remotes,
  sourceRemote,
  type PullResult,
  type PushResult,
  type RemoteSpec,
  type RemotesEvents,
} from './remote/index.js';
import { BwrapSandbox } from './sandbox/bwrap.js';
import type { Sandbox } from './sandbox/sandbox.js';
import { exceptElements, scopeOf } from './scope.js';
import { describeRefChange, fetchElements, fixMissingElements, trackElements, type FetchResult, type TrackResult } from './sources/index.js';
import { removeTree } from './util/remove-tree.js';

// What the command line (and a library user) needs beside the Pipeline itself, so that one
// module is the pipeline's whole surface for it.
export type { Element, Project, YamlValue } from './model.js';
export type { CheckoutDeps, CheckoutOptions } from './plan/checkout.js';
export type { ElementKeys } from './plan/keys.js';
export type { BuildSummary, ElementPhase, SchedulerEvents } from './plan/scheduler.js';
export type { ElementState } from './plan/session.js';
export type { PullResult, PushResult, RemoteSpec, Remotes, RemotesEvents, Transfer } from './remote/index.js';
export type { FetchResult, TrackResult } from './sources/index.js';
export type { MaterializeResult } from './cache/materialize.js';
export { loadUserConfig, type UserConfig, type UserProjectOptions } from './load/user-config.js';

/** What `openPipeline` loads: the project, its targets and option values, and where the caches are. */
export interface OpenOptions {
  /** The project directory, or a directory below it (project.conf is searched upwards). */
  projectDir: string;
  cacheDir: string;
  /** Element names relative to element-path; default: the project's `defaults: targets`. */
  targets: string[];
  /** Project option values (`-o NAME VALUE`). */
  options?: Record<string, string>;
  /** The user configuration's option values (`projects: NAME: options:`), by project name. */
  userOptions?: ReadonlyMap<string, UserProjectOptions>;
  sandbox?: Sandbox;
  /** The mirror fetches try first (user config `default-mirror`). */
  defaultMirror?: string;
  warn?: (element: Element | undefined, message: string) => void;
}

/** Which elements a command works on, from its targets (`--deps`): `plan` = what must be built. */
export type Selection = 'none' | 'plan' | 'run' | 'build' | 'all';

/**
 * How refs are updated:
 *   track        every source takes the ref upstream offers now
 *   fix-missing  every ref stays, except the parts no origin offers any more (re-pinned)
 */
export type PinMode = 'track' | 'fix-missing';

/** A source's ref after tracking, with one line per pin that moved ("linux-libc-dev: 6.1.192-2 -> 6.1.192-3"). */
export interface RefUpdate extends TrackResult {
  changes: string[];
}

/** How far a run over sources is: results so far, and how many there will be. */
export interface SourceCount {
  done: number;
  total: number;
}

/** What a build reports as it goes, beside the scheduler's phase, status and failure of each element. */
export interface BuildEvents extends SchedulerEvents {
  /** Refs are about to be updated: `--track`'s elements, or each round of `--fix-missing`. */
  pinning?(mode: PinMode, elements: readonly Element[]): void;
  refUpdated?(mode: PinMode, update: RefUpdate, count: SourceCount): void;
  /** Every ref of that mode is updated (for fix-missing: every round's updates). */
  pinned?(mode: PinMode, updates: readonly RefUpdate[]): void;
  /** The refs are final: next come pulling (with remote caches) and building. */
  planned?(): void;
  /** Asking the remote caches for what the plan needs. */
  pulling?(targets: readonly Element[]): void;
  pulled?(element: Element, result: PullResult, elapsedMs: number): void;
  /** Pulling is over; `elements` were pulled. */
  pullDone?(elements: readonly Element[]): void;
  pushed?(element: Element, result: PushResult, elapsedMs: number): void;
  /** A push that failed: the build goes on. */
  pushFailed?(element: Element, error: Error): void;
}

/** How `Pipeline.build` builds: builders at once, what a failure stops, what to pin first. */
export interface BuildOptions {
  /** How many elements build at once. */
  builders: number;
  /** After a failure: `quit` starts nothing new (running builds finish); `continue` builds what does not depend on it. */
  onError: 'quit' | 'continue';
  /** Track these elements first (`kiln build --track`). */
  track?: readonly Element[];
  /** Re-pin what the archive no longer offers, for the elements to build only (`--fix-missing`). */
  fixMissing?: boolean;
  events?: BuildEvents;
}

/** What the remote caches did during a build. */
export interface BuildRemoteReport {
  pulled: Element[];
  pullMs: number;
  /** Elements whose push was started. */
  pushes: number;
  /** From the first push's start to the last push's end. */
  pushMs: number;
}

export interface BuildReport extends BuildSummary {
  /** With remote caches (`connectRemotes`). */
  remote?: BuildRemoteReport;
}

/**
 * A loaded project with its targets: the one entry for what `kiln show`, `track`, `fetch`,
 * `build`, `checkout`, `shell` and the remote-cache commands do; each of them parses its
 * arguments, makes one or two calls here and prints what comes back. Events report progress as
 * it happens, so the caller draws it as it likes. Open one with `openPipeline`; `close` it when
 * done (it removes the session's scratch directory and closes remote connections).
 *
 * @example
 * ```ts
 * const p = openPipeline({ projectDir: '.', cacheDir: '/var/cache/kiln', targets: ['image.bst'] });
 * try {
 *   const report = await p.build({ builders: 2, onError: 'quit' });
 *   console.log(report.built.map((e) => e.name));
 * } finally {
 *   p.close();
 * }
 * ```
 */
export class Pipeline {
  /** Every element the targets reach, in staging order. */
  readonly all: Element[];
  private remotes: Remotes | undefined;

  /** Made by `openPipeline`. */
  constructor(
    readonly loaded: LoadedProject,
    readonly session: Session,
    readonly targets: Element[],
    /** Where the load came from, and its elements' keys are kept for the next run. */
    private readonly loads?: LoadCache,
  ) {
    this.all = scopeOf(targets, 'all');
  }

  /** The project as project.conf (with its includes and options) declares it. */
  get project(): Project {
    return this.loaded.project;
  }

  /** Elements by name, relative to element-path (a leading './' is allowed). */
  elements(names: readonly string[]): Element[] {
    return this.loaded.elements(names.map(elementName));
  }

  /** The elements `selection` names for the targets, in staging order, less those `except` names and what only they need (bst's --except). */
  select(selection: Selection, except: readonly string[] = []): Element[] {
    const selected = selection === 'none' ? this.targets : selection === 'plan' ? this.plan() : scopeOf(this.targets, selection);
    return exceptElements(this.targets, selected, this.elements(except));
  }

  /** The elements that must be built for the targets (not cached), deepest first. */
  plan(): Element[] {
    return buildPlan(this.session, this.targets);
  }

  /** The element's strong and weak cache keys (none while a source lacks a ref). */
  keys(element: Element): ElementKeys {
    return this.session.keys(element);
  }

  /** The first eight characters of the strong key ('????????' without one), as logs show it. */
  shortKey(element: Element): string {
    return shortKey(this.session.keys(element).strong);
  }

  /** What `kiln show` reports: cached, buildable, fetch needed, waiting or no reference. */
  state(element: Element): ElementState {
    return this.session.state(element);
  }

  /**
   * Uses remote caches: `cli` (a URL that replaces the configured ones), else the user
   * configuration's and the project's `artifacts:`. Pinned source files are then also asked of
   * them (the last origin of a fetch); builds pull and push. Undefined when none is configured.
   */
  connectRemotes(specs: { cli?: string; user: readonly RemoteSpec[] }, events: RemotesEvents): Remotes | undefined {
    const list = effectiveRemotes(specs.cli, specs.user, this.project.artifactRemotes ?? []);
    if (list.length === 0) return undefined;
    this.remotes = new Remotes(list, events);
    this.session.sourceContext.remote = sourceRemote(this.remotes);
    return this.remotes;
  }

  /**
   * Computes new refs for every source of `elements` and writes the changed ones where the project
   * keeps them (inline in the .bst, keeping comments, or project.refs); cache keys then follow.
   */
  async track(
    elements: readonly Element[],
    mode: PinMode = 'track',
    options: { jobs?: number; onResult?(update: RefUpdate, count: SourceCount): void } = {},
  ): Promise<RefUpdate[]> {
    const run = mode === 'track' ? trackElements : fixMissingElements;
    const count: SourceCount = { done: 0, total: elements.reduce((n, e) => n + this.session.sources(e).length, 0) };
    const update = (r: TrackResult): RefUpdate => ('changes' in r ? (r as RefUpdate) : Object.assign(r, { changes: describeRefChange(r) }));
    try {
      const results = await run(
        elements,
        (e) => this.session.sources(e),
        this.session.sourceContext,
        (e, i, ref) => writeSourceRef(e, i, ref),
        {
          ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
          onResult: (r) => {
            count.done++;
            options.onResult?.(update(r), { ...count });
          },
        },
      );
      return results.map(update);
    } finally {
      this.session.forgetKeys();
    }
  }

  /** Downloads the sources of `elements` into the source cache (exact refs, verified). */
  async fetch(elements: readonly Element[], options: { jobs?: number; onResult?(result: FetchResult, count: SourceCount): void } = {}): Promise<FetchResult[]> {
    this.session.cleanStale();
    const count: SourceCount = { done: 0, total: elements.reduce((n, e) => n + this.session.sources(e).length, 0) };
    return fetchElements(elements, (e) => this.session.sources(e), this.session.sourceContext, {
      ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
      onResult: (r) => {
        count.done++;
        options.onResult?.(r, { ...count });
      },
    });
  }

  /**
   * Builds the targets: tracks first if asked, re-pins what the archive dropped if asked, pulls
   * what the plan needs from remote caches, then fetches and builds the rest with parallel
   * builders, pushing each element as soon as it is built.
   */
  async build(options: BuildOptions): Promise<BuildReport> {
    const ev = options.events ?? {};
    this.session.cleanStale();
    if (options.track && options.track.length > 0) {
      ev.pinning?.('track', options.track);
      const updates = await this.track(options.track, 'track', { onResult: (u, n) => ev.refUpdated?.('track', u, n) });
      ev.pinned?.('track', updates);
    }
    if (options.fixMissing) {
      // Only what must be built needs its sources; a re-pin changes keys, which can put more
      // elements in the plan, so check again until the plan holds nothing unchecked.
      const checked = new Set<Element>();
      const updates: RefUpdate[] = [];
      for (let todo = this.plan(); todo.length > 0; todo = this.plan().filter((e) => !checked.has(e))) {
        ev.pinning?.('fix-missing', todo);
        updates.push(...(await this.track(todo, 'fix-missing', { onResult: (u, n) => ev.refUpdated?.('fix-missing', u, n) })));
        for (const e of todo) checked.add(e);
      }
      ev.pinned?.('fix-missing', updates);
    }
    ev.planned?.();
    const pulled = this.remotes ? await this.pull(ev) : undefined;
    const pushing = this.remotes ? new Pushes(this.session, this.remotes, ev) : undefined;
    const summary = await runPlan(this.session, this.plan(), {
      builders: options.builders,
      onError: options.onError,
      events: {
        ...ev,
        phase: (e, phase) => {
          ev.phase?.(e, phase);
          if (phase === 'cached') pushing?.start(e);
        },
      },
    });
    if (!pulled || !pushing) return summary;
    await pushing.done();
    return { ...summary, remote: { pulled: pulled.elements, pullMs: pulled.ms, pushes: pushing.count, pushMs: pushing.ms } };
  }

  /** Before a build: pulls what the plan needs (targets first; what is pulled is not built). */
  private async pull(ev: BuildEvents): Promise<{ elements: Element[]; ms: number }> {
    const started = Date.now();
    const begun = new Map<Element, number>();
    ev.pulling?.(this.targets);
    const elements = await pullPlan(this.session, this.targets, this.remotes!, {
      start: (e) => begun.set(e, Date.now()),
      pulled: (e, r) => ev.pulled?.(e, r, Date.now() - (begun.get(e) ?? started)),
    });
    const ms = Date.now() - started;
    ev.pullDone?.(elements);
    return { elements, ms };
  }

  /**
   * The checkout tree of `element` (`kiln checkout`): its artifact with its runtime dependencies
   * (or per `deps`), integrated. Every artifact it needs must be cached.
   */
  checkout(element: Element, options: CheckoutOptions): Promise<FileTree> {
    return checkoutTree(this.session, element, options);
  }

  /**
   * Writes a checkout tree into the directory `dir` (created if missing; `merge` to write into a
   * non-empty one). A directory this call created is removed again if writing fails.
   */
  writeCheckout(tree: FileTree, dir: string, options: { merge: boolean; onFileWritten?: (bytes: number) => void }): MaterializeResult {
    const existed = existsSync(dir);
    try {
      return materialize(tree, dir, { merge: options.merge, rootMeta: false, ...(options.onFileWritten ? { onFileWritten: options.onFileWritten } : {}) });
    } catch (e) {
      if (!existed) {
        try {
          removeTree(dir);
        } catch {
          // reported below with the cause
        }
      }
      throw outputError(e, dir, 'checking out into');
    }
  }

  /**
   * Runs `command` (default: the project's `shell: command`) in the staged runtime of `element`,
   * or with `build` in its build environment with its sources, with network access, a full
   * /dev and a writable root. Returns the command's exit code.
   */
  async shell(element: Element, options: { build: boolean; command?: readonly string[] }): Promise<number> {
    const shell = await prepareShell(this.session, element, options.build);
    try {
      const argv = options.command && options.command.length > 0 ? [...options.command] : this.project.shell.command;
      if (argv.length === 0) throw new KilnError('shell-no-command', 'no command to run', 'give one after --, or set shell: command: in project.conf');
      return await new BwrapSandbox().exec(argv, shell.root, shell.mounts, shell.env, { cwd: shell.cwd, network: true, interactive: true });
    } finally {
      shell.dispose();
    }
  }

  /**
   * Pushes the cached artifacts of `elements` to the remote caches that accept pushes (only the
   * blobs they lack are sent). Fails if one is not cached here or a remote failed.
   */
  async pushArtifacts(elements: readonly Element[], events: { pushed?(element: Element, result: PushResult): void } = {}): Promise<void> {
    const remotes = this.pushRemotes();
    const missing: Element[] = [];
    for (const e of elements) {
      const ref = this.session.ref(e);
      if (!ref || !this.session.isCached(e)) {
        missing.push(e);
        continue;
      }
      for (const r of await pushArtifact(remotes, this.session.cache.artifacts, ref)) events.pushed?.(e, r);
    }
    checkRemotes(remotes, true);
    if (missing.length > 0)
      throw new KilnError(
        'not-cached',
        `not in the local cache, so not pushed: ${names(missing)}`,
        `build them first: kiln build ${missing.map((e) => e.name).join(' ')}`,
      );
  }

  /** Pulls the artifacts of `elements` from the remote caches (every blob verified). Fails if no remote has one. */
  async pullArtifacts(
    elements: readonly Element[],
    events: { cached?(element: Element): void; pulled?(element: Element, result: PullResult): void } = {},
  ): Promise<void> {
    const remotes = this.connected();
    const absent: Element[] = [];
    for (const e of elements) {
      const ref = this.session.ref(e);
      if (!ref) throw new KilnError('no-ref', `${e.name} has sources without a ref, so it has no cache key`, `track it first: kiln track ${e.name}`);
      if (this.session.isCached(e)) {
        events.cached?.(e);
        continue;
      }
      const r = await pullArtifact(remotes, this.session.cache.artifacts, ref);
      if (r) events.pulled?.(e, r);
      else absent.push(e);
    }
    checkRemotes(remotes, false);
    if (absent.length > 0)
      throw new KilnError(
        'not-on-remote',
        `no remote cache has: ${names(absent)}`,
        'build them (kiln build pushes what it builds when a remote has push: true)',
      );
  }

  /** Pushes the pinned source files of `elements` in the source cache (tarballs, .debs, Debian source files), by sha256. */
  async pushSources(elements: readonly Element[], events: { pushed?(element: Element, result: PushResult): void } = {}): Promise<void> {
    const remotes = this.pushRemotes();
    const ctx = this.session.sourceContext;
    const uncached = elements.filter((e) => !this.session.sourcesCached(e));
    for (const e of elements) for (const r of await pushSourceFiles(remotes, this.session.sources(e), ctx)) events.pushed?.(e, r);
    checkRemotes(remotes, true);
    if (uncached.length > 0) {
      throw new KilnError(
        'not-cached',
        `sources not in the local source cache, so not pushed: ${names(uncached)}`,
        `fetch them first: kiln fetch --deps none ${uncached.map((e) => e.name).join(' ')}`,
      );
    }
  }

  /** The keys of every element the targets reach, with the load, unless they are the ones it came with. */
  private keepKeys(): void {
    if (!this.loads) return;
    try {
      const keys = keysToRemember(this.all, (e) => this.session.keys(e));
      if (keys) this.loads.keepKeys(keys);
    } catch {
      // a key that cannot be computed (a local source gone) is reported by the command that needs it
    }
  }

  private connected(): Remotes {
    if (!this.remotes)
      throw new KilnError(
        'no-remote',
        'no remote cache is configured',
        'give one with --remote URL, or list it under `artifacts:` in ~/.config/kiln.conf or project.conf',
      );
    return this.remotes;
  }

  private pushRemotes(): Remotes {
    const remotes = this.connected();
    if (remotes.pushable.length === 0)
      throw new KilnError('no-remote', 'no configured remote cache accepts pushes', 'set `push: true` on one, or give --remote URL');
    return remotes;
  }

  /** Ends the session: keeps the keys computed for the next run, removes the scratch directory and closes the remote caches. */
  close(): void {
    this.keepKeys();
    this.session.close();
    this.remotes?.close();
  }
}

/**
 * Loads a project and its targets, and checks every reachable element's kind and sources, so
 * that bad input is reported before any fetch or build starts.
 */
export function openPipeline(opts: OpenOptions): Pipeline {
  const directory = findProjectDirectory(opts.projectDir);
  const loadOptions: LoadOptions = {
    ...(opts.options ? { options: opts.options } : {}),
    ...(opts.userOptions ? { userOptions: opts.userOptions } : {}),
    ...(opts.defaultMirror !== undefined ? { defaultMirror: opts.defaultMirror } : {}),
    ...(opts.warn ? { onWarning: (m: string) => opts.warn!(undefined, m) } : {}),
  };
  // an unchanged project is not parsed again (load/cache.ts)
  const loads = new LoadCache(join(opts.cacheDir, 'loads'));
  const loaded = loadProject(directory, loadOptions, loads);
  const names = opts.targets.length > 0 ? opts.targets : loaded.project.defaultTargets;
  if (names.length === 0)
    throw new KilnError('no-targets', 'no elements given', 'name the elements, e.g. kiln build hello.bst (names are relative to element-path)');
  const targets = loaded.elements(names.map(elementName));
  const session = new Session({ cacheDir: opts.cacheDir, ...(opts.sandbox ? { sandbox: opts.sandbox } : {}), ...(opts.warn ? { warn: opts.warn } : {}) });
  const p = new Pipeline(loaded, session, targets, loads);
  session.configure(p.all);
  loaded.keep(loads, directory, loadOptions);
  for (const [e, k] of loads.keys()) rememberKeys(e, k);
  return p;
}

function elementName(name: string): string {
  return name.replace(/^\.\//, '');
}

function names(elements: readonly Element[]): string {
  return elements.map((e) => e.name).join(', ');
}

/** A remote that failed (or, pushing, refused uploads) fails a command asked to transfer. */
function checkRemotes(remotes: Remotes, push: boolean): void {
  const bad = remotes.list.filter((r) => r.down !== undefined || (push && r.pushDown !== undefined));
  if (bad.length > 0) {
    throw new KilnError(
      'remote-failed',
      `the remote cache ${bad.map((r) => `${r.http.display} (${r.down ?? r.pushDown})`).join(', ')} failed`,
      'check that the server is up and reachable, then run the command again',
    );
  }
}

/** Pushes of built elements (artifact and pinned source files), running while other builds go on. */
class Pushes {
  private readonly jobs: Promise<void>[] = [];
  private started = 0;
  private ended = 0;

  constructor(
    private readonly session: Session,
    private readonly remotes: Remotes,
    private readonly ev: BuildEvents,
  ) {}

  get count(): number {
    return this.jobs.length;
  }

  get ms(): number {
    return this.ended - this.started;
  }

  /** Starts pushing a built element (never throws: a failure is an event). */
  start(e: Element): void {
    if (this.remotes.pushable.length === 0) return;
    const ref = this.session.ref(e);
    if (!ref) return;
    if (this.started === 0) this.started = Date.now();
    const job = (async () => {
      const began = Date.now();
      try {
        for (const r of await pushArtifact(this.remotes, this.session.cache.artifacts, ref)) this.ev.pushed?.(e, r, Date.now() - began);
        await pushSourceFiles(this.remotes, this.session.sources(e), this.session.sourceContext);
      } catch (err) {
        this.ev.pushFailed?.(e, err as Error);
      } finally {
        this.ended = Date.now();
      }
    })();
    this.jobs.push(job);
  }

  async done(): Promise<void> {
    await Promise.all(this.jobs);
  }
}
