import { readdirSync, readFileSync } from 'node:fs';

/**
 * Kills sandbox processes that still use a dead session's scratch directory.
 *
 * bwrap arms `--die-with-parent` a moment after it forks; a kill -9 of kiln inside that moment
 * leaves the sandbox running with nobody to stop it. Its command line names the scratch
 * directory (every bind source lies under it), which is how it is found here, before that
 * directory is removed. Returns the pids signalled.
 */
export function killOrphanedSandboxes(scratchDir: string): number[] {
  const killed: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return killed; // no procfs: nothing to find
  }
  const needle = `\0${scratchDir}/`;
  for (const pid of pids) {
    let cmdline: string;
    try {
      cmdline = `\0${readFileSync(`/proc/${pid}/cmdline`, 'latin1')}`;
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    if (!cmdline.includes(needle)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed.push(Number(pid));
    } catch {
      // another user's process or already gone: nothing this session can do
    }
  }
  return killed;
}
