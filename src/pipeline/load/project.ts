import { existsSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import type { Element, Project, YamlValue } from '../model.js';
import { parseRemotes } from '../remote/config.js';
import { checkNoDirectives, composite } from './composite.js';
import { resolveConditionals, resolveIncludes, type JunctionProject } from './directives.js';
import { emptyMap, list, mapNode, toPlain, typeName, type ListNode, type MapNode, type Node, type ScalarNode } from './node.js';
import { loadOptions, optionVariables, type ProjectOption } from './options.js';
import { PROJECT_DEFAULTS_FILE, PROJECT_DEFAULTS_YAML } from './project-defaults.js';
import type { UserProjectOptions } from './user-config.js';
import {
  checkKeys,
  expectList,
  expectMap,
  expectScalar,
  optList,
  optMap,
  optString,
  parseBool,
  parseInteger,
  requireString,
  stringList,
  stringMap,
} from './validate.js';
import { expandString, PROTECTED_VARIABLES } from './variables.js';
import { loadYamlFile, parseYaml } from './yaml.js';

/**
 * project.conf (docs/format.md#project-configuration): the builtin defaults with project.conf composited on top, every key
 * validated, plugins mapped to kiln's built-in kinds, and project.refs read when refs live there.
 */

export const PROJECT_KEYS = [
  'name',
  'element-path',
  'format-version',
  'min-version',
  'aliases',
  'mirrors',
  'options',
  'variables',
  'environment',
  'environment-nocache',
  'split-rules',
  'sandbox',
  'elements',
  'sources',
  'plugins',
  'ref-storage',
  'fatal-warnings',
  'fail-on-overlap',
  'shell',
  'artifacts',
  'defaults',
];

/** The newest format version BuildStream ever declared (before 2.x replaced it with min-version). */
export const SUPPORTED_FORMAT_VERSION = 23;

export const ELEMENT_OVERRIDE_KEYS = ['variables', 'environment', 'environment-nocache', 'config', 'public', 'sandbox'];
export const SANDBOX_KEYS = ['build-uid', 'build-gid', 'build-os', 'build-arch'];

export interface LoadOptions {
  /** Project option values (`-o NAME VALUE`). */
  options?: Record<string, string>;
  /** Option values of the user configuration (`projects: NAME: options:`), by project name; `options` overrides them. */
  userOptions?: ReadonlyMap<string, UserProjectOptions>;
  /** The `max-jobs` variable; default min(CPU count, 8). */
  maxJobs?: number;
  /** Called for each warning (ignored inline refs, ignored `artifacts`); they are also collected. */
  onWarning?: (message: string) => void;
  /** The mirror fetches try first (user config `default-mirror`, `--default-mirror`). */
  defaultMirror?: string;
  /** Option values the junction that loads this project sets (its `config: options:`), with where each is set. */
  junctionOptions?: { values: Record<string, string | string[]>; positions: Record<string, SourcePosition> };
  /**
   * Includes through a junction in project.conf: given the configuration of the first pass
   * (without them), the sub-projects of its junctions. The loader (loadProject) gives it.
   */
  junctionIncludes?: (firstPass: ProjectConfig) => (name: string, pos: SourcePosition) => JunctionProject;
  /**
   * The directory where a junction's sources are staged, or undefined if they are not available
   * (not fetched). Without it only junctions whose one source is `local` can be followed.
   */
  junctionSources?: (junction: Element) => string | undefined;
}

/** Everything the element loader needs from the project, with provenance kept. */
export interface ProjectConfig {
  project: Project;
  optionValues: ReadonlyMap<string, ProjectOption>;
  /** Variables after builtin defaults ← project.conf (plus option variables), not yet resolved. */
  variables: MapNode;
  environment: MapNode;
  environmentNocache: ListNode | undefined;
  splitRules: MapNode;
  sandbox: MapNode;
  /** `elements: <kind>: {...}` overrides. */
  elementOverrides: ReadonlyMap<string, MapNode>;
  /** `sources: <kind>: {config: ...}` overrides. */
  sourceOverrides: ReadonlyMap<string, MapNode>;
  /** project.refs contents for this project: element name → one entry per source. */
  refs: ReadonlyMap<string, ListNode>;
  maxJobs: number;
  warnings: string[];
  warn(message: string): void;
  /** Shared cache of parsed include files. */
  includeCache: Map<string, MapNode>;
  /** Sub-projects of this project's junctions, for `junction.bst:file.yml` includes (the loader sets it). */
  junctionInclude?: (name: string, pos: SourcePosition) => JunctionProject;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Finds the directory holding project.conf, searching upwards from `start`. */
export function findProjectDirectory(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'project.conf'))) return dir;
    const up = dirname(dir);
    if (up === dir) {
      throw new KilnError('project-missing', `no project.conf in ${resolve(start)} or any directory above it`, 'run kiln inside a project or pass -C DIR');
    }
    dir = up;
  }
}

function parsePlugins(node: ListNode | undefined, declared: Map<string, string>): void {
  // each kind may be listed once over all entries (core ones too), as bst 1.x checks
  const listed = new Map<string, ScalarNode>();
  for (const [i, itemNode] of (node?.items ?? []).entries()) {
    const item = expectMap(itemNode, `plugins[${i}]`);
    checkKeys(item, ['origin', 'package-name', 'path', 'elements', 'sources', 'junction'], 'a plugins entry');
    const origin = requireString(item, 'origin', `plugins[${i}]`);
    if (origin.value === 'junction') {
      throw new KilnError(
        'junction-unsupported',
        `plugins from junctions are not supported (${formatPosition(origin.pos)})`,
        'kiln loads a single project; copy the elements you need into it',
      );
    }
    if (!['core', 'local', 'pip'].includes(origin.value)) {
      throw new KilnError('plugin-origin', `unknown plugin origin '${origin.value}' in ${formatPosition(origin.pos)}; use core, local or pip`);
    }
    const label =
      origin.value === 'pip'
        ? `pip:${requireString(item, 'package-name', `a pip plugins entry`).value}`
        : origin.value === 'local'
          ? `local:${requireString(item, 'path', `a local plugins entry`).value}`
          : 'core';
    for (const group of ['elements', 'sources']) {
      const g = item.entries.get(group);
      if (!g) continue;
      const kinds: ScalarNode[] = [];
      if (g.type === 'map') {
        // 1.x: kind → minimum plugin version
        for (const [kind, version] of g.entries) {
          parseInteger(expectScalar(version, `plugins.${group}.${kind}`).value, version.pos, `plugins.${group}.${kind}`);
          kinds.push({ type: 'scalar', value: kind, pos: g.keyPos.get(kind)! });
        }
      } else for (const k of expectList(g, `plugins.${group}`).items) kinds.push(expectScalar(k, `plugins.${group}[]`));
      for (const k of kinds) {
        const first = listed.get(`${group}:${k.value}`);
        if (first)
          throw new KilnError(
            'plugin-duplicate',
            `${group === 'elements' ? 'element' : 'source'} kind '${k.value}' is listed twice under plugins: in ${formatPosition(first.pos)} and ${formatPosition(k.pos)}`,
            'list each kind under one plugins entry only',
          );
        listed.set(`${group}:${k.value}`, k);
      }
      if (origin.value !== 'core') for (const k of kinds) declared.set(k.value, label);
    }
  }
}

function parseMirrors(node: ListNode | undefined): Project['mirrors'] {
  return (node?.items ?? []).map((itemNode, i) => {
    const item = expectMap(itemNode, `mirrors[${i}]`);
    checkKeys(item, ['name', 'aliases'], 'a mirror');
    const name = requireString(item, 'name', `mirrors[${i}]`).value;
    const aliases: Record<string, string[]> = {};
    for (const [alias, urls] of expectMap(item.entries.get('aliases') ?? emptyMap(item.pos), `mirrors[${i}].aliases`).entries) {
      aliases[alias] = stringList(urls, `mirrors.${name}.aliases.${alias}`);
    }
    return { name, aliases };
  });
}

function parseOverrides(node: MapNode | undefined, keys: readonly string[], what: string): Map<string, MapNode> {
  const out = new Map<string, MapNode>();
  for (const [kind, v] of node?.entries ?? []) {
    const m = expectMap(v, `${what}.${kind}`);
    checkKeys(m, keys, `project.conf ${what}.${kind}`);
    out.set(kind, m);
  }
  return out;
}

/** `sources: <kind>:`: bst 1.x reads only `config` there and ignores the rest; kiln says so. */
function parseSourceOverrides(node: MapNode | undefined, warn: (m: string) => void): Map<string, MapNode> {
  const out = new Map<string, MapNode>();
  for (const [kind, v] of node?.entries ?? []) {
    const m = expectMap(v, `sources.${kind}`);
    for (const key of m.entries.keys())
      if (key !== 'config') warn(`${formatPosition(m.keyPos.get(key)!)}: sources.${kind}.${key} is ignored: only config applies to sources`);
    out.set(kind, m);
  }
  return out;
}

function checkSandbox(node: MapNode, where: string): void {
  checkKeys(node, SANDBOX_KEYS, where);
  for (const key of ['build-uid', 'build-gid']) {
    const v = optString(node, key, `sandbox.${key}`);
    if (v) parseInteger(v.value, v.pos, `sandbox.${key}`);
  }
}

export function checkVariablesMap(node: MapNode, where: string): void {
  for (const [k, v] of node.entries) {
    if (PROTECTED_VARIABLES.includes(k)) {
      throw new KilnError(
        'variable-protected',
        `variable '${k}' is read-only and cannot be redefined (${formatPosition(node.keyPos.get(k)!)}, ${where})`,
        'remove it: kiln computes it',
      );
    }
    if (v.type !== 'scalar') {
      throw new KilnError('wrong-type', `variable '${k}' in ${formatPosition(v.pos)} must be a string, not ${typeName(v)}`);
    }
  }
}

function readProjectRefs(file: string, projectName: string, options: ReadonlyMap<string, ProjectOption>): Map<string, ListNode> {
  const out = new Map<string, ListNode>();
  if (!existsSync(file)) return out;
  // (?) conditionals on the project's options, as in project.conf
  const root = resolveConditionals(loadYamlFile(file, 'project.refs'), options);
  checkNoDirectives(root, '');
  checkKeys(root, ['projects'], 'project.refs');
  const projects = optMap(root, 'projects');
  const mine = projects ? optMap(projects, projectName, `projects.${projectName}`) : undefined;
  for (const [element, refs] of mine?.entries ?? []) {
    const l = expectList(refs, `projects.${projectName}.${element}`);
    for (const item of l.items) expectMap(item, `projects.${projectName}.${element}[]`);
    out.set(element, l);
  }
  return out;
}

export function loadProjectConfig(directory: string, opts: LoadOptions = {}): ProjectConfig {
  const dir = resolve(directory);
  const confPath = join(dir, 'project.conf');
  if (!existsSync(confPath)) {
    throw new KilnError('project-missing', `no project.conf in ${dir}`, 'create project.conf with at least `name:` or pass -C with the project directory');
  }
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  const raw = loadYamlFile(confPath, 'project.conf');
  // element-path from project.conf itself: an element-mask option's values are the files under it
  const epNode = optString(raw, 'element-path');
  const elementDirectory = resolve(dir, epNode?.value || '.');
  const relEp = relative(dir, elementDirectory);
  if (relEp === '..' || relEp.startsWith(`..${sep}`)) {
    throw new KilnError('element-path', `element-path '${epNode!.value}' (${formatPosition(epNode!.pos)}) leaves the project directory`);
  }
  if (!existsSync(elementDirectory) || !statSync(elementDirectory).isDirectory()) {
    throw new KilnError(
      'element-path',
      `element-path '${epNode?.value ?? '.'}' ${epNode ? `(${formatPosition(epNode.pos)}) ` : ''}is not a directory in ${dir}`,
      'create it or fix element-path',
    );
  }
  // Includes first: an include may declare the options that (?) conditionals anywhere test. An
  // include through a junction needs the junction, read with this first pass's configuration.
  const includeCache = new Map<string, MapNode>();
  const firstPass = resolveIncludes(raw, { projectDir: dir, cache: includeCache });
  if (!hasIncludes(firstPass)) return configFrom(firstPass);
  const junction = opts.junctionIncludes?.(configFrom(withoutIncludes(firstPass)));
  if (!junction)
    throw new KilnError(
      'include-junction',
      `project.conf includes a file through a junction (${formatPosition(firstPass.pos)}), which only a whole project load can follow`,
      'load the project with loadProject',
    );
  return configFrom(resolveIncludes(raw, { projectDir: dir, cache: includeCache, junction }));

  function configFrom(included: MapNode): ProjectConfig {
    const optionsNode = included.entries.get('options');
    const rawName = raw.entries.get('name');
    const fromUser = rawName?.type === 'scalar' ? opts.userOptions?.get(rawName.value) : undefined;
    const cli = opts.options ?? {};
    // a junction's options, then the user configuration's, then -o (the top project's only)
    const positions = { ...opts.junctionOptions?.positions, ...fromUser?.positions };
    const setIn = Object.fromEntries(Object.entries(positions).filter(([k]) => !Object.hasOwn(cli, k)));
    const optionValues = loadOptions(
      optionsNode ? expectMap(optionsNode, 'options') : undefined,
      { ...opts.junctionOptions?.values, ...fromUser?.values, ...cli },
      setIn,
      elementDirectory,
    );
    const user = resolveConditionals(included, optionValues);
    checkKeys(user, PROJECT_KEYS, 'project.conf');
    for (const key of ['name', 'plugins', 'min-version', 'element-path']) {
      // BuildStream forbids these in includes and conditionals: they must be known before either.
      if (user.entries.get(key) !== raw.entries.get(key)) {
        throw new KilnError(
          'project-key',
          `'${key}' must be written in project.conf itself, not in an include or a (?) branch (${formatPosition(user.entries.get(key)?.pos ?? raw.pos)})`,
        );
      }
    }
    const userVars = optMap(user, 'variables');
    if (userVars) checkVariablesMap(userVars, 'project.conf');
    const defaults = parseYaml(PROJECT_DEFAULTS_YAML, PROJECT_DEFAULTS_FILE);
    const conf = composite(defaults, user, '');

    const nameNode = requireString(user, 'name', 'project.conf');
    if (!NAME_RE.test(nameNode.value)) {
      throw new KilnError(
        'project-name',
        `invalid project name '${nameNode.value}' in ${formatPosition(nameNode.pos)}`,
        'a project name starts with a letter or _ and holds only letters, digits, _ and -',
      );
    }
    const name = nameNode.value;

    const fv = optString(user, 'format-version');
    if (fv && parseInteger(fv.value, fv.pos, 'format-version') > SUPPORTED_FORMAT_VERSION) {
      throw new KilnError(
        'format-version',
        `project.conf asks for format-version ${fv.value} (${formatPosition(fv.pos)}); kiln reads up to ${SUPPORTED_FORMAT_VERSION}`,
      );
    }
    const mv = optString(user, 'min-version');
    if (mv && !/^[12]\.\d+$/.test(mv.value)) {
      throw new KilnError('min-version', `min-version '${mv.value}' in ${formatPosition(mv.pos)} must look like 2.N`);
    }

    const rootVars = { 'project-root': dir, 'project-root-uri': pathToFileURL(dir).href, 'toplevel-root': dir, 'toplevel-root-uri': pathToFileURL(dir).href };
    const aliases: Record<string, string> = {};
    const aliasNode = user.entries.get('aliases');
    if (aliasNode) for (const [k, v] of stringMap(aliasNode, 'aliases')) aliases[k] = expandString(v.value, rootVars, v.pos, `alias '${k}'`);
    const mirrors = parseMirrors(optList(user, 'mirrors'));
    for (const m of mirrors)
      for (const urls of Object.values(m.aliases))
        urls.forEach((u, i) => (urls[i] = expandString(u, rootVars, { file: 'project.conf', line: 1, col: 1 }, `mirror '${m.name}'`)));
    if (opts.defaultMirror !== undefined) {
      // BuildStream: the default mirror is tried first, then the others in the order declared
      const at = mirrors.findIndex((m) => m.name === opts.defaultMirror);
      if (at < 0)
        warn(
          `default mirror '${opts.defaultMirror}' is not one of this project's mirrors (${mirrors.map((m) => m.name).join(', ') || 'none'}); using them in the declared order`,
        );
      else mirrors.unshift(...mirrors.splice(at, 1));
    }

    const declaredPlugins = new Map<string, string>();
    parsePlugins(optList(user, 'plugins'), declaredPlugins);

    const rs = expectScalar(conf.entries.get('ref-storage')!, 'ref-storage');
    if (rs.value !== 'inline' && rs.value !== 'project.refs') {
      throw new KilnError('ref-storage', `ref-storage '${rs.value}' in ${formatPosition(rs.pos)} must be inline or project.refs`);
    }
    const fatalWarnings = stringList(conf.entries.get('fatal-warnings')!, 'fatal-warnings');
    const foo = optString(user, 'fail-on-overlap');
    if (foo && parseBool(foo.value, foo.pos, 'fail-on-overlap') && !fatalWarnings.includes('overlaps')) fatalWarnings.push('overlaps');

    const shellNode = expectMap(conf.entries.get('shell')!, 'shell');
    checkKeys(shellNode, ['command', 'environment', 'host-files'], 'project.conf shell');
    const shellEnv: Record<string, string> = {};
    const se = shellNode.entries.get('environment');
    if (se) for (const [k, v] of stringMap(se, 'shell.environment')) shellEnv[k] = v.value;
    const hf = optList(shellNode, 'host-files', 'shell.host-files');
    const shell = {
      command: stringList(shellNode.entries.get('command')!, 'shell.command'),
      environment: shellEnv,
      hostFiles: hf ? (toPlain(hf) as YamlValue[]) : [],
    };

    const artifactsNode = user.entries.get('artifacts');
    const artifactRemotes = artifactsNode ? parseRemotes(artifactsNode, 'project.conf') : [];
    const defaultsNode = optMap(user, 'defaults');
    let defaultTargets: string[] = [];
    if (defaultsNode) {
      checkKeys(defaultsNode, ['targets'], 'project.conf defaults');
      const t = defaultsNode.entries.get('targets');
      if (t) defaultTargets = stringList(t, 'defaults.targets');
    }

    const sandbox = expectMap(conf.entries.get('sandbox')!, 'sandbox');
    checkSandbox(sandbox, 'project.conf sandbox');
    const envNode = expectMap(conf.entries.get('environment')!, 'environment');
    stringMap(envNode, 'environment');
    const nocache = conf.entries.get('environment-nocache');
    if (nocache) stringList(nocache, 'environment-nocache');
    const splitRules = expectMap(conf.entries.get('split-rules')!, 'split-rules');
    for (const [domain, rules] of splitRules.entries) {
      if (rules.type === 'list') stringList(rules, `split-rules.${domain}`);
      else checkNoDirectives(rules, `split-rules.${domain}`);
    }

    const optionStrings: Record<string, string> = {};
    for (const o of optionValues.values())
      optionStrings[o.name] = typeof o.value === 'boolean' ? (o.value ? 'True' : 'False') : Array.isArray(o.value) ? o.value.join(',') : o.value;
    // Option variables sit between the builtin defaults and project.conf's own variables.
    let variables = expectMap(conf.entries.get('variables')!, 'variables');
    const ov = optionVariables(optionValues);
    if (Object.keys(ov).length) {
      const optPos = optionsNode?.pos ?? raw.pos;
      const entries = new Map<string, Node>();
      const keyPos = new Map<string, SourcePosition>();
      for (const [k, v] of Object.entries(ov)) {
        if (userVars?.entries.has(k)) continue;
        entries.set(k, { type: 'scalar', value: v, pos: optPos });
        keyPos.set(k, optPos);
      }
      variables = composite(variables, mapNode(entries, keyPos, optPos), 'variables');
    }

    const project: Project = {
      name,
      directory: dir,
      elementDirectory,
      aliases,
      mirrors,
      refStorage: rs.value,
      fatalWarnings,
      declaredPlugins,
      refsFile: join(dir, 'project.refs'),
      options: optionStrings,
      shell,
      defaultTargets,
      ...(artifactRemotes.length > 0 ? { artifactRemotes } : {}),
    };
    const maxJobs = opts.maxJobs ?? Math.max(1, Math.min(cpus().length, 8));
    return {
      project,
      optionValues,
      variables,
      environment: envNode,
      environmentNocache: nocache as ListNode | undefined,
      splitRules,
      sandbox,
      elementOverrides: parseOverrides(optMap(user, 'elements'), ELEMENT_OVERRIDE_KEYS, 'elements'),
      sourceOverrides: parseSourceOverrides(optMap(user, 'sources'), warn),
      refs: rs.value === 'project.refs' ? readProjectRefs(project.refsFile, name, optionValues) : new Map(),
      maxJobs,
      warnings,
      warn,
      includeCache,
    };
  }
}

/** Whether an `(@)` is left anywhere (the first pass keeps those through junctions). */
function hasIncludes(node: Node): boolean {
  if (node.type === 'list') return node.items.some(hasIncludes);
  if (node.type !== 'map') return false;
  return node.entries.has('(@)') || [...node.entries.values()].some(hasIncludes);
}

function withoutIncludes(map: MapNode): MapNode {
  const entries = new Map<string, Node>();
  for (const [k, v] of map.entries) {
    if (k === '(@)') continue;
    entries.set(
      k,
      v.type === 'map'
        ? withoutIncludes(v)
        : v.type === 'list'
          ? list(
              v.items.map((i) => (i.type === 'map' ? withoutIncludes(i) : i)),
              v.pos,
            )
          : v,
    );
  }
  return mapNode(entries, new Map([...map.keyPos].filter(([k]) => k !== '(@)')), map.pos, map.nulls);
}
