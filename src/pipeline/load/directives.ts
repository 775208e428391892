import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import { composite } from './composite.js';
import { list, mapNode, withEntries, type MapNode, type Node } from './node.js';
import { evaluateCondition, type ProjectOption } from './options.js';
import { expectList, expectMap, expectScalar } from './validate.js';
import { loadYamlFile } from './yaml.js';

/**
 * The load-time directives of docs/format.md#directives, resolved before composition, in bst
 * 1.x's order: `(@)` includes (project-relative files composited under the including mapping,
 * later includes winning), `(?)` conditionals on project options and `(!)` assertions.
 *
 * An element resolves its conditionals first and then its includes, each included file the same
 * way (`processDirectives`). project.conf resolves its includes first, leaving conditionals in
 * place (two `(?)` lists meeting in a composition are joined), because an include may declare
 * the options the conditionals test (`resolveIncludes`, then `resolveConditionals`).
 */

/** What an include through a junction (`junction.bst:file.yml`) reads: the junction's sub-project. */
export interface JunctionProject {
  directory: string;
  options: ReadonlyMap<string, ProjectOption>;
  /** Its own junctions, for includes through them in its files. */
  junction?: (name: string, pos: SourcePosition) => JunctionProject;
}

export interface DirectiveContext {
  projectDir: string;
  /**
   * Loads a junction's sub-project for `junction.bst:file.yml` includes. Absent while project.conf's
   * local includes are resolved (bst's first pass): such includes wait for the second.
   */
  junction?: (name: string, pos: SourcePosition) => JunctionProject;
  /** Absent while project.conf's includes are resolved (before its options are known). */
  options?: ReadonlyMap<string, ProjectOption>;
  /** Include files being processed (display names), to report include cycles. */
  including?: string[];
  /** Cache of parsed include files by display name. */
  cache?: Map<string, MapNode>;
}

/** The file an include names, or undefined for a junction's file while junctions wait (first pass). */
function includeFile(ref: Node, ctx: DirectiveContext): { node: MapNode; display: string; inner: DirectiveContext } | undefined {
  let name = expectScalar(ref, '(@)').value;
  let base = ctx;
  let prefix = '';
  const colon = name.indexOf(':');
  if (colon >= 0) {
    if (!ctx.junction) return undefined;
    const sub = ctx.junction(name.slice(0, colon), ref.pos);
    prefix = `${name.slice(0, colon)}:`;
    name = name.slice(colon + 1);
    // the file is the sub-project's: its conditionals test the sub-project's options
    base = {
      projectDir: sub.directory,
      options: sub.options,
      ...(sub.junction ? { junction: sub.junction } : {}),
      ...(ctx.including ? { including: ctx.including } : {}),
    };
  }
  const full = normalize(join(base.projectDir, name));
  const rel = relative(base.projectDir, full);
  if (isAbsolute(name) || rel === '..' || rel.startsWith(`..${sep}`)) {
    throw new KilnError(
      'include-path',
      `include '${name}' in ${formatPosition(ref.pos)} leaves the project directory`,
      'includes are project-relative paths inside the project',
    );
  }
  const display = prefix + rel.split(sep).join('/');
  const including = ctx.including ?? [];
  if (including.includes(display)) {
    throw new KilnError('include-cycle', `include cycle: ${[...including, display].join(' -> ')} (at ${formatPosition(ref.pos)})`);
  }
  const cache = ctx.cache ?? new Map<string, MapNode>();
  let node = cache.get(display);
  if (!node) {
    node = loadYamlFile(full, display, `include (from ${formatPosition(ref.pos)})`);
    cache.set(display, node);
  }
  return { node, display, inner: { ...base, including: [...including, display], cache } };
}

/** `(@)` in this mapping and every mapping under it; conditionals too when ctx has the options. */
function includes(map: MapNode, ctx: DirectiveContext): MapNode {
  let current = map;
  const inc = current.entries.get('(@)');
  if (inc) {
    const refs = inc.type === 'list' ? inc.items : [inc];
    const kept: Node[] = [];
    current = withEntries(current, { '(@)': undefined });
    // bst composites the last include under the mapping first, then each earlier one under that
    for (const ref of [...refs].reverse()) {
      const file = includeFile(ref, ctx);
      if (!file) {
        // a junction's file, for the second pass: kept where it was
        kept.push(ref);
        continue;
      }
      const { node, inner } = file;
      const included = inner.options ? includes(resolveConditionals(node, inner.options), inner) : includes(node, inner);
      current = composite(included, current, '');
    }
    if (kept.length) current = withEntries(current, { '(@)': list(kept.reverse(), inc.pos) });
  }
  let changed = false;
  const entries = new Map<string, Node>();
  for (const [k, v] of current.entries) {
    const nv = eachMap(v, (m) => includes(m, ctx));
    if (nv !== v) changed = true;
    entries.set(k, nv);
  }
  return changed ? mapNode(entries, current.keyPos, current.pos, current.nulls) : current;
}

/** Applies `f` to every mapping in a value (itself if a mapping, the items of lists). */
function eachMap(node: Node, f: (m: MapNode) => MapNode): Node {
  if (node.type === 'map') return f(node);
  if (node.type === 'list') {
    let changed = false;
    const items = node.items.map((item) => {
      const n = eachMap(item, f);
      if (n !== item) changed = true;
      return n;
    });
    return changed ? list(items, node.pos) : node;
  }
  return node;
}

/** project.conf's first step: its includes, conditionals left for when the options are known. */
export function resolveIncludes(map: MapNode, ctx: Omit<DirectiveContext, 'options'>): MapNode {
  return includes(map, ctx);
}

/**
 * `(?)` and `(!)` in a mapping and everything under it, as bst 1.x's option pool does: an
 * assertion in a mapping fails at once; otherwise each true branch is composited into the
 * mapping as written, and the mapping is processed again (a branch may bring an assertion or
 * more conditionals: of several true branches asserting, the last one's message is reported).
 */
export function resolveConditionals(map: MapNode, options: ReadonlyMap<string, ProjectOption>): MapNode {
  let current = map;
  for (;;) {
    const assertion = current.entries.get('(!)');
    if (assertion) {
      const text = expectScalar(assertion, '(!)').value.trim();
      throw new KilnError('assertion', `${text} (${formatPosition(assertion.pos)})`);
    }
    const cond = current.entries.get('(?)');
    if (!cond) break;
    current = withEntries(current, { '(?)': undefined });
    for (const item of expectList(cond, '(?)').items) {
      const branch = expectMap(item, '(?) item');
      if (branch.entries.size !== 1) {
        throw new KilnError('condition', `each (?) item must be a mapping with exactly one condition (${formatPosition(branch.pos)})`);
      }
      const [expr, body] = [...branch.entries][0]!;
      const at = branch.keyPos.get(expr)!;
      const apply = evaluateCondition(expr, options, at);
      if (body.type !== 'map') {
        throw new KilnError(
          'condition',
          `the (?) branch '${expr}' in ${formatPosition(at)} must be a mapping, not ${body.type === 'list' ? 'a list' : 'a string'}`,
          'only mappings can be composed',
        );
      }
      if (apply) current = composite(current, body, '');
    }
  }
  let changed = false;
  const entries = new Map<string, Node>();
  for (const [k, v] of current.entries) {
    const nv = eachMap(v, (m) => resolveConditionals(m, options));
    if (nv !== v) changed = true;
    entries.set(k, nv);
  }
  return changed ? mapNode(entries, current.keyPos, current.pos, current.nulls) : current;
}

/** An element's directives (or a file's it includes): conditionals first, then includes. */
export function processDirectives(map: MapNode, ctx: DirectiveContext & { options: ReadonlyMap<string, ProjectOption> }): MapNode {
  return includes(resolveConditionals(map, ctx.options), ctx);
}
