import { homedir } from 'node:os';
import { join } from 'node:path';

/** kiln's cache directory when --cache-dir is not given: $XDG_CACHE_HOME/kiln, else ~/.cache/kiln. */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg !== '' ? xdg : join(homedir(), '.cache'), 'kiln');
}
