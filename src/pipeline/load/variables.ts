import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import { list, mapNode, scalar, type Node } from './node.js';

/**
 * Variables (docs/format.md#variables): `%{name}` references expanded recursively against the element's final
 * variable map. Every variable must resolve, used or not; an undefined name is reported with the
 * chain of variables that led to it and where the reference was written, a cycle with the cycle.
 */

export const VARIABLE_REF = /%\{([a-zA-Z][a-zA-Z0-9_-]*)\}/g;

export interface VariableDef {
  value: string;
  pos: SourcePosition;
}

/** Variables a project or element may not set: they are computed by the loader. */
export const PROTECTED_VARIABLES = ['project-name', 'element-name', 'max-jobs'];

function chainText(chain: string[], defs: ReadonlyMap<string, VariableDef>): string {
  return chain.map((n) => `'${n}' (${formatPosition(defs.get(n)!.pos)})`).join(' -> ');
}

/** Resolves every variable; the result maps each name to its fully expanded value. */
export function resolveVariables(defs: ReadonlyMap<string, VariableDef>, context: string): Record<string, string> {
  const done = new Map<string, string>();
  const stack: string[] = [];
  const onStack = new Set<string>();

  const resolve = (name: string): string => {
    const hit = done.get(name);
    if (hit !== undefined) return hit;
    const def = defs.get(name)!;
    stack.push(name);
    onStack.add(name);
    const value = def.value.replace(VARIABLE_REF, (_m, ref: string) => {
      if (onStack.has(ref)) {
        const cycle = [...stack.slice(stack.indexOf(ref)), ref];
        throw new KilnError(
          'variable-cycle',
          `circular variable reference in ${context}: ${cycle.map((n) => `'${n}'`).join(' -> ')}; ${chainText(stack.slice(stack.indexOf(ref)), defs)}`,
          'break the cycle: one of these variables must not refer back to the others',
        );
      }
      if (!defs.has(ref)) {
        throw new KilnError(
          'variable-undefined',
          `undefined variable '${ref}' referenced in ${formatPosition(defs.get(name)!.pos)} by ${stack.length > 1 ? `the chain ${chainText(stack, defs)}` : `variable '${name}'`} (${context})`,
          `define '${ref}' under variables: or fix the reference`,
        );
      }
      return resolve(ref);
    });
    stack.pop();
    onStack.delete(name);
    done.set(name, value);
    return value;
  };

  const out: Record<string, string> = {};
  for (const name of [...defs.keys()].sort()) out[name] = resolve(name);
  return out;
}

/** Expands `%{...}` in one string against resolved variables. */
export function expandString(text: string, vars: Readonly<Record<string, string>>, pos: SourcePosition, what: string): string {
  if (!text.includes('%{')) return text;
  return text.replace(VARIABLE_REF, (_m, ref: string) => {
    const v = Object.prototype.hasOwnProperty.call(vars, ref) ? vars[ref] : undefined;
    if (v === undefined) {
      throw new KilnError(
        'variable-undefined',
        `undefined variable '${ref}' referenced by ${what} in ${formatPosition(pos)}`,
        `define '${ref}' under variables: or fix the reference`,
      );
    }
    return v;
  });
}

/** Expands every string under a node (keys are left alone). */
export function expandNode(node: Node, vars: Readonly<Record<string, string>>, path: string): Node {
  if (node.type === 'scalar') {
    const v = expandString(node.value, vars, node.pos, `'${path}'`);
    return v === node.value ? node : scalar(v, node.pos);
  }
  if (node.type === 'list')
    return list(
      node.items.map((item, i) => expandNode(item, vars, `${path}[${i}]`)),
      node.pos,
    );
  const entries = new Map<string, Node>();
  for (const [k, v] of node.entries) entries.set(k, expandNode(v, vars, path ? `${path}.${k}` : k));
  return mapNode(entries, node.keyPos, node.pos, node.nulls);
}
