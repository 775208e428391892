/**
 * Where a command line's command word is, found before the program is built (the loader picks
 * the command's code cache by it, start.ts whether to start a writer thread): the first argument
 * that is one of `words`, so that global options before it (`-C DIR`, `--cache-dir DIR`) are
 * passed over. Once built, the program finds it exactly, knowing which options take a value
 * (program.ts). -1 when there is none.
 */
export function commandWordAt(argv: readonly string[], words: readonly string[]): number {
  for (let i = 2; i < argv.length; i++) if (words.includes(argv[i]!)) return i;
  return -1;
}
