/**
 * The checkpoint of a command whose later work varies from run to run: `build`, once its plan is
 * made and printed, before anything is pulled or built. The built CLI writes its code cache there
 * (code-cache.ts), so that the cache holds the code every run of the command compiles and not
 * the code one run's work needed: a cache read back costs in proportion to its size, and most
 * runs of `build` after the first build little or nothing.
 */

let reached: () => void = () => {};

/** What reaching the checkpoint does (start.ts: the loader's writing of the code cache). */
export function setCheckpoint(action: () => void): void {
  reached = action;
}

/** The command has done what all its runs do; called once. */
export function checkpoint(): void {
  const action = reached;
  reached = () => {};
  action();
}
