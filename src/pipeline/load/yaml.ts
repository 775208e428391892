import { readFileSync } from 'node:fs';
import type { Document, Node as YNode } from 'yaml';
import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import { noteRead } from './cache.js';
import { fastParseYaml } from './fast-yaml.js';
import { list, mapNode, scalar, type MapNode, type Node } from './node.js';
import { yamlPackage } from './yaml-package.js';

/**
 * YAML loading with BuildStream's rules (docs/format.md#yaml-rules): the failsafe schema, so every scalar is a
 * string (refs like `0123…` stay text); every scalar stripped; `~`, `null` and empty values mean
 * absent; duplicate keys are an error naming both places; the top level is a mapping.
 * Plain block-style files go through a fast reader (fast-yaml.ts) that gives the same nodes; the
 * `yaml` package reads everything else.
 */

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);

function isNullScalar(node: YNode): boolean {
  const { isScalar, Scalar } = yamlPackage();
  return isScalar(node) && node.type === Scalar.PLAIN && NULLS.has(String(node.source ?? node.value ?? ''));
}

export function parseYaml(text: string, file: string): MapNode {
  return fastParseYaml(text, file) ?? parseYamlFull(text, file);
}

/** The full YAML parser (the `yaml` package); `parseYaml` uses it for what the fast reader leaves. */
export function parseYamlFull(text: string, file: string): MapNode {
  const { LineCounter, parseDocument } = yamlPackage();
  const lines = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, lineCounter: lines, prettyErrors: false });
  const at = (offset: number): SourcePosition => {
    const p = lines.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  const top = { file, line: 1, col: 1 };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const first = e.message.split('\n')[0];
    throw new KilnError('yaml-syntax', `invalid YAML in ${formatPosition(at(e.pos[0]))}: ${first}`, 'fix the YAML syntax at that place');
  }
  const root = doc.contents;
  if (root === null || isNullScalar(root as YNode)) return mapNode(new Map(), new Map(), top);
  const node = convert(root as YNode, doc, at, 0);
  if (node.type !== 'map') {
    throw new KilnError(
      'yaml-not-mapping',
      `the top level of ${file} must be a mapping, not ${node.type === 'list' ? 'a list' : 'a string'} (${formatPosition(node.pos)})`,
    );
  }
  return node;
}

function convert(node: YNode, doc: Document, at: (o: number) => SourcePosition, depth: number): Node {
  const { isAlias, isMap, isScalar, isSeq } = yamlPackage();
  if (depth > 200) throw new KilnError('yaml-depth', `YAML nested too deeply at ${formatPosition(at(node.range?.[0] ?? 0))}`);
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (!target) throw new KilnError('yaml-alias', `unknown YAML alias *${node.source} at ${formatPosition(at(node.range?.[0] ?? 0))}`);
    return convert(target as YNode, doc, at, depth + 1);
  }
  const pos = at(node.range?.[0] ?? 0);
  if (isScalar(node)) {
    // Stripped before anything else sees it (block scalars lose their trailing newline).
    return scalar(isNullScalar(node) ? '' : String(node.value ?? '').trim(), pos);
  }
  if (isSeq(node)) {
    return list(
      node.items.map((item) => convert(item as YNode, doc, at, depth + 1)),
      pos,
    );
  }
  if (isMap(node)) {
    const entries = new Map<string, Node>();
    const keyPos = new Map<string, SourcePosition>();
    const nulls = new Map<string, SourcePosition>();
    for (const pair of node.items) {
      const keyNode = pair.key as YNode | null;
      const kpos = at(keyNode?.range?.[0] ?? node.range?.[0] ?? 0);
      if (!keyNode || !isScalar(keyNode)) {
        throw new KilnError('yaml-key', `mapping keys must be plain strings (${formatPosition(kpos)})`);
      }
      const key = String(keyNode.value ?? '').trim();
      const earlier = keyPos.get(key) ?? nulls.get(key);
      if (earlier) {
        throw new KilnError(
          'yaml-duplicate-key',
          `duplicate key '${key}' in ${formatPosition(kpos)} (first defined at ${formatPosition(earlier)})`,
          'remove one of the two definitions',
        );
      }
      const value = pair.value as YNode | null;
      if (value === null || isNullScalar(value)) {
        nulls.set(key, kpos);
        continue;
      }
      keyPos.set(key, kpos);
      entries.set(key, convert(value, doc, at, depth + 1));
    }
    return mapNode(entries, keyPos, pos, nulls);
  }
  throw new KilnError('yaml-node', `unsupported YAML node at ${formatPosition(pos)}`);
}

/** Reads and parses a YAML file; `display` is the name errors use (project-relative). */
export function loadYamlFile(path: string, display: string, what = 'file'): MapNode {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
    noteRead(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KilnError('file-missing', `cannot read ${what} ${display}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`);
  }
  return parseYaml(text, display);
}
