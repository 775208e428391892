import type { Command } from 'commander';
import { KilnError } from '../errors.js';
import { errorPrefix } from './colour.js';

/**
 * The conventions every kiln command follows, applied once the command tree is built:
 * - commander's own errors (unknown option, missing argument, bad choice, too many arguments)
 *   print `kiln: error: …` and a hint naming the command's help, never the whole help; exit 2;
 * - a global option given after the command gets a hint saying where it goes;
 * - `kiln help A B` shows the help of `kiln A B` (commander's help command goes one level only).
 */

/** KilnError codes that mean "the command line is wrong" (exit 2); any other KilnError exits 1. */
export const USAGE_CODES: ReadonlySet<string> = new Set(['bad-option', 'bad-args', 'bad-usage']);

/** `kiln mkfs ext4` for the mkfs ext4 command. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every command below (and including) `cmd`. */
export function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap((c) => allCommands(c))];
}

/** The command whose action runs (set before the action), for hints in usage errors. */
let running: Command | undefined;

export function runningCommand(): Command | undefined {
  return running;
}

/** The hint for a usage error of `cmd`. */
export function helpHint(cmd: Command | undefined): string {
  return `see '${cmd ? commandPath(cmd) : 'kiln'} --help'`;
}

/** A usage error (exit 2), with the command's help as the default hint. */
export function usageError(message: string, hint?: string): KilnError {
  return new KilnError('bad-usage', message, hint ?? helpHint(running));
}

/**
 * `-o NAME VALUE` (bst 1.x's project options) takes two words, which commander cannot parse:
 * before parsing, each `-o NAME VALUE` among the global options (before the command name) becomes
 * `-o NAME=VALUE`. `-o NAME=VALUE` is accepted as is. Words after the command are left alone.
 */
export function joinProjectOptions(argv: readonly string[], globalsWithValue: ReadonlySet<string>): string[] {
  const out = argv.slice(0, 2);
  let i = 2;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-')) break;
    if ((a === '-o' || a === '--option') && i + 2 < argv.length && !argv[i + 1]!.includes('=')) {
      out.push(a, `${argv[i + 1]!}=${argv[i + 2]!}`);
      i += 3;
      continue;
    }
    out.push(a);
    i++;
    if (globalsWithValue.has(a) && i < argv.length) out.push(argv[i++]!);
  }
  return [...out, ...argv.slice(i)];
}

/** The root command's options that take a value (`-C DIR`, `--cache-dir DIR`, …), by flag. */
export function valueFlags(program: Command): Set<string> {
  const out = new Set<string>();
  for (const o of program.options) {
    if (!o.required && !o.optional) continue;
    if (o.short) out.add(o.short);
    if (o.long) out.add(o.long);
  }
  return out;
}

/** Global option flags (`-C`, `--directory`, …) of the root command. */
function globalFlags(program: Command): Map<string, string> {
  const flags = new Map<string, string>();
  for (const o of program.options) {
    if (o.short) flags.set(o.short, o.flags);
    if (o.long) flags.set(o.long, o.flags);
  }
  return flags;
}

export function applyConventions(program: Command): void {
  const globals = globalFlags(program);
  program.hook('preAction', (_root, action) => {
    running = action;
  });
  // `kiln help mkfs ext4`: a real command walking the whole path, instead of commander's one level
  program.helpCommand(false);
  program
    .command('help')
    .description('show the help of a command, e.g. kiln help mkfs ext4')
    .argument('[command...]', 'the command')
    .action((path: string[]) => {
      let cmd: Command = program;
      for (const name of path) {
        const sub = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!sub) throw usageError(`'${[commandPath(cmd), name].join(' ')}' is not a command`, `see '${commandPath(cmd)} --help'`);
        cmd = sub;
      }
      cmd.outputHelp();
    });
  for (const cmd of allCommands(program)) {
    cmd.showHelpAfterError(false);
    cmd.configureOutput({
      outputError: (text, write) => {
        const message = text
          .replace(/^error: /, '')
          .trimEnd()
          .replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)');
        let hint = helpHint(cmd);
        const unknown = /^unknown option '([^']+)'/.exec(message);
        const flag = unknown?.[1]?.replace(/=.*$/, '');
        if (flag !== undefined && cmd !== program && globals.has(flag)) {
          hint = `'${globals.get(flag)}' is a global option: give it before the command, e.g. kiln ${flag} … ${commandPath(cmd).slice('kiln '.length)} …`;
        }
        write(`${errorPrefix()} ${message}\n  hint: ${hint}\n`);
      },
    });
  }
}
