import type { Command } from 'commander';
import { registerMkfs } from './mkfs.js';

/** Every command family registers itself on the program; one module per family. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerMkfs];
