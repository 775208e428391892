import { AUTOTOOLS_YAML } from './autotools.js';
import { CMAKE_YAML } from './cmake.js';
import { COMPOSE_YAML } from './compose.js';
import { FILTER_YAML } from './filter.js';
import { IMPORT_YAML } from './import.js';
import { MAKE_YAML } from './make.js';
import { MANUAL_YAML } from './manual.js';
import { SCRIPT_YAML } from './script.js';
import { STACK_YAML } from './stack.js';
import { X86IMAGE_YAML } from './x86image.js';

/**
 * The built-in kinds and each element kind's default YAML (BuildStream's `<kind>.yaml`: variables,
 * environment, environment-nocache, config, public), composited under project.conf's
 * `elements.<kind>` overrides and then under the element (docs/format.md#composition-order).
 */

/** Element kinds usable without a plugin declaration (BuildStream 1.x core). */
export const CORE_ELEMENT_KINDS = ['import', 'stack', 'compose', 'script', 'manual', 'autotools', 'make', 'cmake', 'filter'] as const;
/** Element kinds BuildStream gets from plugin packages, implemented natively by kiln. */
export const PLUGIN_ELEMENT_KINDS = ['x86image'] as const;
export const BUILTIN_ELEMENT_KINDS: readonly string[] = [...CORE_ELEMENT_KINDS, ...PLUGIN_ELEMENT_KINDS];

/** Source kinds usable without a declaration: 1.x core plus kiln's Debian package sources. */
export const CORE_SOURCE_KINDS = ['local', 'tar', 'remote', 'patch', 'git', 'deb', 'debsrc'] as const;
/** Source kinds that come from plugin packages in BuildStream; none is implemented yet. */
export const PLUGIN_SOURCE_KINDS: readonly string[] = [];
export const BUILTIN_SOURCE_KINDS: readonly string[] = [...CORE_SOURCE_KINDS, ...PLUGIN_SOURCE_KINDS];

const DEFAULTS: Record<string, string> = {
  manual: MANUAL_YAML,
  autotools: AUTOTOOLS_YAML,
  make: MAKE_YAML,
  cmake: CMAKE_YAML,
  import: IMPORT_YAML,
  stack: STACK_YAML,
  compose: COMPOSE_YAML,
  script: SCRIPT_YAML,
  filter: FILTER_YAML,
  x86image: X86IMAGE_YAML,
};

const BUILD_COMMANDS = ['configure-commands', 'build-commands', 'install-commands', 'strip-commands'];

/** The config keys each kind accepts (unknown ones are an error, as in 1.x). */
const CONFIG_KEYS: Record<string, readonly string[]> = {
  manual: BUILD_COMMANDS,
  autotools: BUILD_COMMANDS,
  make: BUILD_COMMANDS,
  cmake: BUILD_COMMANDS,
  import: ['source', 'target'],
  stack: [],
  compose: ['integrate', 'include', 'exclude', 'include-orphans'],
  script: ['commands', 'root-read-only', 'layout'],
  filter: ['include', 'exclude', 'include-orphans', 'pass-integration'],
  x86image: ['base', 'input', 'filesystem-tree-setup-commands', 'filesystem-image-creation-commands', 'partition-commands', 'final-commands'],
};

/** The default YAML text of an element kind; throws for a kind that is not built in. */
export function kindDefaults(kind: string): string {
  const text = DEFAULTS[kind];
  if (text === undefined) throw new Error(`no defaults for element kind '${kind}'`);
  return text;
}

/** The config keys an element kind accepts. */
export function kindConfigKeys(kind: string): readonly string[] {
  return CONFIG_KEYS[kind] ?? [];
}

/** The display name of a kind's defaults in error positions. */
export function kindDefaultsFile(kind: string): string {
  return `<${kind} defaults>`;
}
