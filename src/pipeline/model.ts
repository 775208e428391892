import type { SourcePosition } from '../errors.js';

/**
 * The contract between loading (src/pipeline/load: project.conf, .bst files, composition,
 * variables, graph) and everything that uses a loaded project (sources, cache keys, kinds,
 * sandbox, scheduler, CLI). The loader produces these; nothing downstream re-reads YAML.
 */

/** A YAML value after loading: every scalar is a string (docs/format.md#yaml-rules). */
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };
export type YamlMap = { [key: string]: YamlValue };

export interface Project {
  name: string;
  /** Absolute project directory (where project.conf is). */
  directory: string;
  /** Absolute element directory (directory + element-path). */
  elementDirectory: string;
  aliases: Record<string, string>;
  mirrors: { name: string; aliases: Record<string, string[]> }[];
  refStorage: 'inline' | 'project.refs';
  fatalWarnings: string[];
  /** Plugin kinds declared by pip/local origins, for error messages ("declared by origin pip:PKG"). */
  declaredPlugins: Map<string, string>;
  /** Absolute path of project.refs (used when refStorage is 'project.refs'). */
  refsFile: string;
  /** Project option values after command-line overrides (bools 'True'/'False', lists comma-joined). */
  options: Record<string, string>;
  /** `shell` settings for `kiln shell` (docs/format.md#kiln-shell). */
  shell: { command: string[]; environment: Record<string, string>; hostFiles: YamlValue[] };
  /** 2.x `defaults: targets`, element names; empty when not given. */
  defaultTargets: string[];
  /** `artifacts:` remote caches (after the user's own; see src/pipeline/remote). */
  artifactRemotes?: { url: string; push: boolean; from: string }[];
  /** For a project loaded through a junction: that junction element (in the project above). */
  junction?: Element;
}

export type DepType = 'build' | 'runtime' | 'all';

export interface Dependency {
  element: Element;
  type: DepType;
  strict: boolean;
  /** 2.x per-dependency config (script/x86image `location`), variables expanded. */
  config?: YamlMap;
}

export interface SourceDecl {
  kind: string;
  /** Staging subdirectory inside the element's source area ('' = top), leading '/' stripped. */
  directory: string;
  /** Kind-specific keys, variables NOT expanded (sources are not substituted in BuildStream). */
  config: YamlMap;
  /** The ref from the .bst file or project.refs, if any. */
  ref?: YamlValue;
  /** Index among the element's sources (for track write-back). */
  index: number;
  position: SourcePosition;
}

export interface Element {
  /** Name relative to element-path, e.g. 'contents/musl.bst'. */
  name: string;
  /** Absolute path of the .bst file. */
  file: string;
  project: Project;
  kind: string;
  description: string;
  /** Fully resolved variables (defaults < project < kind defaults < project kind overrides < element). */
  variables: Record<string, string>;
  /** Environment after composition, variables expanded. */
  environment: Record<string, string>;
  environmentNocache: string[];
  /** Kind config after composition with the kind's defaults, variables expanded. */
  config: YamlMap;
  /**
   * `public` data; the `bst` domain (split-rules, integration-commands, overlap-whitelist) has its
   * variables expanded, other domains are free-form and kept as written.
   */
  public: YamlMap;
  sandbox: { buildUid: number; buildGid: number; buildOs?: string; buildArch?: string };
  sources: SourceDecl[];
  /** Direct dependencies in the deterministic order of docs/format.md#dependency-order. */
  dependencies: Dependency[];
  /** Where each key was written, for error messages: dotted key path → position. */
  positions: Map<string, SourcePosition>;
}

/** The staging scopes of docs/format.md#scopes. */
export type Scope = 'run' | 'build' | 'all';
