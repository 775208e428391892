import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import { list, mapNode, scalar, type MapNode, type Node } from './node.js';

/**
 * A fast reader for the block-style YAML that .bst files and project.conf are written in: block
 * mappings and sequences, plain scalars (folded over several lines), one-line quoted scalars,
 * `|` literal blocks, empty `[]` and `{}`, comments. It returns undefined for anything else (flow collections,
 * anchors, tags, `>` blocks, escapes, tabs, documents markers…), and the caller then uses the
 * full YAML parser; a differential test checks both give the same nodes and positions.
 */

interface Line {
  /** 1-based line number. */
  no: number;
  indent: number;
  /** Text after the indentation (not empty, not a comment). */
  text: string;
}

class Unsupported extends Error {}

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);

function unsupported(): never {
  throw new Unsupported();
}

/** Cuts a trailing ` # comment`; quotes are handled by the callers before this. */
function cutComment(s: string): string {
  const i = s.search(/\s#/);
  return i < 0 ? s : s.slice(0, i);
}

export function fastParseYaml(text: string, file: string): MapNode | undefined {
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  const raw = text.split('\n');
  const lines: Line[] = [];
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i]!;
    const t = s.trimStart();
    if (t === '' || t.startsWith('#')) continue;
    if (s.startsWith('---') || s.startsWith('...') || s.startsWith('%')) return undefined;
    lines.push({ no: i + 1, indent: s.length - t.length, text: t.trimEnd() });
  }
  const top: SourcePosition = { file, line: 1, col: 1 };
  if (lines.length === 0) return mapNode(new Map(), new Map(), top);
  let p = 0;
  const pos = (line: Line, extra = 0): SourcePosition => ({ file, line: line.no, col: line.indent + extra + 1 });

  // A scalar that starts on `line` at column offset `off` within line.text.
  const scalarAt = (line: Line, off: number, parentIndent: number): Node => {
    const s = line.text.slice(off);
    const at = pos(line, off);
    const c = s[0]!;
    if (c === "'" || c === '"') {
      if (c === '"' && s.includes('\\')) unsupported();
      let i = 1;
      let out = '';
      for (;;) {
        if (i >= s.length) unsupported(); // multi-line quoted
        if (s[i] === c) {
          if (c === "'" && s[i + 1] === "'") {
            out += "'";
            i += 2;
            continue;
          }
          break;
        }
        out += s[i];
        i++;
      }
      const rest = s.slice(i + 1);
      if (rest.trim() !== '' && !/^\s+#/.test(rest)) unsupported();
      p++;
      return scalar(out.trim(), at);
    }
    if (c === '|') {
      if (!/^\|[+-]?(\s+#.*)?$/.test(s)) unsupported();
      p++;
      // Content lines come from `raw`: lines that look like comments are content inside a block.
      const first = lines[p];
      const body: string[] = [];
      const indentOf = (n: number): number => raw[n - 1]!.length - raw[n - 1]!.trimStart().length;
      const blank = (n: number): boolean => raw[n - 1]!.trim() === '';
      if (first && first.indent > parentIndent) {
        const blockIndent = first.indent;
        for (let n = line.no + 1; n < first.no; n++) if (!blank(n)) unsupported();
        let lastNo = line.no;
        while (p < lines.length && lines[p]!.indent > parentIndent) {
          const l = lines[p]!;
          if (l.indent < blockIndent) unsupported();
          for (let n = lastNo + 1; n < l.no; n++) {
            if (!blank(n) && indentOf(n) < blockIndent) unsupported();
            body.push(raw[n - 1]!.slice(blockIndent));
          }
          body.push(raw[l.no - 1]!.slice(blockIndent));
          lastNo = l.no;
          p++;
        }
        // trailing comment-looking lines at the block's indentation are content too
        const end = p < lines.length ? lines[p]!.no : raw.length + 1;
        for (let n = lastNo + 1; n < end; n++) {
          if (!blank(n) && indentOf(n) < blockIndent) break;
          body.push(raw[n - 1]!.slice(blockIndent));
        }
      } else {
        // an empty block: only blank or less-indented comment lines may follow
        const end = first ? first.no : raw.length + 1;
        for (let n = line.no + 1; n < end; n++) if (!blank(n) && indentOf(n) > parentIndent) unsupported();
      }
      return scalar(body.join('\n').trim(), at);
    }
    if ((c === '[' || c === '{') && /^(\[\]|\{\})(\s+#.*)?$/.test(s)) {
      // the empty flow collections that defaults use
      p++;
      return c === '[' ? list([], at) : mapNode(new Map(), new Map(), at);
    }
    if ('[{&*!>%@`'.includes(c) || s.startsWith('- ') || s === '-' || s.startsWith('? ') || s.startsWith(': ')) unsupported();
    let value = cutComment(s);
    if (/:(\s|$)/.test(value)) unsupported();
    const startLine = line.no;
    p++;
    // folded continuation lines of a plain scalar
    let lastNo = startLine;
    while (p < lines.length && lines[p]!.indent > parentIndent) {
      const l = lines[p]!;
      if (s.includes(' #')) unsupported(); // a comment ends a plain scalar
      const t = cutComment(l.text);
      if (t !== l.text || /:(\s|$)/.test(t) || l.text.startsWith('#')) unsupported();
      const blanks = l.no - lastNo - 1;
      for (let n = lastNo + 1; n < l.no; n++) if (raw[n - 1]!.trim().startsWith('#')) unsupported();
      value = value.trimEnd() + (blanks > 0 ? '\n'.repeat(blanks) : ' ') + t.trim();
      lastNo = l.no;
      p++;
    }
    const v = value.trim();
    return scalar(NULLS.has(v) && lastNo === startLine ? '' : v, at);
  };

  // The value after `key:` (rest of the line from `off`), or a nested block below.
  const valueOf = (line: Line, off: number, indent: number, seqAtSameIndent: boolean): Node | null => {
    const rest = line.text.slice(off);
    if (rest.trim() === '' || /^\s+#/.test(rest) || rest.trim().startsWith('#')) {
      p++;
      const next = lines[p];
      if (next && (next.indent > indent || (seqAtSameIndent && next.indent === indent && (next.text === '-' || next.text.startsWith('- '))))) {
        return block(next.indent);
      }
      return null;
    }
    const lead = rest.length - rest.trimStart().length;
    const node = scalarAt(line, off + lead, indent);
    if (node.type === 'scalar' && node.value === '' && NULLS.has(cutComment(rest).trim())) return null;
    return node;
  };

  const mapping = (indent: number, firstLine: Line, firstOff: number): MapNode => {
    const entries = new Map<string, Node>();
    const keyPos = new Map<string, SourcePosition>();
    const nulls = new Map<string, SourcePosition>();
    let mapPos: SourcePosition | undefined;
    let line: Line | undefined = firstLine;
    let off = firstOff;
    while (line) {
      const s = line.text.slice(off);
      const m = /^([^\s'"[\]{}#&*!|>%@`,?:-][^:#]*?|-[^\s:#][^:#]*?)\s*:(\s|$)/.exec(s);
      if (!m) unsupported();
      const key = m[1]!.trim();
      const kpos = pos(line, off);
      mapPos ??= kpos;
      const earlier = keyPos.get(key) ?? nulls.get(key);
      if (earlier) {
        throw new KilnError(
          'yaml-duplicate-key',
          `duplicate key '${key}' in ${formatPosition(kpos)} (first defined at ${formatPosition(earlier)})`,
          'remove one of the two definitions',
        );
      }
      const value = valueOf(line, off + m[0].length - (m[2] ? 1 : 0), indent, true);
      if (value === null) nulls.set(key, kpos);
      else {
        entries.set(key, value);
        keyPos.set(key, kpos);
      }
      const next = lines[p];
      if (!next || next.indent < indent) break;
      if (next.indent > indent) unsupported();
      // a sequence entry where a key belongs: not valid YAML, let the full parser report it
      if (next.text === '-' || next.text.startsWith('- ')) unsupported();
      line = next;
      off = 0;
    }
    return mapNode(entries, keyPos, mapPos!, nulls);
  };

  const sequence = (indent: number): Node => {
    const items: Node[] = [];
    const seqPos = pos(lines[p]!);
    while (p < lines.length && lines[p]!.indent === indent && (lines[p]!.text === '-' || lines[p]!.text.startsWith('- '))) {
      const line = lines[p]!;
      if (line.text === '-') unsupported();
      const rest = line.text.slice(2);
      const lead = rest.length - rest.trimStart().length;
      const off = 2 + lead;
      const t = line.text.slice(off);
      if (t === '' || t.startsWith('#') || t.startsWith('- ') || t === '-') unsupported();
      if (/^([^\s'"[\]{}#&*!|>%@`,?:-][^:#]*?|-[^\s:#][^:#]*?)\s*:(\s|$)/.test(t)) {
        // a mapping that starts on the item's line: its keys sit at this column
        const itemIndent = indent + off;
        const virtual: Line = { no: line.no, indent: itemIndent, text: t };
        lines[p] = virtual;
        items.push(mapping(itemIndent, virtual, 0));
      } else {
        const v = scalarAt({ no: line.no, indent: indent + off, text: t }, 0, indent);
        items.push(v);
      }
      const next = lines[p];
      if (!next || next.indent < indent) break;
      if (next.indent > indent) unsupported();
    }
    return list(items, seqPos);
  };

  const block = (indent: number): Node => {
    const line = lines[p]!;
    if (line.indent !== indent) unsupported();
    if (line.text === '-' || line.text.startsWith('- ')) return sequence(indent);
    return mapping(indent, line, 0);
  };

  try {
    if (lines[0]!.indent !== 0) return undefined;
    const node = block(0);
    if (p < lines.length || node.type !== 'map') return undefined;
    return node;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
