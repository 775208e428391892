import { CommanderError } from 'commander';
import { parentPort } from 'node:worker_threads';
import { KilnError } from '../errors.js';
import { errorPrefix } from './colour.js';
import { helpHint, runningCommand, USAGE_CODES } from './conventions.js';
import { buildProgram, programArgv } from './program.js';
import { setWriterEntry, writerJob, writerOutcome, type WriterOutcome } from './inputs.js';
import type { WriterJob } from './writer-thread.js';

/** Errors the operating system reports about the machine, not about kiln: a user can act on them. */
const ENVIRONMENT_ERRORS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the filesystem is read-only',
  EIO: 'an I/O error (the disk may be failing)',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
  EFBIG: 'a file is too large for its filesystem',
};

/** Prints an error the way users see it and returns the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (e instanceof KilnError) {
    // a usage error (exit 2) without a hint of its own points at the command's help
    const usage = USAGE_CODES.has(e.code);
    process.stderr.write(`${errorPrefix()} ${e.describe()}\n${usage && e.hint === undefined ? `  hint: ${helpHint(runningCommand())}\n` : ''}`);
    return usage ? 2 : 1;
  }
  const err = e as NodeJS.ErrnoException;
  const what = typeof err?.code === 'string' ? ENVIRONMENT_ERRORS[err.code] : undefined;
  if (what !== undefined && typeof err.syscall === 'string') {
    // A system error no command turned into a KilnError: still the machine's state, not a bug.
    const where = typeof err.path === 'string' ? ` on '${err.path}'` : '';
    process.stderr.write(`${errorPrefix()} ${what} (${err.syscall}${where}: ${err.code})\n  hint: fix the cause and run the command again\n`);
    return 1;
  }
  // the built CLI is minified: its source maps name kiln's own files and functions
  process.stderr.write(
    `kiln: internal error: ${err?.stack ?? String(e)}\n  hint: this is a bug in kiln; run it again with NODE_OPTIONS=--enable-source-maps for a readable stack trace to report\n`,
  );
  return 70;
}

async function main(entry: string): Promise<void> {
  setWriterEntry(entry);
  try {
    const program = await buildProgram(process.argv);
    await program.parseAsync(programArgv(program, process.argv));
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

/**
 * In a writer worker (see `interruptible`): load the command, wait for the word to go (see
 * writer-thread.ts), run the same command line and report how it ended. Nothing is posted before
 * the go: no one may be listening yet.
 */
async function workerMain({ argv }: WriterJob): Promise<void> {
  const program = buildProgram(argv).then(
    (p) => ({ p }),
    (e: unknown) => ({ e }),
  );
  // once: a listener left on the port would keep this thread from ending
  await new Promise((go) => parentPort!.once('message', go));
  let outcome: WriterOutcome;
  try {
    const built = await program;
    if ('e' in built) throw built.e;
    await built.p.parseAsync(programArgv(built.p, argv));
    outcome = { ok: true };
  } catch (e) {
    outcome = writerOutcome(e);
  }
  parentPort!.postMessage(outcome);
}

/** The CLI, run from start.ts (`entry`: the module a writer thread runs). */
export async function runCli(entry: string): Promise<void> {
  const job = writerJob();
  if (job) await workerMain(job);
  else await main(entry);
}
