import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { RemoteSpec, UserProjectOptions } from '../pipeline/pipeline.js';
import { defaultCacheDir } from './cache-home.js';

/** The global options every pipeline command reads (given before the command name). */
export interface GlobalOptions {
  cacheDir: string;
  projectDir: string;
  /** Settings for openPipeline from the user configuration and the global options. */
  pipeline: { defaultMirror?: string; options?: Record<string, string>; userOptions?: ReadonlyMap<string, UserProjectOptions> };
  /** Remote caches: `--remote URL` (replaces the configured ones) and the user configuration's `artifacts:`. */
  remotes: { cli?: string; user: RemoteSpec[] };
}

interface RootOptions {
  cacheDir?: string;
  directory?: string;
  config?: string;
  defaultMirror?: string;
  remote?: string;
  /** `-o NAME VALUE`, joined by joinProjectOptions and collected by name. */
  option?: Record<string, string>;
}

export async function globalOptions(cmd: Command): Promise<GlobalOptions> {
  let root = cmd;
  while (root.parent) root = root.parent;
  const opts = root.opts<RootOptions>();
  const cacheDir = opts.cacheDir ? resolve(opts.cacheDir) : defaultCacheDir();
  // loaded on use: commands that need no project do not pay for the pipeline
  const { loadUserConfig } = await import('../pipeline/pipeline.js');
  const user = loadUserConfig(opts.config);
  const defaultMirror = opts.defaultMirror ?? user.defaultMirror;
  return {
    cacheDir,
    projectDir: resolve(opts.directory ?? '.'),
    pipeline: {
      ...(defaultMirror !== undefined ? { defaultMirror } : {}),
      ...(opts.option !== undefined ? { options: opts.option } : {}),
      ...(user.projects ? { userOptions: user.projects } : {}),
    },
    remotes: { ...(opts.remote !== undefined ? { cli: opts.remote } : {}), user: user.artifacts ?? [] },
  };
}
