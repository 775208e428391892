import type { Command } from 'commander';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The global options every pipeline command reads (given before the command name). */
export interface GlobalOptions {
  cacheDir: string;
  projectDir: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  const opts = root.opts<{ cacheDir?: string; directory?: string }>();
  const xdg = process.env.XDG_CACHE_HOME;
  const cacheDir = opts.cacheDir ? resolve(opts.cacheDir) : join(xdg && xdg !== '' ? xdg : join(homedir(), '.cache'), 'kiln');
  return { cacheDir, projectDir: resolve(opts.directory ?? '.') };
}
