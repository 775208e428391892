import { Worker, type ResourceLimits } from 'node:worker_threads';
import { commandWordAt } from './command-word.js';
import { commandFamilies } from './commands/index.js';

/**
 * The writer thread of a CLI run (see `interruptible` in inputs.ts): a writer command runs in a
 * worker thread that re-runs the same command line, so that the main thread stays free for
 * signals. Starting a worker and loading the CLI into it takes longer than the main thread's
 * own loading (about 100 and 60 ms here), so start.ts starts it first, before it loads the CLI,
 * when the command line names a writer command. The thread loads the command and waits for the
 * word to go, which `interruptible` sends; a run that ends before (--help, a usage error) never
 * sends it and does not wait for the thread at exit.
 */

/** What the main thread hands the worker: the same command line and the shared interrupt flag. */
export interface WriterJob {
  kilnWriter: true;
  argv: string[];
  flag: SharedArrayBuffer;
}

/**
 * The writer thread's young generation, in MiB. A writer's tree and plan live for the whole run
 * and the rest is short-lived, so a small one costs no time, while V8's default grows to 32 MiB
 * and more as a tree is read and keeps it resident. Measured on a copy of /usr/share (medians):
 * mkfs ext4 206 -> 174 MiB and 3.68 -> 3.53 s, mkfs fat 178 -> 142 MiB, mkimage 223 -> 196 MiB,
 * mkinitramfs 253 -> 234 MiB.
 */
const YOUNG_GENERATION_MB = 4;

/** The message that lets a writer thread run its command. */
export const GO = 'kiln-writer-go';

/** A started writer thread, watched from its start (it may fail or end before its go). */
export interface WriterThread {
  worker: Worker;
  flag: SharedArrayBuffer;
  /** The first error the thread raised (it failed to start, or crashed). */
  error?: unknown;
  /** Its exit code, once it ended. */
  exited: Promise<number>;
}

/** Starts a worker running the CLI entry `entry` as a writer for `argv`; it waits for GO. */
export function startWriterThread(entry: string, argv: readonly string[]): WriterThread {
  const flag = new SharedArrayBuffer(4);
  const workerData: WriterJob = { kilnWriter: true, argv: [...argv], flag };
  const resourceLimits: ResourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  let worker: Worker;
  if (entry.endsWith('.ts')) {
    // Running from source under tsx (tests): the worker registers tsx itself before loading the entry.
    const api = import.meta.resolve('tsx/esm/api');
    worker = new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, {
      eval: true,
      workerData,
      resourceLimits,
    });
  } else worker = new Worker(new URL(entry), { workerData, resourceLimits });
  // not waited for until it is told to go
  worker.unref();
  const thread: WriterThread = { worker, flag, exited: new Promise((resolve) => worker.once('exit', resolve)) };
  worker.on('error', (e) => {
    thread.error ??= e;
  });
  return thread;
}

let early: WriterThread | undefined;

const COMMAND_WORDS = commandFamilies.flatMap((f) => f.words);

/** Whether `argv` runs a command that writes through `interruptible`, and is not asking for help. */
function runsWriter(argv: readonly string[]): boolean {
  if (argv.includes('--help') || argv.includes('-h')) return false;
  const at = commandWordAt(argv, COMMAND_WORDS);
  return at >= 0 && (commandFamilies.find((f) => f.words.includes(argv[at]!))?.writes?.(argv[at + 1]) ?? false);
}

/** start.ts, first thing: starts the writer thread of a writer command line (see the top). */
export function startEarlyWriter(entry: string, argv: readonly string[]): void {
  if (runsWriter(argv)) early = startWriterThread(entry, argv);
}

/** The thread startEarlyWriter started, once; undefined when there is none. */
export function takeEarlyWriter(): WriterThread | undefined {
  const thread = early;
  early = undefined;
  return thread;
}
