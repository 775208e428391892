import type { Command } from 'commander';

/** Every command family registers itself on the program; one module per family. */
export type RegisterCommand = (program: Command) => void;

/**
 * The command families in the order help lists them, each with the top-level command words it
 * registers, loaded on use: a command line needs only its own family's module (and what that
 * imports), so `kiln build` does not load the writers.
 */
export interface CommandFamily {
  words: readonly string[];
  load: () => Promise<RegisterCommand>;
  /**
   * Whether the command a line names (after the word, its subcommand if any) writes in a writer
   * thread (`interruptible`): start.ts starts that thread before it loads the rest.
   */
  writes?: (subcommand: string | undefined) => boolean;
}

const always = (): boolean => true;

export const commandFamilies: CommandFamily[] = [
  { words: ['mkfs'], load: async () => (await import('./mkfs.js')).registerMkfs, writes: (sub) => sub === 'ext4' || sub === 'fat' },
  { words: ['mkinitramfs'], load: async () => (await import('./mkinitramfs.js')).registerMkinitramfs, writes: always },
  { words: ['mkimage'], load: async () => (await import('./mkimage.js')).registerMkimage, writes: always },
  { words: ['mkuki'], load: async () => (await import('./mkuki.js')).registerMkuki, writes: always },
  { words: ['image'], load: async () => (await import('./image.js')).registerImage },
  { words: ['show'], load: async () => (await import('./show.js')).registerShow },
  { words: ['build'], load: async () => (await import('./build.js')).registerBuild },
  { words: ['shell'], load: async () => (await import('./shell.js')).registerShell },
  { words: ['track'], load: async () => (await import('./track.js')).registerTrack },
  { words: ['fetch'], load: async () => (await import('./fetch.js')).registerFetch },
  { words: ['checkout', 'artifact'], load: async () => (await import('./checkout.js')).registerCheckout },
  { words: ['artifact', 'source'], load: async () => (await import('./remote.js')).registerRemote },
  // completion walks the whole program: it is never loaded alone (see buildProgram)
  { words: [], load: async () => (await import('./completion.js')).registerCompletion },
];
