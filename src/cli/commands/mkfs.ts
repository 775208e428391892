import { Command } from 'commander';
import { addMkfsSwap } from './mkfs-swap.js';
import { addMkfsFat } from './mkfs-fat.js';
import { addMkfsExt4 } from './mkfs-ext4.js';

/** `kiln mkfs TYPE ...`: one subcommand module per filesystem type adds itself here. */
export const mkfsSubcommands: ((mkfs: Command) => void)[] = [];
mkfsSubcommands.push(addMkfsSwap);
mkfsSubcommands.push(addMkfsFat);
mkfsSubcommands.push(addMkfsExt4);

export function registerMkfs(program: Command): void {
  const mkfs = program.command('mkfs').description('write a filesystem image from a directory or tar archive');
  for (const add of mkfsSubcommands) add(mkfs);
}
