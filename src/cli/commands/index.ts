import type { Command } from 'commander';

/** Every command registers itself on the program; one module per command family. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
