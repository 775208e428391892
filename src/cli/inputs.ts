import { existsSync, rmSync, statSync } from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';
import { KilnError } from '../errors.js';
import { newSpoolDir, removeStaleSpools, setInterruptFlag, tempPathFor } from '../fs/file-target.js';
import type { OwnerPolicy } from '../fs/tree-from-tar.js';
import type { FileTree } from '../fs/tree.js';
import { parseSize } from '../units.js';
import { workerProgress, type CopyProgress } from './live.js';
import { GO, startWriterThread, takeEarlyWriter, type WriterJob } from './writer-thread.js';

/** SOURCE_DATE_EPOCH from the environment, for writers that clamp timestamps to it. */
export function sourceDateEpochFromEnv(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new KilnError('bad-env', `SOURCE_DATE_EPOCH='${v}' is not a number of seconds`, 'set it to a non-negative integer, or unset it');
  return Number(v);
}

/** A size given on the command line: a malformed one is a usage error (exit 2). */
export function optionSize(text: string, what: string): number {
  try {
    return parseSize(text, what);
  } catch (e) {
    if (e instanceof KilnError) throw new KilnError('bad-option', e.message, e.hint);
    throw e;
  }
}

export function positiveInt(v: string, what: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new KilnError('bad-option', `${what} must be a positive integer, not '${v}'`);
  return Number(v);
}

/** Collects the values of a repeatable option (commander's value parser), in the order given. */
export function repeatable(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Runs `fn` on the tree of a directory or a tar archive, and frees what reading the archive
 * spooled afterwards. The readers load lazily so that `kiln --help` stays fast. `xattrs: false`
 * skips reading a directory's extended attributes, for a filesystem that cannot hold them.
 */
export async function withSourceTree<T>(
  source: { dir?: string; tar?: string; xattrs?: boolean },
  owners: OwnerPolicy,
  fn: (tree: FileTree) => Promise<T>,
): Promise<T> {
  if (source.tar !== undefined) {
    const { treeFromTar } = await import('../fs/tree-from-tar.js');
    // A spool named by PID, so that an interrupted or killed run's spool can be found and removed.
    removeStaleSpools();
    const spoolDir = newSpoolDir();
    try {
      const t = await treeFromTar(source.tar, { owners, spoolDir });
      try {
        return await fn(t.tree);
      } finally {
        t.dispose();
      }
    } finally {
      rmSync(spoolDir, { recursive: true, force: true });
    }
  }
  if (source.dir === undefined) throw new KilnError('bad-usage', 'no source given', 'name a source directory, or an archive with --from-tar');
  const { treeFromDirectory } = await import('../fs/tree-from-dir.js');
  return fn(treeFromDirectory(source.dir, { owners, xattrs: source.xattrs ?? true }));
}

/**
 * `kiln mkfs TYPE SRC OUT` or `kiln mkfs TYPE --from-tar FILE OUT`: which positional is which.
 * The output must not be an existing directory.
 */
export function sourceAndOutput(
  type: string,
  first: string,
  second: string | undefined,
  fromTar: string | undefined,
  force = false,
): { src?: string; out: string } {
  let result: { src?: string; out: string };
  if (fromTar !== undefined) {
    if (second !== undefined)
      throw new KilnError('bad-args', 'give either a source directory or --from-tar, not both', `kiln mkfs ${type} --from-tar ROOT.tar OUT.img`);
    result = { out: first };
  } else {
    if (second === undefined) throw new KilnError('bad-args', 'missing the output file', `kiln mkfs ${type} SRC OUT.img`);
    result = { src: first, out: second };
  }
  checkOutput(result.out, force);
  return result;
}

/**
 * Refuses, before any work, an output that is a directory, or an existing file without
 * --force (a mistyped name must not destroy an image).
 */
export function checkOutput(out: string, force: boolean): void {
  outputNotDirectory(out);
  if (!force && existsSync(out)) throw new KilnError('output-exists', `'${out}' exists`, 'pass --force to replace it, or name another output');
}

/** Refuses an output that is an existing directory (the rename into place would fail late). */
export function outputNotDirectory(out: string): void {
  let outIsDir = false;
  try {
    outIsDir = statSync(out).isDirectory();
  } catch {
    // does not exist yet: fine
  }
  if (outIsDir) throw new KilnError('bad-output', `output '${out}' is a directory`, 'name the image file to write, e.g. rootfs.img');
}

/* ---------------------------------------------------------------------------------------- *
 * Writer commands in a worker thread, so that SIGINT, SIGTERM and SIGHUP are honoured while a
 * synchronous writer runs: the main thread keeps its event loop free for the signal handlers.
 * ---------------------------------------------------------------------------------------- */

/** What the worker sends back. */
export type WriterOutcome = { ok: true; value?: unknown } | { kiln: { code: string; message: string; hint?: string } } | { internal: string };

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
/** How long an interrupted writer may take to stop by itself (at its next write) before it is terminated. */
const GRACE_MS = 2000;

let writerEntry: string | undefined;

/** Set by the CLI (start.ts, for main.ts or the bin): the module a writer worker runs. Without it, writers run in-process. */
export function setWriterEntry(url: string): void {
  writerEntry = url;
}

/** The job, when this thread is a writer worker. */
export function writerJob(): WriterJob | undefined {
  if (isMainThread) return undefined;
  const d = workerData as Partial<WriterJob> | null | undefined;
  return d && d.kilnWriter === true && Array.isArray(d.argv) && d.flag instanceof SharedArrayBuffer ? (d as WriterJob) : undefined;
}

/**
 * Thrown in a writer worker when the work is done: it carries the work's result to the main
 * thread (which prints it) and stops the worker's copy of the command there.
 */
class WorkDone {
  constructor(readonly value: unknown) {}
}

/** A thrown value as the worker reports it. */
export function writerOutcome(e: unknown): WriterOutcome {
  if (e instanceof WorkDone) return { ok: true, value: e.value };
  if (e instanceof KilnError) return { kiln: { code: e.code, message: e.message, ...(e.hint !== undefined && { hint: e.hint }) } };
  return { internal: (e as Error)?.stack ?? String(e) };
}

function outcomeError(o: WriterOutcome | undefined, exitCode: number): unknown {
  if (o === undefined) return new Error(`the writer thread ended (exit code ${exitCode}) without reporting`);
  if ('kiln' in o) return new KilnError(o.kiln.code, o.kiln.message, o.kiln.hint);
  if ('internal' in o) {
    const err = new Error('error in the writer thread');
    err.stack = o.internal;
    return err;
  }
  return undefined;
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // the next run removes it as a stale temp
  }
}

/**
 * Runs `work` (which writes `outputs` through SparseFileTarget or withOutputFile) so that a
 * SIGINT, SIGTERM or SIGHUP stops it cleanly: the work runs in a worker thread re-running this
 * command; a signal sets a shared flag that makes the writer's next write throw (its own
 * clean-up removes the temp file and spools), or, if it does not write within 2 s (or a second
 * signal comes), the worker is terminated and the temp files are removed here. The process
 * then exits 128 + the signal number (130 for SIGINT, 143 for SIGTERM). In the worker, or
 * without a CLI entry (library use), `work` simply runs.
 */
export async function interruptible<T>(outputs: readonly string[], work: () => Promise<T>): Promise<T> {
  const job = writerJob();
  if (job) {
    setInterruptFlag(new Int32Array(job.flag));
    throw new WorkDone(await work());
  }
  if (!isMainThread || writerEntry === undefined) return work();
  const thread = takeEarlyWriter() ?? startWriterThread(writerEntry, process.argv);
  const { worker, flag } = thread;
  worker.ref();
  worker.postMessage(GO);

  return new Promise<T>((resolve, reject) => {
    let signal: string | undefined;
    let outcome: WriterOutcome | undefined;
    let force: NodeJS.Timeout | undefined;
    let linger: NodeJS.Timeout | undefined;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signal === undefined) {
        signal = sig;
        Atomics.store(new Int32Array(flag), 0, 1);
        force = setTimeout(() => void worker.terminate(), GRACE_MS);
      } else void worker.terminate();
    };
    for (const s of Object.keys(SIGNALS)) process.on(s, onSignal);
    worker.on('message', (m: WriterOutcome | { kilnProgress: CopyProgress }) => {
      if ('kilnProgress' in m) {
        workerProgress(m.kilnProgress);
        return;
      }
      outcome = m;
      // the result is known: a worker that does not end by itself is stopped
      linger = setTimeout(() => void worker.terminate(), 5000);
    });
    const ended = (exitCode: number): void => {
      for (const s of Object.keys(SIGNALS)) process.off(s, onSignal);
      clearTimeout(force);
      clearTimeout(linger);
      if (signal !== undefined) {
        for (const out of outputs) removeQuietly(tempPathFor(out));
        removeStaleSpools(process.pid);
        process.stderr.write(`kiln: interrupted by ${signal}${outcome && 'ok' in outcome ? '' : '; nothing was written under the output name'}\n`);
        process.exit(128 + SIGNALS[signal]!);
      }
      // the value went through structured cloning: the same plain data the work returned
      if (outcome && 'ok' in outcome) resolve(outcome.value as T);
      else reject(outcome === undefined && thread.error !== undefined ? thread.error : outcomeError(outcome, exitCode));
    };
    void thread.exited.then(ended);
  });
}
