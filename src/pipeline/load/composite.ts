import { KilnError, formatPosition } from '../../errors.js';
import { list, mapNode, typeName, type ListNode, type MapNode, type Node } from './node.js';

/**
 * Composition (docs/format.md#composition): composite S onto T, S wins. Mappings merge recursively, scalars and
 * plain lists replace, a scalar never replaces a collection (or the other way round), and the list
 * directives `(<)` prepend, `(>)` append, `(=)` replace. A directive mapping with nothing under it
 * is kept so that a later composition can apply it; `checkNoDirectives` rejects what is left at the
 * end ("Attempt to override non-existing list"). Two `(?)` lists are joined, not replaced.
 */

export const DIRECTIVES = ['(<)', '(>)', '(=)'] as const;
type Directive = (typeof DIRECTIVES)[number];

/** True for a list-directive mapping; a mapping that mixes directives and other keys is an error. */
export function isDirectiveMap(node: Node, path: string): boolean {
  if (node.type !== 'map' || node.entries.size === 0) return false;
  let directives = 0;
  for (const [k, v] of node.entries) {
    if ((DIRECTIVES as readonly string[]).includes(k)) {
      directives++;
      if (v.type !== 'list') {
        throw new KilnError('bad-directive', `list directive '${k}' of '${path}' in ${formatPosition(v.pos)} must be followed by a list, not ${typeName(v)}`);
      }
    }
  }
  if (directives === 0) return false;
  if (directives !== node.entries.size) {
    const other = [...node.entries.keys()].find((k) => !(DIRECTIVES as readonly string[]).includes(k))!;
    throw new KilnError(
      'bad-directive',
      `'${path}' in ${formatPosition(node.pos)} mixes list directives with the key '${other}' (at ${formatPosition(node.keyPos.get(other)!)})`,
      'a mapping holding (<), (>) or (=) may hold nothing else',
    );
  }
  return true;
}

function items(map: MapNode, d: Directive): readonly Node[] | undefined {
  const n = map.entries.get(d);
  return n === undefined ? undefined : (n as ListNode).items;
}

function applyDirectives(target: ListNode, source: MapNode): ListNode {
  const base = items(source, '(=)') ?? target.items;
  return list([...(items(source, '(<)') ?? []), ...base, ...(items(source, '(>)') ?? [])], source.pos);
}

function mergeDirectives(target: MapNode, source: MapNode): MapNode {
  const entries = new Map<string, Node>();
  const eq = items(source, '(=)');
  const tPre = eq ? [] : (items(target, '(<)') ?? []);
  const tPost = eq ? [] : (items(target, '(>)') ?? []);
  const tEq = items(target, '(=)');
  const sPre = items(source, '(<)') ?? [];
  const sPost = items(source, '(>)') ?? [];
  if (eq) entries.set('(=)', list(eq, source.entries.get('(=)')!.pos));
  else if (tEq) entries.set('(=)', target.entries.get('(=)')!);
  if (sPre.length || tPre.length) entries.set('(<)', list([...sPre, ...tPre], source.pos));
  if (sPost.length || tPost.length) entries.set('(>)', list([...tPost, ...sPost], source.pos));
  return mapNode(entries, new Map([...entries].map(([k, v]) => [k, v.pos])), source.pos);
}

function conflict(path: string, source: Node, target: Node): KilnError {
  return new KilnError(
    'composite-type',
    `cannot compose '${path}': ${formatPosition(source.pos)} gives ${typeName(source)} where ${formatPosition(target.pos)} has ${typeName(target)}`,
    'a string can only replace a string, a list a list, and a mapping merges with a mapping',
  );
}

/** The value of composing `source` onto `target` (either may be shared; neither is changed). */
export function compositeValue(target: Node | undefined, source: Node, path: string): Node {
  if (source.type === 'map') {
    if (isDirectiveMap(source, path)) {
      if (target === undefined) return source;
      if (target.type === 'list') return applyDirectives(target, source);
      if (target.type === 'map' && isDirectiveMap(target, path)) return mergeDirectives(target, source);
      throw conflict(path, source, target);
    }
    if (target === undefined) return source;
    if (target.type === 'map' && !isDirectiveMap(target, path)) return composite(target, source, path);
    throw conflict(path, source, target);
  }
  if (target === undefined) return source;
  if (source.type === 'list') {
    if (target.type === 'list' || isDirectiveMap(target, path)) return source;
    throw conflict(path, source, target);
  }
  if (target.type !== 'scalar') throw conflict(path, source, target);
  return source;
}

/** Composites mapping `source` onto mapping `target`; `path` names the mapping in errors. */
export function composite(target: MapNode, source: MapNode, path = ''): MapNode {
  if (source.entries.size === 0 && !source.nulls) return target;
  const entries = new Map(target.entries);
  const keyPos = new Map(target.keyPos);
  for (const [k, v] of source.entries) {
    const t = target.entries.get(k);
    // Conditionals not yet resolved (project.conf's includes) are all kept, the source's last.
    if (k === '(?)' && t?.type === 'list' && v.type === 'list') entries.set(k, list([...t.items, ...v.items], v.pos));
    else entries.set(k, compositeValue(t, v, path ? `${path}.${k}` : k));
    keyPos.set(k, source.keyPos.get(k)!);
  }
  const nulls = new Map(target.nulls ?? []);
  for (const [k, p] of source.nulls ?? []) if (!entries.has(k)) nulls.set(k, p);
  return mapNode(entries, keyPos, target.pos, nulls);
}

/** Rejects list directives that never found a list to apply to. */
export function checkNoDirectives(node: Node, path: string): void {
  if (node.type === 'list') node.items.forEach((item, i) => checkNoDirectives(item, `${path}[${i}]`));
  else if (node.type === 'map') {
    if (isDirectiveMap(node, path)) {
      throw new KilnError(
        'composite-missing-list',
        `Attempt to override non-existing list '${path}' in ${formatPosition(node.pos)}`,
        '(<), (>) and (=) extend or replace a list defined earlier (defaults, project.conf or an include); give a plain list instead',
      );
    }
    for (const [k, v] of node.entries) checkNoDirectives(v, path ? `${path}.${k}` : k);
  }
}
