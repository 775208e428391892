import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/**
 * The `yaml` package (about 70 modules), required on first use: loading a project of plain
 * block-style files never needs it (fast-yaml.ts reads those), only other YAML and ref
 * write-back do, so that a no-op build does not pay for loading it.
 */
export function yamlPackage(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return loaded;
}
