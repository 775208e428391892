import type { SourcePosition } from '../../errors.js';
import type { YamlMap, YamlValue } from '../model.js';

/**
 * A loaded YAML value with provenance: every scalar is a string (docs/format.md#yaml-rules) and every node
 * remembers where it was written, so composition, validation and variable errors can say
 * file:line:col. Nodes are never mutated once built: composition makes new maps and shares
 * unchanged subtrees.
 */
export type Node = ScalarNode | ListNode | MapNode;

export interface ScalarNode {
  readonly type: 'scalar';
  readonly value: string;
  readonly pos: SourcePosition;
}

export interface ListNode {
  readonly type: 'list';
  readonly items: readonly Node[];
  readonly pos: SourcePosition;
}

export interface MapNode {
  readonly type: 'map';
  readonly entries: ReadonlyMap<string, Node>;
  /** Where each key was written. */
  readonly keyPos: ReadonlyMap<string, SourcePosition>;
  /**
   * Keys written with a null value (`~`, `null`, empty). They count as absent everywhere
   * except where a kind gives null a meaning of its own (tar's `base-dir`).
   */
  readonly nulls?: ReadonlyMap<string, SourcePosition>;
  readonly pos: SourcePosition;
}

export function scalar(value: string, pos: SourcePosition): ScalarNode {
  return { type: 'scalar', value, pos };
}

export function list(items: readonly Node[], pos: SourcePosition): ListNode {
  return { type: 'list', items, pos };
}

export function mapNode(
  entries: ReadonlyMap<string, Node>,
  keyPos: ReadonlyMap<string, SourcePosition>,
  pos: SourcePosition,
  nulls?: ReadonlyMap<string, SourcePosition>,
): MapNode {
  return nulls && nulls.size ? { type: 'map', entries, keyPos, pos, nulls } : { type: 'map', entries, keyPos, pos };
}

export function emptyMap(pos: SourcePosition): MapNode {
  return mapNode(new Map(), new Map(), pos);
}

/** A map with some keys replaced or removed (undefined removes). */
export function withEntries(map: MapNode, changes: Record<string, Node | undefined>): MapNode {
  const entries = new Map(map.entries);
  const keyPos = new Map(map.keyPos);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) {
      entries.delete(k);
      keyPos.delete(k);
    } else {
      entries.set(k, v);
      if (!keyPos.has(k)) keyPos.set(k, v.pos);
    }
  }
  return mapNode(entries, keyPos, map.pos, map.nulls);
}

export function typeName(node: Node): string {
  return node.type === 'scalar' ? 'a string' : node.type === 'list' ? 'a list' : 'a mapping';
}

/** Drops provenance: the plain form the model hands downstream. */
export function toPlain(node: Node): YamlValue {
  if (node.type === 'scalar') return node.value;
  if (node.type === 'list') return node.items.map(toPlain);
  const out: YamlMap = {};
  for (const [k, v] of node.entries) out[k] = toPlain(v);
  return out;
}

export function toPlainMap(node: MapNode): YamlMap {
  return toPlain(node) as YamlMap;
}

/** Records where every value under `node` was written, as dotted paths (list items by index). */
export function collectPositions(node: Node, prefix: string, out: Map<string, SourcePosition>): void {
  out.set(prefix, node.pos);
  if (node.type === 'list') node.items.forEach((item, i) => collectPositions(item, `${prefix}.${i}`, out));
  else if (node.type === 'map') for (const [k, v] of node.entries) collectPositions(v, `${prefix}.${k}`, out);
}
