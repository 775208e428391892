import { isAscii } from 'node:buffer';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { constants, Script } from 'node:vm';
import { isMainThread } from 'node:worker_threads';
import { defaultCacheDir } from './cache-home.js';

/**
 * Loading the built CLI with V8's code cache. Node 20 keeps no compiled code for modules between
 * runs (22's module.enableCompileCache does), and compiling the CLI was about a fifth of a no-op
 * build; V8 reads back code it compiled before in a fraction of that. So the CLI is one
 * CommonJS bundle, compiled here as a vm.Script with the cache of an earlier run.
 *
 * A cache holds the code a run compiled, and reading one back costs in proportion to its size,
 * so each command keeps its own: `<kiln's default cache>/code/<bundle id>-<node version>-<arch>-<command>.bin`
 * (measured on the example's no-op build: 118 ms with the cache `--version` wrote, 105 ms with
 * its own), and a writer command's thread another (`<command>-thread`). The first run of a
 * command with a build of kiln (or a run whose cache V8 rejects: other V8 flags, a damaged file)
 * writes it as it exits, or at the command's checkpoint (checkpoint.ts) where it has one, and
 * removes the caches of all but the few builds that wrote theirs last (OTHER_BUILDS_KEPT). It
 * is only a speed-up: a cache that cannot be read or written is left alone, and the run is the
 * same.
 */

type CommonJsWrapper = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/** A module loaded by requireWithCodeCache. */
export interface CachedModule {
  exports: unknown;
  /**
   * Writes the cache now, with the code compiled so far, where this run is to write one (not
   * again at exit): what every run of the command compiles, without the code one run's work
   * needed (the example's no-op build read back the cache its first, full build wrote in
   * 0.158 s, and its own in 0.131 s).
   */
  checkpoint(): void;
}

/**
 * The CommonJS module at `path` (whose content `id` names), compiled with the code cache of
 * `command` (a command word, or `none`). The file is the function Node's require would wrap the
 * module in.
 */
export function requireWithCodeCache(path: string, id: string, command: string): CachedModule {
  // esbuild escapes what is not ASCII: read so, the text needs no UTF-8 decoding (2 of a no-op build's 55 ms)
  const bytes = readFileSync(path);
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const dir = codeCacheDir();
  // a writer thread runs other code than its main thread (writer-thread.ts): a cache of its own
  const name = isMainThread ? command : `${command}-thread`;
  const file = dir === undefined ? undefined : join(dir, `${id}-${process.version}-${process.arch}-${name}.bin`);
  let cachedData: Buffer | undefined;
  try {
    if (file !== undefined) cachedData = readFileSync(file);
  } catch {
    // none yet
  }
  const script = new Script(source, {
    filename: path,
    ...(cachedData !== undefined ? { cachedData } : {}),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  let due = dir !== undefined && file !== undefined && (cachedData === undefined || script.cachedDataRejected === true);
  const checkpoint = (): void => {
    if (!due) return;
    due = false;
    save(script, dir!, file!, id);
  };
  if (due) process.once('exit', checkpoint);
  const module = { exports: {} };
  (script.runInThisContext() as CommonJsWrapper)(module.exports, createRequire(path), module, path, dirname(path));
  return { exports: module.exports, checkpoint };
}

function codeCacheDir(): string | undefined {
  try {
    return join(defaultCacheDir(), 'code');
  } catch {
    // no home directory
    return undefined;
  }
}

/**
 * Builds whose caches are kept besides the one writing: two versions of kiln used in turn (a
 * project's and a global install, a before-and-after benchmark) would otherwise remove each
 * other's on every run, and each run would compile everything again. Caches of older builds go.
 */
const OTHER_BUILDS_KEPT = 2;

/** Writes the cache under a name of its own, then renames it into place: a reader never sees part of one. */
function save(script: Script, dir: string, file: string, id: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    prune(dir, id);
    writeFileSync(temp, script.createCachedData());
    renameSync(temp, file);
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // the directory is not there to hold it either
    }
  }
}

/**
 * Removes what a cache directory holds besides this build's caches and those of the
 * OTHER_BUILDS_KEPT builds that wrote theirs last: older builds' caches, and anything else (the
 * temporary file of a killed run).
 */
function prune(dir: string, id: string): void {
  const others = new Map<string, { names: string[]; newest: number }>();
  for (const name of readdirSync(dir)) {
    const build = /^([0-9a-f]{16})-[^/]*\.bin$/.exec(name)?.[1];
    if (build === id) continue;
    if (build === undefined) {
      rmSync(join(dir, name), { force: true });
      continue;
    }
    let written: number;
    try {
      written = statSync(join(dir, name)).mtimeMs;
    } catch {
      // removed meanwhile by another run
      continue;
    }
    const entry = others.get(build) ?? { names: [], newest: 0 };
    entry.names.push(name);
    entry.newest = Math.max(entry.newest, written);
    others.set(build, entry);
  }
  const oldestFirst = [...others.values()].sort((a, b) => a.newest - b.newest);
  for (const { names } of oldestFirst.slice(0, Math.max(0, oldestFirst.length - OTHER_BUILDS_KEPT)))
    for (const name of names) rmSync(join(dir, name), { force: true });
}
