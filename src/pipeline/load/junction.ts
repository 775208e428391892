import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import type { Element, YamlValue } from '../model.js';
import type { LoadOptions } from './project.js';

/**
 * Junctions (docs/format.md#junctions): where a junction element's project is and the options it
 * is loaded with. A junction whose one source is `local` is read in place; any other needs its
 * sources staged by the caller (LoadOptions.junctionSources), as bst needs them fetched.
 */

/** The directory holding the junction's project.conf (the staged sources, then `path`). */
export function junctionProjectDirectory(junction: Element, staged: LoadOptions['junctionSources']): string {
  const only = junction.sources.length === 1 ? junction.sources[0]! : undefined;
  let sources: string | undefined;
  if (only?.kind === 'local' && only.directory === '') {
    const path = only.config.path;
    if (typeof path === 'string') sources = resolve(junction.project.directory, path);
  } else sources = staged?.(junction);
  const where = junction.positions.get('kind');
  if (sources === undefined) {
    throw new KilnError(
      'junction-fetch-needed',
      `the sources of junction ${junction.name} are not fetched${where ? ` (${formatPosition(where)})` : ''}`,
      `fetch them first: kiln fetch ${junction.name}`,
    );
  }
  const path = junction.config.path;
  const dir = join(sources, typeof path === 'string' ? path : '');
  if (!existsSync(join(dir, 'project.conf')) || !statSync(dir).isDirectory()) {
    throw new KilnError(
      'junction-invalid',
      `junction ${junction.name} leads to no project: there is no project.conf at path '${typeof path === 'string' && path !== '' ? path : '.'}' of its sources${where ? ` (${formatPosition(where)})` : ''}`,
      "set config: path: to the sources' subdirectory holding project.conf",
    );
  }
  return dir;
}

/** How the junction's project is loaded: its `config: options:` (variables expanded), the user's options for it, no -o. */
export function junctionLoadOptions(junction: Element, above: LoadOptions): LoadOptions {
  const given = junction.config.options;
  const values: Record<string, string | string[]> = {};
  const positions: Record<string, SourcePosition> = {};
  if (given !== undefined) {
    if (typeof given !== 'object' || Array.isArray(given)) {
      throw new KilnError('junction-invalid', `config: options: of junction ${junction.name} must be a mapping of option names to values`);
    }
    for (const [k, v] of Object.entries(given)) {
      values[k] = optionValue(v, junction, k);
      const pos = junction.positions.get(`config.options.${k}`);
      if (pos) positions[k] = pos;
    }
  }
  return {
    junctionOptions: { values, positions },
    maxJobs: above.maxJobs,
    onWarning: above.onWarning,
    userOptions: above.userOptions,
    junctionSources: above.junctionSources,
  };
}

function optionValue(v: YamlValue, junction: Element, name: string): string | string[] {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new KilnError('junction-invalid', `option '${name}' of junction ${junction.name} must be a string or a list of strings`);
}
