import { Command } from 'commander';

/** `kiln mkfs TYPE ...`: one subcommand module per filesystem type adds itself here. */
export const mkfsSubcommands: ((mkfs: Command) => void)[] = [];

export function registerMkfs(program: Command): void {
  const mkfs = program.command('mkfs').description('write a filesystem image from a directory or tar archive');
  for (const add of mkfsSubcommands) add(mkfs);
}
