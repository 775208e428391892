import type { Command } from 'commander';

/** Every command family registers itself on the program; one module per family. */
export type RegisterCommand = (program: Command) => void;

/**
 * The command families in the order help lists them, each with the top-level command words it
 * registers, loaded on use: a command line needs only its own family's module (and what that
 * imports), so `kiln build` does not load the writers.
 */
export const commandFamilies: { words: readonly string[]; load: () => Promise<RegisterCommand> }[] = [
  { words: ['mkfs'], load: async () => (await import('./mkfs.js')).registerMkfs },
  { words: ['mkinitramfs'], load: async () => (await import('./mkinitramfs.js')).registerMkinitramfs },
  { words: ['mkimage'], load: async () => (await import('./mkimage.js')).registerMkimage },
  { words: ['mkuki'], load: async () => (await import('./mkuki.js')).registerMkuki },
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
