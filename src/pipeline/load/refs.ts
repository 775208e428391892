import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { Document, isMap, isScalar, isSeq, parseDocument, visit, type YAMLMap, type YAMLSeq } from 'yaml';
import { KilnError, formatPosition } from '../../errors.js';
import type { Element, YamlValue } from '../model.js';

/**
 * Writing a tracked ref back (FORMAT.md §0, §6 "Where refs go"). Inline: the `ref` key of the
 * source's mapping in the .bst file is replaced or added by a textual splice at the positions the
 * YAML parser reports, so every other byte (comments, quoting, indentation) stays as it was. With
 * `ref-storage: project.refs`: `projects.<project>.<element>[index].ref` in project.refs, created
 * if missing.
 */

const YAML_11_WORDS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;

/** A YAML scalar or flow collection that reads back as exactly `value` in YAML 1.1 and 1.2. */
export function formatRef(value: YamlValue): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  const plain = /^[A-Za-z0-9_./+-]+$/.test(value) && /[A-DF-Za-df-z]/.test(value) && !YAML_11_WORDS.test(value) && !/^[-+.]/.test(value) && !/^0[xobXOB]/.test(value);
  return plain ? value : JSON.stringify(value);
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

function findMapAt(text: string, offset: number): YAMLMap | undefined {
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false });
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

/** One text edit: replace [start, end) with `insert`. */
interface Edit {
  start: number;
  end: number;
  insert: string;
}

function refEdit(text: string, map: YAMLMap, value: string): Edit {
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value).trim() === 'ref');
  if (pair) {
    const v = pair.value as { range?: [number, number, number] } | null;
    const keyEnd = (pair.key as { range?: [number, number, number] }).range![1];
    if (!v?.range || v.range[0] === v.range[1]) {
      // `ref:` with nothing after it
      const colon = text.indexOf(':', keyEnd);
      return { start: colon + 1, end: colon + 1, insert: ` ${value}` };
    }
    let end = v.range[1];
    // a block scalar's range includes its final line break: keep that
    while (end > v.range[0] && (text[end - 1] === '\n' || text[end - 1] === '\r')) end--;
    return { start: v.range[0], end, insert: value };
  }
  if (map.flow) {
    const close = text.lastIndexOf('}', map.range![1]);
    const inner = text.slice(text.indexOf('{', map.range![0]) + 1, close).trim();
    const at = text.slice(0, close).replace(/\s*$/, '').length;
    return { start: at, end: close, insert: `${inner ? ', ' : ''}ref: ${value}${inner ? ' ' : ''}` };
  }
  const first = map.items[0]!.key as { range?: [number, number, number] };
  const lineStart = text.lastIndexOf('\n', first.range![0] - 1) + 1;
  const indent = ' '.repeat(first.range![0] - lineStart);
  const last = map.items[map.items.length - 1]!;
  const lastNode = (last.value ?? last.key) as { range?: [number, number, number] };
  const p = lastNode.range![1];
  if (p > 0 && text[p - 1] === '\n') return { start: p, end: p, insert: `${indent}ref: ${value}\n` };
  const eol = text.indexOf('\n', p);
  if (eol < 0) return { start: text.length, end: text.length, insert: `\n${indent}ref: ${value}\n` };
  const cut = text[eol - 1] === '\r' ? eol - 1 : eol;
  return { start: cut, end: cut, insert: `${cut === eol ? '\n' : '\r\n'}${indent}ref: ${value}` };
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
  const map = offset >= 0 ? findMapAt(text, offset) : undefined;
  if (!map) {
    throw new KilnError('ref-write', `cannot find source #${index + 1} of ${element.name} at ${formatPosition(source.position)}: the file changed since it was loaded`, 'run the command again');
  }
  const edit = refEdit(text, map, formatRef(ref));
  const out = text.slice(0, edit.start) + edit.insert + text.slice(edit.end);
  // Check before writing: the edited file must parse and hold exactly the new ref there.
  const check = findMapAt(out, offset);
  const got: unknown = check?.get('ref', true);
  const expected = typeof ref === 'string' ? ref : JSON.stringify(ref);
  const actual = got === undefined ? undefined : isScalar(got) ? String(got.value).trim() : JSON.stringify((got as { toJSON(): unknown }).toJSON());
  if (actual !== expected) {
    throw new KilnError('ref-write', `internal error: writing the ref of source #${index + 1} into ${display} would not read back (got ${actual})`);
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

function writeProjectRefs(element: Element, index: number, ref: YamlValue): string {
  const file = element.project.refsFile;
  const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : new Document({ projects: {} });
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
  (entry as YAMLMap).set('ref', doc.createNode(ref));
  // an empty mapping is created in flow style ({}); once it has a key, write it as a block
  (entry as YAMLMap).flow = false;
  atomicWrite(file, String(doc));
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

