import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KilnError, type SourcePosition } from '../../errors.js';
import { parseRemotes, type RemoteSpec } from '../remote/config.js';
import { checkKeys, expectMap, expectScalar, optString, stringList } from './validate.js';
import type { Node } from './node.js';
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
 *   projects:                # per project (project.conf `name:`), as bst's buildstream.conf
 *     my-os:
 *       options:             # project option values; `-o NAME VALUE` overrides them
 *         arch: aarch64
 */

/** Option values the user configuration sets for one project (a list for a flags option), with where each is set. */
export interface UserProjectOptions {
  values: Record<string, string | string[]>;
  positions: Record<string, SourcePosition>;
}

export interface UserConfig {
  /** The file read, if any. */
  file: string | undefined;
  defaultMirror: string | undefined;
  /** `artifacts:` remote caches (absent when not configured). */
  artifacts?: RemoteSpec[];
  /** `projects: NAME: options:`, by project name (absent when not configured). */
  projects?: Map<string, UserProjectOptions>;
}

const KEYS = ['default-mirror', 'artifacts', 'projects'];

/** `projects:`: each project's `options:` (a list value is a flags option's values). */
function parseProjects(node: Node, file: string): Map<string, UserProjectOptions> {
  const out = new Map<string, UserProjectOptions>();
  for (const [name, projectNode] of expectMap(node, 'projects').entries) {
    const project = expectMap(projectNode, `projects.${name}`);
    checkKeys(project, ['options'], `projects.${name} in the user configuration ${file}`);
    const values: Record<string, string | string[]> = {};
    const positions: Record<string, SourcePosition> = {};
    const options = project.entries.get('options');
    for (const [option, v] of options ? expectMap(options, `projects.${name}.options`).entries : []) {
      const key = `projects.${name}.options.${option}`;
      values[option] = v.type === 'list' ? stringList(v, key) : expectScalar(v, key).value;
      positions[option] = v.pos;
    }
    out.set(name, { values, positions });
  }
  return out;
}

export function defaultUserConfigPath(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return join(xdg && xdg !== '' ? xdg : join(homedir(), '.config'), 'kiln.conf');
}

/** Reads the user configuration; `explicit` (from `--config`) must exist, the default may not. */
export function loadUserConfig(explicit?: string): UserConfig {
  const file = explicit ?? defaultUserConfigPath();
  if (!existsSync(file)) {
    if (explicit !== undefined)
      throw new KilnError('user-config-missing', `the configuration file ${explicit} does not exist`, 'check the path given to --config');
    return { file: undefined, defaultMirror: undefined };
  }
  const map = loadYamlFile(file, file, 'user configuration');
  checkKeys(map, KEYS, `the user configuration ${file}`);
  const artifacts = map.entries.get('artifacts');
  const projects = map.entries.get('projects');
  return {
    file,
    defaultMirror: optString(map, 'default-mirror')?.value || undefined,
    ...(artifacts ? { artifacts: parseRemotes(artifacts, file) } : {}),
    ...(projects ? { projects: parseProjects(projects, file) } : {}),
  };
}
