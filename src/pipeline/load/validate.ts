import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import { typeName, type ListNode, type MapNode, type Node, type ScalarNode } from './node.js';

/** Typed access to loaded nodes; every failure names the key, the place and what was expected. */

export function checkKeys(map: MapNode, valid: readonly string[], where: string): void {
  for (const [key, pos] of [...map.keyPos, ...(map.nulls ?? [])]) {
    if (!valid.includes(key)) {
      throw new KilnError(
        'unknown-key',
        `unknown key '${key}' in ${formatPosition(pos)} (${where}); ${valid.length ? `valid keys are ${valid.join(', ')}` : 'it takes no keys'}`,
        'remove the key or fix its spelling',
      );
    }
  }
}

function typeError(key: string, node: Node, expected: string): KilnError {
  return new KilnError('wrong-type', `'${key}' in ${formatPosition(node.pos)} must be ${expected}, not ${typeName(node)}`);
}

export function expectMap(node: Node, key: string): MapNode {
  if (node.type !== 'map') throw typeError(key, node, 'a mapping');
  return node;
}

export function expectList(node: Node, key: string): ListNode {
  if (node.type !== 'list') throw typeError(key, node, 'a list');
  return node;
}

export function expectScalar(node: Node, key: string): ScalarNode {
  if (node.type !== 'scalar') throw typeError(key, node, 'a string');
  return node;
}

export function optMap(map: MapNode, key: string, label = key): MapNode | undefined {
  const n = map.entries.get(key);
  return n === undefined ? undefined : expectMap(n, label);
}

export function optList(map: MapNode, key: string, label = key): ListNode | undefined {
  const n = map.entries.get(key);
  return n === undefined ? undefined : expectList(n, label);
}

export function optString(map: MapNode, key: string, label = key): ScalarNode | undefined {
  const n = map.entries.get(key);
  return n === undefined ? undefined : expectScalar(n, label);
}

export function requireString(map: MapNode, key: string, where: string): ScalarNode {
  const n = map.entries.get(key);
  if (n === undefined) {
    throw new KilnError('missing-key', `missing required key '${key}' in ${where} (${formatPosition(map.pos)})`, `add '${key}:'`);
  }
  return expectScalar(n, key);
}

/** A list of strings (each item a scalar). */
export function stringList(node: Node, key: string): string[] {
  return expectList(node, key).items.map((item, i) => expectScalar(item, `${key}[${i}]`).value);
}

/** BuildStream booleans: True/true/False/false (2.x also 1/0); anything else is an error. */
export function parseBool(value: string, pos: SourcePosition, key: string): boolean {
  if (value === 'True' || value === 'true' || value === '1') return true;
  if (value === 'False' || value === 'false' || value === '0') return false;
  throw new KilnError('wrong-type', `'${key}' in ${formatPosition(pos)} must be a boolean (True or False), not '${value}'`);
}

export function parseInteger(value: string, pos: SourcePosition, key: string): number {
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new KilnError('wrong-type', `'${key}' in ${formatPosition(pos)} must be an integer, not '${value}'`);
  }
  return Number(value);
}

export function optBool(map: MapNode, key: string, fallback: boolean): boolean {
  const n = optString(map, key);
  return n === undefined ? fallback : parseBool(n.value, n.pos, key);
}

/** A map whose values are all strings (aliases, environment, variables). */
export function stringMap(node: Node, key: string): Map<string, ScalarNode> {
  const m = expectMap(node, key);
  const out = new Map<string, ScalarNode>();
  for (const [k, v] of m.entries) out.set(k, expectScalar(v, `${key}.${k}`));
  return out;
}
