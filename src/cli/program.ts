import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { commandFamilies } from './commands/index.js';
import { applyConventions, joinProjectOptions, usageError, valueFlags } from './conventions.js';

/**
 * The kiln program with the conventions applied: every command, or for one command line only the
 * commands it can run. Separate from run.ts (which runs it) so that the completion and man page
 * generators can read it without running a command.
 */

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * The program. Given a command line, only the command family its command word names is loaded
 * (a quicker start); without one, or for a word no family has (help, a typo, completion), every
 * command is there, except for a bare `--version`.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
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
  const joined = argv && programArgv(program, argv);
  const word = joined && commandWord(joined, valueFlags(program));
  const named = commandFamilies.filter((f) => word !== undefined && f.words.includes(word));
  // `kiln --version` alone needs no command (loading them all is most of its time)
  const versionOnly =
    joined !== undefined && word === undefined && joined.some((a) => a === '-V' || a === '--version') && !joined.some((a) => a === '-h' || a === '--help');
  const families = versionOnly ? [] : named.length > 0 ? named : commandFamilies;
  for (const load of families.map((f) => f.load)) (await load())(program);
  applyConventions(program);
  return program;
}

/** The first word of a joined command line that is neither a global option nor an option's value. */
function commandWord(joined: readonly string[], withValue: ReadonlySet<string>): string | undefined {
  for (let i = 2; i < joined.length; i++) {
    const a = joined[i]!;
    if (a === '--') return joined[i + 1];
    if (!a.startsWith('-')) return a;
    if (withValue.has(a)) i++;
  }
  return undefined;
}

/** `-o NAME VALUE`, repeatable: a project option (project.conf `options:`), as bst 1.x takes it. */
function projectOption(): Option {
  const o = new Option(
    '-o, --option <name=value>',
    'set a project option (project.conf `options:`), as bst does: -o arch x86_64; repeatable; overrides the user configuration (projects: NAME: options:)',
  ).argParser((given: string, prev: Record<string, string> | undefined) => {
    const eq = given.indexOf('=');
    if (eq <= 0) throw usageError(`-o takes a project option's name and value: -o NAME VALUE (got '${given}')`, 'e.g. kiln -o arch x86_64 build TARGET.bst');
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
