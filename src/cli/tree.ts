import type { Command, Option } from 'commander';

/**
 * The command tree as users see it in --help, read from the commander definitions: the one
 * source shell completion (completion.ts) and the man pages (man.ts) are generated from, so they
 * cannot drift from --help.
 */

export interface OptionNode {
  /** `-f`, or undefined. */
  short: string | undefined;
  /** `--force`, or undefined. */
  long: string | undefined;
  /** As --help prints it: `-f, --force`, `--size <size>`. */
  flags: string;
  description: string;
  /** Takes a value (`<size>` or `[level]`). */
  takesValue: boolean;
  /** The values it accepts, when commander knows them (`.choices()`). */
  choices: readonly string[];
}

export interface CommandNode {
  /** From the root: `['kiln', 'mkfs', 'ext4']`. */
  path: string[];
  name: string;
  aliases: string[];
  description: string;
  /** As --help's first line prints it after the path: `[options] <src> <out>`. */
  usage: string;
  /** The arguments, as `<src>` / `[directory]` with their descriptions. */
  arguments: { term: string; description: string; choices: readonly string[] }[];
  options: OptionNode[];
  subcommands: CommandNode[];
  /** The command itself, for anything else --help shows (its help text). */
  command: Command;
}

function optionNode(o: Option): OptionNode {
  return {
    short: o.short,
    long: o.long,
    flags: o.flags,
    description: o.description,
    takesValue: o.required || o.optional,
    choices: o.argChoices ?? [],
  };
}

/** The visible commands and options below `cmd` (help options included, hidden ones not). */
export function commandTree(cmd: Command, parentPath: string[] = []): CommandNode {
  const help = cmd.createHelp();
  const path = [...parentPath, cmd.name()];
  return {
    path,
    name: cmd.name(),
    aliases: cmd.aliases(),
    description: cmd.description(),
    usage: cmd.usage(),
    arguments: help.visibleArguments(cmd).map((a) => ({ term: help.argumentTerm(a), description: help.argumentDescription(a), choices: a.argChoices ?? [] })),
    options: help.visibleOptions(cmd).map(optionNode),
    subcommands: help.visibleCommands(cmd).map((c) => commandTree(c, path)),
    command: cmd,
  };
}

/** Every node of the tree, parents before children. */
export function treeNodes(node: CommandNode): CommandNode[] {
  return [node, ...node.subcommands.flatMap(treeNodes)];
}
