import { isMainThread } from 'node:worker_threads';
import { setCheckpoint } from './checkpoint.js';
import { startEarlyWriter } from './writer-thread.js';

/**
 * Runs the CLI. `entry` is the module a writer thread loads to run the command line again
 * (main.ts from source, the bin of the built package). A writer command's thread starts
 * loading first, beside this thread's loading of the rest of the CLI (writer-thread.ts).
 */
export async function start(entry: string, checkpoint?: () => void): Promise<void> {
  if (checkpoint) setCheckpoint(checkpoint);
  if (isMainThread) startEarlyWriter(entry, process.argv);
  const { runCli } = await import('./run.js');
  await runCli(entry);
}
