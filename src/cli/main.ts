#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { KilnError } from '../errors.js';
import { commands } from './commands/index.js';
import { applyConventions, helpHint, joinProjectOptions, runningCommand, USAGE_CODES, usageError, valueFlags } from './conventions.js';
import { setWriterEntry, writerJob, writerOutcome, type WriterOutcome } from './inputs.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('kiln')
    .description('Build bootable Linux disk images without root')
    .version(pkg.version, '-V, --version', 'print the version')
    .option('--cache-dir <dir>', 'artifact and source cache (default: $XDG_CACHE_HOME/kiln or ~/.cache/kiln)')
    .option('-C, --directory <dir>', 'project directory (default: the current one)')
    .option('--config <file>', 'user configuration (default: $XDG_CONFIG_HOME/kiln.conf or ~/.config/kiln.conf)')
    .option('--default-mirror <name>', 'the project mirror to fetch from first (overrides default-mirror in the user configuration)')
    .option('--remote <url>', 'use this remote cache (pull and push) instead of the configured `artifacts:` remotes')
    .addOption(projectOption())
    // global options go before the command, so a command's own --directory (artifact checkout) is its own
    .enablePositionalOptions()
    .exitOverride();
  for (const register of commands) register(program);
  applyConventions(program);
  return program;
}

/** `-o NAME VALUE`, repeatable: a project option (project.conf `options:`), as bst 1.x takes it. */
function projectOption(): Option {
  const o = new Option('-o, --option <name=value>', 'set a project option (project.conf `options:`), as bst does: -o arch x86_64; repeatable')
    .argParser((given: string, prev: Record<string, string> | undefined) => {
      const eq = given.indexOf('=');
      if (eq <= 0) throw usageError(`-o takes a project option's name and value: -o NAME VALUE (got '${given}')`, "e.g. kiln -o arch x86_64 build TARGET.bst");
      return { ...prev, [given.slice(0, eq)]: given.slice(eq + 1) };
    });
  // the user types two words (joinProjectOptions makes them one before commander parses)
  o.flags = '-o, --option <name> <value>';
  return o;
}

/** The command line as commander parses it: `-o NAME VALUE` joined into one word. */
export function programArgv(program: Command, argv: readonly string[]): string[] {
  return joinProjectOptions(argv, valueFlags(program));
}

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
    process.stderr.write(`kiln: error: ${e.describe()}\n${usage && e.hint === undefined ? `  hint: ${helpHint(runningCommand())}\n` : ''}`);
    return usage ? 2 : 1;
  }
  const err = e as NodeJS.ErrnoException;
  const what = typeof err?.code === 'string' ? ENVIRONMENT_ERRORS[err.code] : undefined;
  if (what !== undefined && typeof err.syscall === 'string') {
    // A system error no command turned into a KilnError: still the machine's state, not a bug.
    const where = typeof err.path === 'string' ? ` on '${err.path}'` : '';
    process.stderr.write(`kiln: error: ${what} (${err.syscall}${where}: ${err.code})\n  hint: fix the cause and run the command again\n`);
    return 1;
  }
  process.stderr.write(`kiln: internal error: ${err?.stack ?? String(e)}\n`);
  return 70;
}

async function main(): Promise<void> {
  setWriterEntry(import.meta.url);
  try {
    const program = buildProgram();
    await program.parseAsync(programArgv(program, process.argv));
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

/** In a writer worker (see `interruptible`): run the same command line, report how it ended. */
async function workerMain(argv: string[]): Promise<void> {
  let outcome: WriterOutcome;
  try {
    const program = buildProgram();
    await program.parseAsync(programArgv(program, argv));
    outcome = { ok: true };
  } catch (e) {
    outcome = writerOutcome(e);
  }
  parentPort!.postMessage(outcome);
}

const job = writerJob();
if (job) await workerMain(job.argv);
else await main();
