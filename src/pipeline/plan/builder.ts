import { appendFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import type { FileTree } from '../../fs/tree.js';
import { normalName, treeFromStagedDir } from '../cache/artifacts.js';
import { materializeYielding } from '../cache/materialize.js';
import { StagedRoots } from '../cache/staged-root.js';
import type { AssembleContext } from '../kinds/kind.js';
import type { Element } from '../model.js';
import { SOURCE_MTIME } from '../sources/index.js';
import { stageSources } from '../sources/index.js';
import { shortKey } from './keys.js';
import type { Session } from './session.js';
import { tailOfFile } from '../sandbox/log-tail.js';

/** A build that failed: the message, plus where its log is and the log's last lines. */
export class BuildFailure extends KilnError {
  constructor(
    readonly element: Element,
    readonly logPath: string,
    readonly reason: unknown,
    readonly tail: string[],
  ) {
    const why = reason instanceof KilnError ? reason.message : ((reason as Error)?.message ?? String(reason));
    super('build-failed', `${element.name}: ${why}`, `build log: ${logPath}`);
  }
}

/** Where an element's build logs go: `<cache>/logs/<project>/<normal-name>/<key8>-build.<pid>.log`. */
export function logPathFor(session: Session, element: Element): string {
  const dir = join(session.cache.root, 'logs', element.project.name, normalName(element.name));
  mkdirSync(dir, { recursive: true });
  return join(dir, `${shortKey(session.keys(element).strong)}-build.${process.pid}.log`);
}

export interface BuildHooks {
  /** Status lines (staging, each command): the progress display shows the latest. */
  status?(element: Element, message: string): void;
  /** The artifact is assembled and is being stored (mostly waiting on the disk). */
  caching?(element: Element): void;
}

/** The context a kind assembles in (also used to stage `kiln shell`). */
export function makeAssembleContext(session: Session, element: Element, workDir: string, logPath: string, hooks: BuildHooks = {}): AssembleContext {
  const log = (line: string): void => appendFileSync(logPath, `${line}\n`);
  // A sandbox root is staged from the cache without copies; what a command may change is made
  // private first (staged-root.ts), as is a directory written into or collected.
  const roots = new StagedRoots((inode) => session.originOf(inode));
  const started = performance.now();
  return {
    element,
    workDir,
    sandbox: roots.sandbox(session.sandbox),
    log: { path: logPath },
    artifact: (e) => session.artifact(e),
    dependencies: (e, scope) => session.dependencies(e, scope),
    stageSources: () => stageSources(session.sources(element), session.sourceContext),
    materialize: async (tree: FileTree, dir: string, options?: { merge?: boolean }) => {
      // a merge writes into what may be part of a staged root: that part is made private first;
      // it copies (sources, gigabytes for Linux) letting other builds run meanwhile
      if (options?.merge) roots.privatize(dir);
      const r = options?.merge ? await materializeYielding(tree, dir, { merge: true }) : roots.stage(tree, dir);
      if (r.skipped.length > 0) log(`note: could not create ${r.skipped.length} special file(s) here: ${r.skipped.slice(0, 5).join(', ')}`);
    },
    // Builds run as uid 0 in the sandbox: record owners 0:0, keep modes, fix mtimes for reproducible artifacts.
    collect: (dir, holes) => {
      roots.privatize(dir);
      return treeFromStagedDir(dir, session.cache.blobs, { owners: 'root', mtime: SOURCE_MTIME, move: true, ...(holes && { holes }) });
    },
    warn: (name, message) => {
      log(`WARNING [${name}] ${message}`);
      session.warn(element, name, message);
    },
    status: (message) => {
      // seconds since the build started: where its time goes, read from the log
      log(`STATUS [${((performance.now() - started) / 1000).toFixed(1).padStart(7)} s] ${message}`);
      hooks.status?.(element, message);
    },
  };
}

/** How many log lines a failure shows (BuildStream's `error-lines`). */
export const ERROR_LINES = 20;

/**
 * Builds one element whose build dependencies are cached, and commits its artifact. A scratch
 * directory holds the staged root; it is removed afterwards, success or not.
 */
export async function buildElement(session: Session, element: Element, hooks: BuildHooks = {}): Promise<void> {
  const keys = session.keys(element);
  if (!keys.strong) throw new KilnError('no-ref', `${element.name} has sources without a ref`, `track it first: kiln track ${element.name}`);
  const logPath = logPathFor(session, element);
  const log = (line: string): void => appendFileSync(logPath, `${line}\n`);
  appendFileSync(logPath, `[${new Date().toISOString()}] build ${element.project.name}/${element.name} key ${keys.strong}\n`);
  const workDir = session.makeWorkDir(element);
  const kind = session.kind(element);
  const ctx = makeAssembleContext(session, element, workDir, logPath, hooks);
  try {
    const tree = await kind.assemble(ctx);
    ctx.status('Caching artifact');
    hooks.caching?.(element);
    const deps: Record<string, string> = {};
    for (const d of session.dependencies(element, 'build')) deps[d.name] = session.keys(d).strong!;
    await session.cache.artifacts.commit(
      { project: element.project.name, element: element.name, key: keys.strong },
      tree,
      { public: element.public, keys: { strong: keys.strong, ...(keys.weak ? { weak: keys.weak } : {}) }, dependencies: deps },
      { logFile: logPath },
    );
    session.markCached(element);
    log(`SUCCESS ${element.name}`);
  } catch (e) {
    log(`FAILURE ${e instanceof KilnError ? e.describe() : ((e as Error)?.stack ?? String(e))}`);
    throw new BuildFailure(element, logPath, e, tailOfFile(logPath, ERROR_LINES));
  } finally {
    // Removed off the event loop first (a Linux build leaves gigabytes: removed synchronously,
    // they held every other build and the scheduler for minutes); discardScratch finishes what
    // that could not remove and never throws (a leftover is set aside with a warning).
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    session.discardScratch(workDir, element);
  }
}
