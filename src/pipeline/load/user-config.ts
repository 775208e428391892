import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { parseRemotes, type RemoteSpec } from '../remote/config.js';
import { checkKeys, optString } from './validate.js';
import { loadYamlFile } from './yaml.js';

/**
 * The user configuration (BuildStream's buildstream.conf, for kiln): `$XDG_CONFIG_HOME/kiln.conf`,
 * else `~/.config/kiln.conf`, or the file named by `--config`. Settings of one user or machine
 * that do not belong in a project, e.g. which of a project's mirrors is closest.
 *
 *   default-mirror: team     # the mirror (project.conf `mirrors:`) fetches try first
 *   artifacts:               # remote caches, before the project's (src/pipeline/remote)
 *   - url: https://cache.example.com/kiln/
 *     push: true
 */

export interface UserConfig {
  /** The file read, if any. */
  file: string | undefined;
  defaultMirror: string | undefined;
  /** `artifacts:` remote caches (absent when not configured). */
  artifacts?: RemoteSpec[];
}

const KEYS = ['default-mirror', 'artifacts'];

export function defaultUserConfigPath(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return join(xdg && xdg !== '' ? xdg : join(homedir(), '.config'), 'kiln.conf');
}

/** Reads the user configuration; `explicit` (from `--config`) must exist, the default may not. */
export function loadUserConfig(explicit?: string): UserConfig {
  const file = explicit ?? defaultUserConfigPath();
  if (!existsSync(file)) {
    if (explicit !== undefined) throw new KilnError('user-config-missing', `the configuration file ${explicit} does not exist`, 'check the path given to --config');
    return { file: undefined, defaultMirror: undefined };
  }
  const map = loadYamlFile(file, file, 'user configuration');
  checkKeys(map, KEYS, `the user configuration ${file}`);
  const artifacts = map.entries.get('artifacts');
  return { file, defaultMirror: optString(map, 'default-mirror')?.value || undefined, ...(artifacts ? { artifacts: parseRemotes(artifacts, file) } : {}) };
}
