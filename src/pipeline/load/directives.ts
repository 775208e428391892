import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { KilnError, formatPosition } from '../../errors.js';
import { composite } from './composite.js';
import { list, mapNode, withEntries, type MapNode, type Node } from './node.js';
import { evaluateCondition, type ProjectOption } from './options.js';
import { expectList, expectMap, expectScalar } from './validate.js';
import { loadYamlFile } from './yaml.js';

/**
 * The load-time directives of docs/format.md#directives, resolved before composition: `(@)` includes
 * (project-relative files composited under the including mapping, later includes winning),
 * `(?)` conditionals on project options, and `(!)` assertions.
 */

export interface DirectiveContext {
  projectDir: string;
  options: ReadonlyMap<string, ProjectOption>;
  /** Include files being processed (display names), to report include cycles. */
  including?: string[];
  /** Cache of parsed include files by display name. */
  cache?: Map<string, MapNode>;
}

function includeFile(ref: Node, ctx: DirectiveContext): MapNode {
  const name = expectScalar(ref, '(@)').value;
  const full = normalize(join(ctx.projectDir, name));
  const rel = relative(ctx.projectDir, full);
  if (isAbsolute(name) || rel === '..' || rel.startsWith(`..${sep}`)) {
    throw new KilnError('include-path', `include '${name}' in ${formatPosition(ref.pos)} leaves the project directory`, 'includes are project-relative paths inside the project');
  }
  const display = rel.split(sep).join('/');
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
  return processDirectives(node, { ...ctx, including: [...including, display], cache });
}

/** Resolves `(@)`, `(?)` and `(!)` in a mapping and everything under it. */
export function processDirectives(map: MapNode, ctx: DirectiveContext): MapNode {
  let current = map;
  const inc = current.entries.get('(@)');
  if (inc) {
    const refs = inc.type === 'list' ? inc.items : [inc];
    let base: MapNode | undefined;
    for (const ref of refs) {
      const included = includeFile(ref, ctx);
      base = base ? composite(base, included, '') : included;
    }
    const rest = withEntries(current, { '(@)': undefined });
    current = base ? composite(base, processDirectives(rest, ctx), '') : rest;
    return current;
  }
  const cond = current.entries.get('(?)');
  if (cond) {
    current = withEntries(current, { '(?)': undefined });
    for (const item of expectList(cond, '(?)').items) {
      const branch = expectMap(item, '(?) item');
      if (branch.entries.size !== 1) {
        throw new KilnError('condition', `each (?) item must be a mapping with exactly one condition (${formatPosition(branch.pos)})`);
      }
      const [expr, body] = [...branch.entries][0]!;
      if (evaluateCondition(expr, ctx.options, branch.keyPos.get(expr)!)) {
        current = composite(current, processDirectives(expectMap(body, `(?) '${expr}'`), ctx), '');
      }
    }
  }
  const assertion = current.entries.get('(!)');
  if (assertion) {
    const text = expectScalar(assertion, '(!)').value;
    throw new KilnError('assertion', `${text} (${formatPosition(assertion.pos)})`);
  }
  let changed = false;
  const entries = new Map<string, Node>();
  for (const [k, v] of current.entries) {
    const nv = processValue(v, ctx);
    if (nv !== v) changed = true;
    entries.set(k, nv);
  }
  return changed ? mapNode(entries, current.keyPos, current.pos, current.nulls) : current;
}

function processValue(node: Node, ctx: DirectiveContext): Node {
  if (node.type === 'map') return processDirectives(node, ctx);
  if (node.type === 'list') {
    let changed = false;
    const items = node.items.map((item) => {
      const n = processValue(item, ctx);
      if (n !== item) changed = true;
      return n;
    });
    return changed ? list(items, node.pos) : node;
  }
  return node;
}
