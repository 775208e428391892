import { existsSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import type { ElementKind } from '../kinds/kind.js';
import { elementKinds, kindDefaults, kindDefaultsFile } from '../kinds/registry.js';
import type { DepType, Dependency, Element, SourceDecl } from '../model.js';
import { sourceKinds } from '../sources/registry.js';
import { checkNoDirectives, composite, isDirectiveMap } from './composite.js';
import { processDirectives, resolveConditionals } from './directives.js';
import { collectPositions, emptyMap, mapNode, scalar, toPlain, toPlainMap, withEntries, type MapNode, type Node, type ScalarNode } from './node.js';
import { checkVariablesMap, ELEMENT_OVERRIDE_KEYS, SANDBOX_KEYS, type ProjectConfig } from './project.js';
import { checkKeys, expectList, expectMap, expectScalar, optMap, optString, parseBool, parseInteger, requireString } from './validate.js';
import { expandNode, resolveVariables, type VariableDef } from './variables.js';
import { loadYamlFile, parseYaml } from './yaml.js';

/**
 * .bst files (docs/format.md#element-files): parsing and validation (RawElement), then the per-element
 * composition of §3 into the model's Element once its dependencies are built.
 */

export const ELEMENT_KEYS = [
  'kind',
  'description',
  'depends',
  'build-depends',
  'runtime-depends',
  'sources',
  'variables',
  'environment',
  'environment-nocache',
  'config',
  'public',
  'sandbox',
];
const DEPENDENCY_KEYS = ['filename', 'type', 'junction', 'strict', 'config'];

export interface RawDependency {
  /** The element's name in its project (the junction's sub-project when `junction` is set). */
  name: string;
  /** The junction element (in the depending element's project) the element is reached through. */
  junction?: string;
  type: DepType;
  strict: boolean;
  config?: MapNode;
  /** Where the dependency was declared (for missing-element and cycle messages). */
  pos: SourcePosition;
}

export interface RawElement {
  name: string;
  file: string;
  /** Project-relative path used in messages, e.g. elements/contents/busybox.bst. */
  display: string;
  node: MapNode;
  kind: ScalarNode;
  deps: RawDependency[];
}

/**
 * `junction.bst:element.bst`, an element of the sub-project a junction of this project loads:
 * its two names, or undefined for a plain name. One `:` only, as in bst: an element deeper down is
 * reached through a junction of the top project or of the sub-project's own elements.
 */
export function splitJunctionName(name: string, pos: SourcePosition | undefined): { junction: string; name: string } | undefined {
  const at = name.indexOf(':');
  if (at < 0) return undefined;
  const junction = name.slice(0, at);
  const rest = name.slice(at + 1);
  if (rest.includes(':')) {
    throw new KilnError(
      'element-name',
      `invalid element name '${name}'${pos ? ` in ${formatPosition(pos)}` : ''}: it names more than one junction`,
      'name elements of a deeper sub-project through a junction of your own project to it',
    );
  }
  checkElementName(junction, pos);
  checkElementName(rest, pos);
  return { junction, name: rest };
}

/** Checks an element name (relative to element-path); `pos` is where it was written. */
export function checkElementName(name: string, pos: SourcePosition | undefined): void {
  const where = pos ? ` in ${formatPosition(pos)}` : '';
  const bad =
    name === ''
      ? 'it is empty'
      : name.startsWith('/')
        ? 'it is absolute'
        : name.includes('\\')
          ? 'it contains a backslash'
          : name.split('/').some((c) => c === '..' || c === '.' || c === '')
            ? "it has an empty, '.' or '..' component"
            : !name.endsWith('.bst')
              ? "it does not end in '.bst'"
              : /[\x00-\x1f]/.test(name)
                ? 'it contains control characters'
                : name.includes(':')
                  ? "it contains ':' (junction.bst:element.bst names an element of a junction's project)"
                  : undefined;
  if (bad) {
    throw new KilnError(
      'element-name',
      `invalid element name '${name}'${where}: ${bad}`,
      'element names are paths relative to element-path ending in .bst, e.g. contents/busybox.bst',
    );
  }
}

function parseDepType(node: ScalarNode): DepType {
  const v = node.value;
  if (v === '' || v === 'all') return 'all';
  if (v === 'build' || v === 'runtime') return v;
  throw new KilnError('dependency-type', `invalid dependency type '${v}' in ${formatPosition(node.pos)}; use build, runtime or all`);
}

function mergeType(a: DepType, b: DepType): DepType {
  return a === b ? a : 'all';
}

function parseDependencies(node: MapNode): RawDependency[] {
  const byName = new Map<string, RawDependency>();
  for (const [key, implied] of [
    ['depends', undefined],
    ['build-depends', 'build'],
    ['runtime-depends', 'runtime'],
  ] as const) {
    const listNode = node.entries.get(key);
    if (!listNode) continue;
    for (const [i, item] of expectList(listNode, key).items.entries()) {
      let dep: RawDependency;
      if (item.type === 'scalar') {
        const through = splitJunctionName(item.value, item.pos);
        dep = { name: through?.name ?? item.value, ...(through ? { junction: through.junction } : {}), type: implied ?? 'all', strict: false, pos: item.pos };
      } else {
        const m = expectMap(item, `${key}[${i}]`);
        checkKeys(m, DEPENDENCY_KEYS, `a dependency in ${key}`);
        const filename = requireString(m, 'filename', `a dependency in ${key}`);
        const junctionNode = optString(m, 'junction', `${key}[${i}].junction`);
        if (junctionNode && filename.value.includes(':')) {
          throw new KilnError(
            'element-name',
            `dependency '${filename.value}' in ${formatPosition(filename.pos)} names a junction twice: with 'junction:' the filename may not contain ':'`,
            'give either junction: and a plain filename, or JUNCTION.bst:ELEMENT.bst alone',
          );
        }
        const through = junctionNode ? { junction: junctionNode.value, name: filename.value } : splitJunctionName(filename.value, filename.pos);
        if (junctionNode) checkElementName(junctionNode.value, junctionNode.pos);
        const typeNode = optString(m, 'type', `${key}[${i}].type`);
        if (typeNode && implied) {
          throw new KilnError(
            'dependency-type',
            `'type' is not allowed in ${key} (${formatPosition(typeNode.pos)}): the list already implies ${implied}`,
            `move the dependency to 'depends' or drop 'type'`,
          );
        }
        const strictNode = optString(m, 'strict', `${key}[${i}].strict`);
        const config = optMap(m, 'config', `${key}[${i}].config`);
        dep = {
          name: through?.name ?? filename.value,
          ...(through ? { junction: through.junction } : {}),
          type: implied ?? (typeNode ? parseDepType(typeNode) : 'all'),
          strict: strictNode ? parseBool(strictNode.value, strictNode.pos, 'strict') : false,
          pos: filename.pos,
          ...(config ? { config } : {}),
        };
        // bst 1.x: strictness is for what is staged to build; `strict: false` is reserved (it is the default)
        if (strictNode && !dep.strict) {
          throw new KilnError(
            'dependency-strict',
            `'strict: ${strictNode.value}' in ${formatPosition(strictNode.pos)}: a dependency is not strict unless it says so`,
            "remove 'strict'",
          );
        }
        if (dep.strict && dep.type === 'runtime') {
          throw new KilnError(
            'dependency-strict',
            `runtime dependency ${dep.name} is marked strict in ${formatPosition(strictNode!.pos)}`,
            'only dependencies needed at build time can be strict: make it a build dependency or drop strict',
          );
        }
      }
      checkElementName(dep.name, dep.pos);
      const id = dep.junction ? `${dep.junction}:${dep.name}` : dep.name;
      const prev = byName.get(id);
      if (prev) {
        prev.type = mergeType(prev.type, dep.type);
        prev.strict ||= dep.strict;
        if (!prev.config && dep.config) prev.config = dep.config;
      } else byName.set(id, dep);
    }
  }
  return [...byName.values()];
}

/** Reads and validates one .bst file; `referrer` is where the name was written. */
export function parseElement(config: ProjectConfig, name: string, referrer?: SourcePosition): RawElement {
  checkElementName(name, referrer);
  const file = join(config.project.elementDirectory, name);
  const display = relative(config.project.directory, file).split(sep).join('/');
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new KilnError(
      'element-missing',
      `element '${name}' not found: ${display} does not exist${referrer ? ` (referenced in ${formatPosition(referrer)})` : ''}`,
      'check the name: element names are relative to element-path',
    );
  }
  const raw = loadYamlFile(file, display, 'element');
  // a junction is read before its project is complete: its conditionals only, no includes (bst's first pass)
  const rawKind = raw.entries.get('kind');
  const node =
    rawKind?.type === 'scalar' && rawKind.value === 'junction'
      ? resolveConditionals(raw, config.optionValues)
      : processDirectives(raw, {
          projectDir: config.project.directory,
          options: config.optionValues,
          cache: config.includeCache,
          ...(config.junctionInclude ? { junction: config.junctionInclude } : {}),
        });
  checkKeys(node, ELEMENT_KEYS, display);
  const kind = requireString(node, 'kind', display);
  const deps = parseDependencies(node);
  if (kind.value === 'junction' && deps.length > 0) {
    throw new KilnError(
      'junction-depends',
      `${display}: a junction element cannot have dependencies (${formatPosition(deps[0]!.pos)})`,
      'a junction only links a project; give the dependencies to the elements that use it',
    );
  }
  const elementKind = elementKinds.get(kind.value);
  if (!elementKind) {
    const origin = config.project.declaredPlugins.get(kind.value);
    const known = [...elementKinds.keys()].join(', ');
    throw origin
      ? new KilnError(
          'plugin-unsupported',
          `unsupported plugin kind ${kind.value} (declared by origin ${origin}) in ${formatPosition(kind.pos)}`,
          `kiln implements these element kinds natively: ${known}`,
        )
      : new KilnError('kind-unknown', `unknown element kind '${kind.value}' in ${formatPosition(kind.pos)}; kiln knows ${known}`);
  }
  if (elementKind.pluginPackage !== undefined && !config.project.declaredPlugins.has(kind.value)) {
    throw new KilnError(
      'plugin-undeclared',
      `element kind '${kind.value}' in ${formatPosition(kind.pos)} comes from a plugin that project.conf does not declare`,
      `add to project.conf: plugins: [{origin: pip, package-name: ${elementKind.pluginPackage}, elements: {${kind.value}: 0}}]`,
    );
  }
  optString(node, 'description');
  for (const key of ['variables', 'environment', 'config', 'public', 'sandbox']) optMap(node, key);
  return { name, file, display, node, kind, deps };
}

/** A registered kind by name (parseElement has checked that it exists). */
function registeredKind(name: string): ElementKind {
  return elementKinds.get(name)!;
}

const defaultsCache = new WeakMap<ElementKind, MapNode>();

function kindDefaultsNode(name: string): MapNode {
  const kind = registeredKind(name);
  let node = defaultsCache.get(kind);
  if (!node) {
    node = parseYaml(kindDefaults(kind), kindDefaultsFile(name));
    defaultsCache.set(kind, node);
  }
  return node;
}

function sub(map: MapNode, key: string): MapNode {
  const n = map.entries.get(key);
  return n === undefined ? emptyMap(map.pos) : expectMap(n, key);
}

/** Union of environment-nocache lists (plain lists, or directive maps whose items count). */
function nocacheNames(node: Node | undefined, out: Set<string>): void {
  if (!node) return;
  if (node.type === 'map' && isDirectiveMap(node, 'environment-nocache')) {
    for (const v of node.entries.values()) nocacheNames(v, out);
    return;
  }
  for (const item of expectList(node, 'environment-nocache').items) out.add(expectScalar(item, 'environment-nocache[]').value);
}

function parseSources(raw: RawElement, config: ProjectConfig, positions: Map<string, SourcePosition>): SourceDecl[] {
  const listNode = raw.node.entries.get('sources');
  if (!listNode) return [];
  const storedRefs = config.project.refStorage === 'project.refs' ? config.refs.get(raw.name) : undefined;
  return expectList(listNode, 'sources').items.map((item, index) => {
    const m = expectMap(item, `sources[${index}]`);
    const kind = requireString(m, 'kind', `source #${index + 1} of ${raw.display}`);
    if (!sourceKinds.has(kind.value)) {
      const origin = config.project.declaredPlugins.get(kind.value);
      const known = [...sourceKinds.keys()].join(', ');
      throw origin
        ? new KilnError(
            'plugin-unsupported',
            `unsupported plugin kind ${kind.value} (declared by origin ${origin}) in ${formatPosition(kind.pos)}`,
            `kiln implements these source kinds natively: ${known}`,
          )
        : new KilnError('kind-unknown', `unknown source kind '${kind.value}' in ${formatPosition(kind.pos)}; kiln knows ${known}`);
    }
    const dirNode = optString(m, 'directory', `sources[${index}].directory`);
    // null values keep a meaning for sources (tar base-dir: ~ is the archive root): they become ''.
    const entries = new Map(m.entries);
    const keyPos = new Map(m.keyPos);
    for (const [k, p] of m.nulls ?? []) {
      entries.set(k, scalar('', p));
      keyPos.set(k, p);
    }
    const refNode = entries.get('ref');
    for (const k of ['kind', 'directory', 'ref']) {
      entries.delete(k);
      keyPos.delete(k);
    }
    let own = mapNode(entries, keyPos, m.pos);
    const override = config.sourceOverrides.get(kind.value);
    const overrideConfig = override ? optMap(override, 'config', `sources.${kind.value}.config`) : undefined;
    if (overrideConfig) own = composite(overrideConfig, own, `sources[${index}]`);
    checkNoDirectives(own, `sources[${index}]`);
    collectPositions(m, `sources.${index}`, positions);
    let ref = refNode && !(refNode.type === 'scalar' && refNode.value === '') ? toPlain(refNode) : undefined;
    if (config.project.refStorage === 'project.refs') {
      if (ref !== undefined) config.warn(`${formatPosition(refNode!.pos)}: inline ref ignored because ref-storage is project.refs`);
      const stored = storedRefs?.items[index];
      const r = stored?.type === 'map' ? stored.entries.get('ref') : undefined;
      ref = r && !(r.type === 'scalar' && r.value === '') ? toPlain(r) : undefined;
    }
    const decl: SourceDecl = {
      kind: kind.value,
      directory: (dirNode?.value ?? '').replace(/^\/+/, ''),
      config: toPlainMap(own),
      index,
      position: m.pos,
    };
    if (ref !== undefined) decl.ref = ref;
    return decl;
  });
}

/** What every element of a kind shares: the kind defaults under the project's overrides, composited with the project's values. */
interface KindBase {
  kindNode: MapNode;
  variables: MapNode;
  environment: MapNode;
  publicBase: MapNode;
  sandbox: MapNode;
}

const kindBases = new WeakMap<ProjectConfig, Map<string, KindBase>>();

function kindBase(config: ProjectConfig, kind: string): KindBase {
  let perProject = kindBases.get(config);
  if (!perProject) kindBases.set(config, (perProject = new Map()));
  const hit = perProject.get(kind);
  if (hit) return hit;
  let kindNode = kindDefaultsNode(kind);
  const override = config.elementOverrides.get(kind);
  if (override) {
    const ov = optMap(override, 'variables', `elements.${kind}.variables`);
    if (ov) checkVariablesMap(ov, `project.conf elements.${kind}`);
    kindNode = composite(kindNode, override, `elements.${kind}`);
  }
  checkKeys(kindNode, ELEMENT_OVERRIDE_KEYS, kindDefaultsFile(kind));
  const kindPublic = sub(kindNode, 'public');
  const kindBst = sub(kindPublic, 'bst');
  const splitRules = composite(config.splitRules, sub(kindBst, 'split-rules'), 'public.bst.split-rules');
  const base: KindBase = {
    kindNode,
    variables: composite(config.variables, sub(kindNode, 'variables'), 'variables'),
    environment: composite(config.environment, sub(kindNode, 'environment'), 'environment'),
    publicBase: withEntries(kindPublic, { bst: withEntries(kindBst, { 'split-rules': splitRules }) }),
    sandbox: composite(config.sandbox, sub(kindNode, 'sandbox'), 'sandbox'),
  };
  perProject.set(kind, base);
  return base;
}

/** Positions of what the user wrote (not of builtin or kind defaults, which have no file). */
function userPositions(node: Node, prefix: string, out: Map<string, SourcePosition>): void {
  if (node.pos.file.startsWith('<')) {
    if (node.type === 'map') for (const [k, v] of node.entries) userPositions(v, `${prefix}.${k}`, out);
    else if (node.type === 'list') node.items.forEach((item, i) => userPositions(item, `${prefix}.${i}`, out));
    return;
  }
  collectPositions(node, prefix, out);
}

/** The §3 composition of one element, given its already-built dependencies in §7 order. */
export function composeElement(
  raw: RawElement,
  config: ProjectConfig,
  dependencies: (Omit<Dependency, 'config'> & { rawConfig?: MapNode })[],
  fullName = raw.name,
): Element {
  const kind = raw.kind.value;
  const el = raw.node;
  const positions = new Map<string, SourcePosition>();
  const base = kindBase(config, kind);
  const kindNode = base.kindNode;

  // Variables: project ← kind ← element, then the read-only dynamic ones.
  const elVars = sub(el, 'variables');
  checkVariablesMap(elVars, raw.display);
  let vars = composite(base.variables, elVars, 'variables');
  checkNoDirectives(vars, 'variables');
  const defs = new Map<string, VariableDef>();
  for (const [k, v] of vars.entries) defs.set(k, { value: expectScalar(v, `variables.${k}`).value, pos: v.pos });
  const dyn = { file: raw.display, line: 1, col: 1 };
  const notparallel = defs.get('notparallel');
  const parallel = !(notparallel && notparallel.value !== '' && parseBool(notparallel.value, notparallel.pos, 'notparallel'));
  defs.set('project-name', { value: config.project.name, pos: dyn });
  defs.set('element-name', { value: raw.name, pos: dyn });
  defs.set('max-jobs', { value: String(parallel ? config.maxJobs : 1), pos: dyn });
  const variables = resolveVariables(defs, raw.display);
  vars = mapNode(vars.entries, vars.keyPos, vars.pos);
  userPositions(vars, 'variables', positions);

  // Environment: project ← kind ← element, values expanded (a junction has none of the project's, as in bst).
  const junction = kind === 'junction';
  const envNode = composite(junction ? emptyMap(el.pos) : base.environment, sub(el, 'environment'), 'environment');
  checkNoDirectives(envNode, 'environment');
  const environment: Record<string, string> = {};
  for (const [k, v] of envNode.entries) {
    environment[k] = (expandNode(expectScalar(v, `environment.${k}`), variables, `environment.${k}`) as ScalarNode).value;
  }
  userPositions(envNode, 'environment', positions);

  const nocache = new Set<string>();
  nocacheNames(config.environmentNocache, nocache);
  nocacheNames(kindNode.entries.get('environment-nocache'), nocache);
  nocacheNames(el.entries.get('environment-nocache'), nocache);

  // Config: kind ← element, every string expanded (the 2.x rule).
  const configNode = composite(sub(kindNode, 'config'), sub(el, 'config'), 'config');
  checkNoDirectives(configNode, 'config');
  checkKeys(configNode, registeredKind(kind).configKeys, `config of a ${kind} element (${raw.display})`);
  const expandedConfig = expandNode(configNode, variables, 'config') as MapNode;
  userPositions(configNode, 'config', positions);

  // Public: kind public with split-rules = project ← kind, then the element's public on top.
  const noRules = (): MapNode => withEntries(emptyMap(el.pos), { bst: withEntries(emptyMap(el.pos), { 'split-rules': emptyMap(el.pos) }) });
  const publicNode = composite(junction ? noRules() : base.publicBase, sub(el, 'public'), 'public');
  checkNoDirectives(publicNode, 'public');
  const bst = sub(publicNode, 'bst');
  const expandedPublic = withEntries(publicNode, { bst: expandNode(bst, variables, 'public.bst') });
  userPositions(publicNode, 'public', positions);

  // Sandbox: project ← kind ← element.
  const sandboxNode = expandNode(composite(base.sandbox, sub(el, 'sandbox'), 'sandbox'), variables, 'sandbox') as MapNode;
  checkKeys(sandboxNode, SANDBOX_KEYS, `sandbox of ${raw.display}`);
  const intOf = (key: string): number => {
    const n = requireString(sandboxNode, key, `sandbox of ${raw.display}`);
    return parseInteger(n.value, n.pos, `sandbox.${key}`);
  };
  const sandbox: Element['sandbox'] = { buildUid: intOf('build-uid'), buildGid: intOf('build-gid') };
  const os = optString(sandboxNode, 'build-os');
  const arch = optString(sandboxNode, 'build-arch');
  if (os) sandbox.buildOs = os.value;
  if (arch) sandbox.buildArch = arch.value;

  collectPositions(raw.kind, 'kind', positions);
  for (const key of ['depends', 'build-depends', 'runtime-depends', 'description']) {
    const n = el.entries.get(key);
    if (n) collectPositions(n, key, positions);
  }

  const element: Element = {
    // in a junction's sub-project: junction.bst:element.bst (element-name stays the element's own)
    name: fullName,
    file: raw.file,
    project: config.project,
    kind,
    description: optString(el, 'description')?.value ?? '',
    variables,
    environment,
    environmentNocache: [...nocache].sort(),
    config: toPlainMap(expandedConfig),
    public: toPlainMap(expandedPublic),
    sandbox,
    sources: parseSources(raw, config, positions),
    dependencies: dependencies.map((d) => {
      const dep: Dependency = { element: d.element, type: d.type, strict: d.strict };
      if (d.rawConfig) dep.config = toPlainMap(expandNode(d.rawConfig, variables, `dependency ${d.element.name} config`) as MapNode);
      return dep;
    }),
    positions,
  };
  return element;
}
