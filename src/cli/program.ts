import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { commands } from './commands/index.js';
import { applyConventions, joinProjectOptions, usageError, valueFlags } from './conventions.js';

/**
 * The kiln program: every command, with the conventions applied. Separate from main.ts (which
 * runs it) so that the completion and man page generators can read it without running a command.
 */

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
  const o = new Option('-o, --option <name=value>', 'set a project option (project.conf `options:`), as bst does: -o arch x86_64; repeatable; overrides the user configuration (projects: NAME: options:)')
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

