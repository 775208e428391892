import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { Document, Node as YNode, YAMLMap, YAMLSeq } from 'yaml';
import { KilnError, formatPosition } from '../../errors.js';
import type { Element, YamlValue } from '../model.js';
import { yamlPackage } from './yaml-package.js';

/**
 * Writing a tracked ref back (docs/format.md#refs). Inline: the `ref` key of the
 * source's mapping in the .bst file is replaced or added by a textual splice at the positions the
 * YAML parser reports, so every other byte (comments, quoting, indentation, line ends) stays as it
 * was; lists and maps are written in block style in a block mapping, in flow style in a flow one.
 * With `ref-storage: project.refs`: `projects.<project>.<element>[index].ref` in project.refs,
 * created if missing.
 */

const YAML_11_WORDS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;

/** Characters JSON leaves raw but YAML does not allow raw (or would strip/misread): written as escapes. */
const YAML_UNSAFE_RAW = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

function isPlainSafe(value: string): boolean {
  return /^[A-Za-z0-9_./+-]+$/.test(value) && /[A-DF-Za-df-z]/.test(value) && !YAML_11_WORDS.test(value) && !/^[-+.]/.test(value) && !/^0[xobXOB]/.test(value);
}

/** A YAML scalar or flow collection that reads back as exactly `value` in YAML 1.1 and 1.2. */
export function formatRef(value: YamlValue): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  if (isPlainSafe(value)) return value;
  // JSON strings are YAML double-quoted scalars, but for a few characters YAML wants escaped.
  return JSON.stringify(value).replace(YAML_UNSAFE_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `value` in YAML flow style (`[a, "3.1"]`, `{package: a, version: "3.1"}`): for flow mappings and one-line values. */
function flowRef(value: YamlValue): string {
  if (typeof value === 'string') return formatRef(value);
  if (Array.isArray(value)) return `[${value.map(flowRef).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${formatRef(k)}: ${flowRef(v)}`)
    .join(', ')}}`;
}

/** How the file indents block collections, measured from what it already has. */
interface BlockStyle {
  /** Columns a sequence under a key is indented past the key (0: `key:\n- a`, as BuildStream writes). */
  seq: number;
  /** Columns a mapping under a key is indented past the key. */
  map: number;
  /** Columns from a sequence's `-` to its item's content (2: `- a`). */
  item: number;
}

const isBlockCollection = (v: YamlValue): v is YamlValue[] | { [key: string]: YamlValue } =>
  typeof v !== 'string' && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);

/**
 * The lines (with indentation, without line ends) of a non-empty list or map written in block
 * style with its items at column `col`. Scalars and empty collections go on their key's line.
 */
function blockLines(value: YamlValue[] | { [key: string]: YamlValue }, col: number, style: BlockStyle): string[] {
  const pad = ' '.repeat(col);
  const out: string[] = [];
  if (Array.isArray(value)) {
    const dash = `${pad}-${' '.repeat(style.item - 1)}`;
    for (const item of value) {
      if (!isBlockCollection(item)) {
        out.push(`${dash}${flowRef(item)}`);
        continue;
      }
      // a compact nested collection: its first line goes after the dash
      const inner = blockLines(item, col + style.item, style);
      out.push(dash + inner[0]!.slice(col + style.item), ...inner.slice(1));
    }
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    const key = `${pad}${formatRef(k)}:`;
    if (!isBlockCollection(v)) out.push(`${key} ${flowRef(v)}`);
    else out.push(key, ...blockLines(v, col + (Array.isArray(v) ? style.seq : style.map), style));
  }
  return out;
}

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.kiln-tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function offsetOf(text: string, line: number, col: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return -1;
    off = nl + 1;
  }
  return off + col - 1;
}

function positionAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

function lineStartOf(text: string, p: number): number {
  return text.lastIndexOf('\n', p - 1) + 1;
}

/** The end of the line holding `p`, before its `\n` or `\r\n`. */
function lineEndOf(text: string, p: number): number {
  let e = text.indexOf('\n', p);
  if (e < 0) return text.length;
  if (e > p && text[e - 1] === '\r') e--;
  return e;
}

const columnOf = (text: string, p: number): number => p - lineStartOf(text, p);

type Range = [number, number, number];
const rangeOf = (node: unknown): Range | undefined => (node as { range?: Range | null } | null)?.range ?? undefined;

function parseFailsafe(text: string): Document.Parsed {
  const { parseDocument } = yamlPackage();
  return parseDocument(text, { schema: 'failsafe', uniqueKeys: false });
}

function findMapAt(doc: Document.Parsed, offset: number): YAMLMap | undefined {
  const { visit } = yamlPackage();
  let found: YAMLMap | undefined;
  visit(doc, {
    Map(_key, node) {
      if (node.range?.[0] === offset) {
        found = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** The colon after a key, or -1 (`{kind: tar, ref}` has none). */
function colonAfter(text: string, keyEnd: number): number {
  const m = /^[ \t]*:/.exec(text.slice(keyEnd, keyEnd + 200));
  return m ? keyEnd + m[0].length - 1 : -1;
}

/**
 * Where `node`'s own text ends: the end of its last scalar, flow collection or empty value. A block
 * collection's parser range runs on past its last line break, over a trailing comment on that
 * line, and (in range[2]) over the comment lines after it: those belong to what follows, so the
 * end is found from the last item instead.
 */
function contentEnd(text: string, node: unknown): number {
  const { isMap, isPair, isSeq } = yamlPackage();
  if ((isMap(node) || isSeq(node)) && !node.flow && node.items.length > 0) {
    const last: unknown = node.items[node.items.length - 1];
    if (isPair(last)) {
      const v = rangeOf(last.value);
      if (v && v[1] > v[0]) return contentEnd(text, last.value);
      const keyEnd = rangeOf(last.key)![1];
      const colon = colonAfter(text, keyEnd);
      return colon < 0 ? keyEnd : colon + 1;
    }
    return contentEnd(text, last);
  }
  const r = rangeOf(node)!;
  let end = r[1];
  // a block scalar's range includes its final line break(s)
  while (end > r[0] && (text[end - 1] === '\n' || text[end - 1] === '\r')) end--;
  return end;
}

function detectStyle(doc: Document.Parsed, text: string): BlockStyle {
  const { isMap, isSeq, visit } = yamlPackage();
  let seq: number | undefined;
  let map: number | undefined;
  let item: number | undefined;
  visit(doc, {
    Pair(_key, pair) {
      const k = rangeOf(pair.key);
      const v = rangeOf(pair.value);
      if (!k || !v || (!isSeq(pair.value) && !isMap(pair.value)) || pair.value.flow) return undefined;
      if (!text.slice(k[0], v[0]).includes('\n')) return undefined; // a compact value: not an indentation
      const d = columnOf(text, v[0]) - columnOf(text, k[0]);
      if (isSeq(pair.value) && seq === undefined && d >= 0) seq = d;
      if (isMap(pair.value) && map === undefined && d >= 1) map = d;
      return undefined;
    },
    Seq(_key, node) {
      const first = rangeOf(node.items[0]);
      const at = rangeOf(node);
      if (item !== undefined || node.flow || !first || !at || text.slice(at[0], first[0]).includes('\n')) return undefined;
      const d = first[0] - at[0];
      if (d >= 2 && text[at[0]] === '-') item = d;
      return undefined;
    },
  });
  // no nested mapping to measure: a file that writes `-   item` likely indents by 4 too
  return { seq: seq ?? 0, map: map ?? item ?? 2, item: item ?? 2 };
}

/** One text edit: replace [start, end) with `insert`. */
interface Edit {
  start: number;
  end: number;
  insert: string;
}

/** The comment at the end of `rest` (the text after a key's colon, up to the line end) with the blanks before it, or ''. */
function trailingComment(rest: string): string {
  return /[ \t]+#.*$/.exec(rest)?.[0] ?? '';
}

/**
 * The edit that sets `ref` in `map`. The text replaced is the old value's own text: for a value
 * on the key's line (scalar, flow collection, block scalar header) from its first character, for a
 * block collection from the start of its first line, in both cases to the end of its content as
 * `contentEnd` finds it, so comment lines after the old value stay where they are. A comment
 * after a one-line value, or after the `ref:` of a block one, stays on the key's line.
 */
function refEdit(text: string, doc: Document.Parsed, map: YAMLMap, ref: YamlValue): Edit {
  const { isScalar } = yamlPackage();
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value).trim() === 'ref');
  if (map.flow) {
    const value = flowRef(ref);
    if (pair) {
      const keyEnd = rangeOf(pair.key)![1];
      const v = rangeOf(pair.value);
      if (!v || v[0] === v[1]) {
        const colon = colonAfter(text, keyEnd);
        return colon < 0 ? { start: keyEnd, end: keyEnd, insert: `: ${value}` } : { start: colon + 1, end: colon + 1, insert: ` ${value}` };
      }
      return { start: v[0], end: contentEnd(text, pair.value), insert: value };
    }
    const close = text.lastIndexOf('}', map.range![1]);
    const inner = text.slice(text.indexOf('{', map.range![0]) + 1, close).trim();
    const at = text.slice(0, close).replace(/\s*$/, '').length;
    return { start: at, end: close, insert: `${inner ? ', ' : ''}ref: ${value}${inner ? ' ' : ''}` };
  }

  const block = isBlockCollection(ref);
  const style = block ? detectStyle(doc, text) : { seq: 0, map: 2, item: 2 };
  const key = pair ? rangeOf(pair.key)! : rangeOf(map.items[0]!.key)!;
  const col = columnOf(text, key[0]);
  const lines = block ? blockLines(ref, col + (Array.isArray(ref) ? style.seq : style.map), style) : [];
  const inline = block ? '' : flowRef(ref);

  if (!pair) {
    // after the last key's value, at the first key's indentation
    const e = lineEndOf(text, contentEnd(text, map));
    const added = block ? [`${' '.repeat(col)}ref:`, ...lines] : [`${' '.repeat(col)}ref: ${inline}`];
    return { start: e, end: e, insert: nl + added.join(nl) + (e === text.length ? nl : '') };
  }
  const colon = colonAfter(text, key[1]);
  if (colon < 0) throw new KilnError('ref-write', 'a `ref` key without a colon in a block mapping');
  const afterColon = colon + 1;
  const keyLineEnd = lineEndOf(text, afterColon);
  const v = rangeOf(pair.value);
  if (!v || v[0] === v[1]) {
    // `ref:` with nothing (maybe a comment) after it
    return block ? { start: keyLineEnd, end: keyLineEnd, insert: nl + lines.join(nl) } : { start: afterColon, end: afterColon, insert: ` ${inline}` };
  }
  const end = contentEnd(text, pair.value);
  if (!text.slice(afterColon, v[0]).includes('\n')) {
    // the old value starts on the key's line
    if (!block) return { start: v[0], end, insert: inline };
    const e = lineEndOf(text, end);
    return { start: afterColon, end: e, insert: text.slice(end, e) + nl + lines.join(nl) };
  }
  // the old value is a block collection on the lines below the key
  const e = lineEndOf(text, end);
  if (block) return { start: lineStartOf(text, v[0]), end: e, insert: lines.join(nl) };
  return { start: afterColon, end: e, insert: ` ${inline}${trailingComment(text.slice(afterColon, keyLineEnd))}` };
}

function shorten(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/**
 * Why `out` (the edited text) is not `text` with just the ref of the mapping at `offset` set to
 * `ref`, or undefined when it is. Compares parsed structures, so quoting or indentation mistakes
 * cannot pass unnoticed: the new ref must read back as `ref`, and everything else as before.
 */
function readBackProblem(text: string, out: string, offset: number, ref: YamlValue): string | undefined {
  try {
    return compareEdit(text, out, offset, ref);
  } catch (e) {
    return `reading it back failed (${(e as Error).message.split('\n')[0]})`;
  }
}

function compareEdit(text: string, out: string, offset: number, ref: YamlValue): string | undefined {
  const after = parseFailsafe(out);
  if (after.errors.length) return `the edited file is not valid YAML (${after.errors[0]!.message.split('\n')[0]})`;
  const map = findMapAt(after, offset);
  if (!map) return 'the source mapping is no longer where it was';
  const node: unknown = map.get('ref', true);
  const got = node === undefined ? undefined : JSON.stringify((node as YNode).toJSON());
  const expected = JSON.stringify(ref);
  if (got !== expected) return `the ref reads back as ${shorten(String(got))}, not ${shorten(expected)}`;
  const before = parseFailsafe(text);
  findMapAt(before, offset)?.delete('ref');
  map.delete('ref');
  if (JSON.stringify(before.toJS()) !== JSON.stringify(after.toJS())) return 'the edit changed something besides the ref';
  return undefined;
}

function writeInline(element: Element, index: number, ref: YamlValue): string {
  const source = element.sources[index]!;
  const display = relative(element.project.directory, element.file).split(sep).join('/');
  if (source.position.file !== display) {
    throw new KilnError(
      'ref-include',
      `source #${index + 1} of ${element.name} is declared in ${formatPosition(source.position)}, not in ${display}; kiln writes refs only into the element's own file`,
      'move the source into the .bst file or use ref-storage: project.refs',
    );
  }
  const text = readFileSync(element.file, 'utf8');
  const offset = offsetOf(text, source.position.line, source.position.col);
  const doc = parseFailsafe(text);
  const map = offset >= 0 ? findMapAt(doc, offset) : undefined;
  if (!map) {
    throw new KilnError(
      'ref-write',
      `cannot find source #${index + 1} of ${element.name} at ${formatPosition(source.position)}: the file changed since it was loaded`,
      'run the command again',
    );
  }
  const edit = refEdit(text, doc, map, ref);
  const out = text.slice(0, edit.start) + edit.insert + text.slice(edit.end);
  // Check before writing: the edited file must parse and differ from the old one only in this ref.
  const problem = readBackProblem(text, out, offset, ref);
  if (problem) {
    throw new KilnError(
      'ref-write',
      `internal error: writing the ref of source #${index + 1} into ${display} would not read back: ${problem}; the file was left unchanged`,
      `set the ref by hand or use ref-storage: project.refs; the edit was lines ${positionAt(text, edit.start).line}-${positionAt(text, edit.end).line} -> ${JSON.stringify(shorten(edit.insert))}`,
    );
  }
  atomicWrite(element.file, out);
  // Later sources of the same file moved: keep their positions true for the next write.
  for (const other of element.sources) {
    if (other === source || other.position.file !== display) continue;
    const at = offsetOf(text, other.position.line, other.position.col);
    if (at >= edit.end) other.position = { file: display, ...positionAt(out, at + edit.insert.length - (edit.end - edit.start)) };
  }
  return element.file;
}

/** A node for `value` whose strings are plain or double-quoted by formatRef's rules (so "3.134" stays a string for every reader). */
function refNode(doc: Document, value: YamlValue): YNode {
  const { Pair, Scalar, YAMLMap, YAMLSeq } = yamlPackage();
  if (typeof value === 'string') {
    const s = new Scalar(value);
    s.type = isPlainSafe(value) ? Scalar.PLAIN : Scalar.QUOTE_DOUBLE;
    return s;
  }
  if (Array.isArray(value)) {
    const seq = new YAMLSeq(doc.schema);
    for (const item of value) seq.items.push(refNode(doc, item));
    return seq;
  }
  const map = new YAMLMap(doc.schema);
  for (const [k, v] of Object.entries(value)) map.items.push(new Pair(refNode(doc, k), refNode(doc, v)));
  return map;
}

function writeProjectRefs(element: Element, index: number, ref: YamlValue): string {
  const { Document, isMap, isSeq, parseDocument } = yamlPackage();
  const file = element.project.refsFile;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  // failsafe: every other ref keeps its exact text (the core schema would rewrite 0123 as 123)
  const doc = text !== undefined ? parseDocument(text, { schema: 'failsafe' }) : new Document({ projects: {} }, { schema: 'failsafe' });
  if (doc.errors.length) throw new KilnError('yaml-syntax', `invalid YAML in project.refs: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (!isMap(doc.contents)) doc.contents = doc.createNode({ projects: {} }) as unknown as typeof doc.contents;
  const path = ['projects', element.project.name, element.name];
  let seq = doc.getIn(path, true);
  if (!isSeq(seq)) {
    doc.setIn(path, doc.createNode([]));
    seq = doc.getIn(path, true);
  }
  const items = (seq as YAMLSeq).items;
  while (items.length <= index) items.push(doc.createNode({}));
  let entry = items[index];
  if (!isMap(entry)) {
    entry = doc.createNode({});
    items[index] = entry;
  }
  const node = refNode(doc, ref);
  // a comment on the old value's line (`ref: abc  # note`) stays with the entry
  const old: unknown = (entry as YAMLMap).get('ref', true);
  if (old && typeof old === 'object' && 'comment' in old && typeof old.comment === 'string') node.comment = old.comment;
  (entry as YAMLMap).set('ref', node);
  // an empty mapping is created in flow style ({}); once it has a key, write it as a block
  (entry as YAMLMap).flow = false;
  // BuildStream writes sequences unindented under their key; follow the file if it indents them
  const indentSeq = text !== undefined && /^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1 +- /m.test(text) && !/^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1- /m.test(text);
  let out = doc.toString({ lineWidth: 0, indentSeq });
  if (text?.includes('\r\n')) out = out.replace(/\r?\n/g, '\r\n');
  const check = parseDocument(out, { schema: 'failsafe' });
  const stored: unknown = check.errors.length ? undefined : check.getIn([...path, index, 'ref'], true);
  const got = stored === undefined ? undefined : JSON.stringify((stored as YNode).toJSON());
  if (got !== JSON.stringify(ref)) {
    throw new KilnError(
      'ref-write',
      `internal error: the ref of source #${index + 1} of ${element.name} would not read back from project.refs (got ${shorten(String(got))}); the file was left unchanged`,
    );
  }
  atomicWrite(file, out);
  return file;
}

/**
 * Stores a new ref for source `sourceIndex` of `element` where the project keeps refs, and updates
 * the loaded SourceDecl. Returns the file written.
 */
export function writeSourceRef(element: Element, sourceIndex: number, ref: YamlValue): string {
  const source = element.sources[sourceIndex];
  if (!source) throw new KilnError('ref-write', `${element.name} has no source #${sourceIndex + 1}`);
  const file = element.project.refStorage === 'project.refs' ? writeProjectRefs(element, sourceIndex, ref) : writeInline(element, sourceIndex, ref);
  source.ref = ref;
  return file;
}
