#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { KilnError } from '../errors.js';
import { commands } from './commands/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('kiln')
    .description('Build bootable Linux disk images without root')
    .version(pkg.version, '-V, --version', 'print the version')
    .option('--cache-dir <dir>', 'artifact and source cache (default: $XDG_CACHE_HOME/kiln or ~/.cache/kiln)')
    .option('-C, --directory <dir>', 'project directory (default: the current one)')
    .option('--config <file>', 'user configuration (default: $XDG_CONFIG_HOME/kiln.conf or ~/.config/kiln.conf)')
    .option('--default-mirror <name>', 'the project mirror to fetch from first (overrides default-mirror in the user configuration)')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Prints an error the way users see it and returns the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (e instanceof KilnError) {
    process.stderr.write(`kiln: error: ${e.describe()}\n`);
    return 1;
  }
  const err = e as Error;
  process.stderr.write(`kiln: internal error: ${err?.stack ?? String(e)}\n`);
  return 70;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

await main();
