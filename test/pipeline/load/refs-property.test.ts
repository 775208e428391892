import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadProject, writeSourceRef } from '../../../src/pipeline/load/index.js';
import type { YamlValue } from '../../../src/pipeline/model.js';
import { propertyRuns } from '../../helpers/tools.js';
import { writeProject } from './project-files.js';

/**
 * Writing a ref back, over generated .bst files: comments before, after and inside the sources,
 * other keys before and after `ref`, several sources in block or flow style, indentation 2 or 4,
 * LF or CRLF, with or without a final newline; old refs absent, empty, scalar (plain, quoted or a
 * block scalar), lists, maps and nested; new refs scalar, lists of strings or of maps, maps and
 * nested. Inline, the file must load with exactly the new ref there and the old refs elsewhere,
 * and be byte-identical outside the old ref's own lines. With project.refs, the .bst must not
 * change at all and project.refs must keep its comments. A second write to another source checks
 * the positions the first write moved.
 */

// Strings that YAML 1.1 or 1.2 would read as something else, or that need quoting; plus random ones.
const TRICKY = [
  '3.134',
  '1:2.38.1-5+deb12u3',
  '12.4+deb12u15',
  '2:3.8.2+dfsg-1+b1',
  'yes',
  'No',
  'OFF',
  'y',
  'n',
  'null',
  '~',
  '0x1f',
  '0o17',
  '0b101',
  '1e10',
  '1_000',
  '.inf',
  '.5',
  '+1',
  '-1',
  '0123',
  '2001-12-14',
  '1:20',
  'TRUE',
  '-',
  '- a',
  'a: b',
  'a:b',
  '#x',
  'a #b',
  '[x]',
  '{y}',
  'a,b',
  "'q'",
  '"dq"',
  'a\\b',
  'é',
  '?',
  '!t',
  '&a',
  '*a',
  '%',
  '@',
  '`',
  '|',
  '>',
  '=',
  '<<',
  'x\ty',
  'line\nbreak',
  'a\u0085b',
  'c24fe4eb8e60d8632d72ed104cce7c92',
];
const str = fc
  .oneof(
    fc.constantFrom(...TRICKY),
    fc.stringMatching(/^[0-9a-f]{6,64}$/),
    fc.string({ minLength: 1, maxLength: 8 }),
    fc.string({ minLength: 1, maxLength: 4, unit: 'grapheme' }),
  )
  .filter((s) => s !== '' && s.trim() === s); // the loader strips scalars and reads '' as no value
const key = fc.constantFrom('package', 'version', 'sha256', 'a', 'b b', 'yes', '1', 'x:y', 'k-1', '"q"');
const { nested } = fc.letrec<{ nested: YamlValue; list: YamlValue[]; map: { [k: string]: YamlValue } }>((tie) => ({
  nested: fc.oneof({ depthSize: 'small' }, str, tie('list'), tie('map')),
  list: fc.array(tie('nested'), { maxLength: 3 }),
  map: fc.dictionary(key, tie('nested'), { maxKeys: 3, noNullPrototype: true }),
}));
const refArb: fc.Arbitrary<YamlValue> = fc.oneof(
  str,
  fc.array(str, { minLength: 1, maxLength: 4 }),
  fc.array(fc.dictionary(key, str, { minKeys: 1, maxKeys: 3, noNullPrototype: true }), { minLength: 1, maxLength: 3 }),
  fc.dictionary(key, str, { minKeys: 1, maxKeys: 3, noNullPrototype: true }),
  fc.oneof(fc.array(nested, { minLength: 1, maxLength: 3 }), fc.dictionary(key, nested, { minKeys: 1, maxKeys: 3, noNullPrototype: true })),
);

type OldRef = { type: 'absent' } | { type: 'empty' } | { type: 'value'; value: YamlValue; scalarStyle: 'auto' | 'single' | 'literal' };
const oldRefArb: fc.Arbitrary<OldRef> = fc.oneof(
  fc.constant<OldRef>({ type: 'absent' }),
  fc.constant<OldRef>({ type: 'empty' }),
  fc.record({ type: fc.constant('value' as const), value: refArb, scalarStyle: fc.constantFrom('auto' as const, 'single' as const, 'literal' as const) }),
);

interface SourceSpec {
  flow: boolean;
  /** Other keys: a scalar or a block list of plain words. */
  others: [string, string | string[]][];
  refAt: number;
  old: OldRef;
}
const otherValue = fc.oneof(fc.constantFrom('x', 'a:b.tar', '"quoted"', 'files/x'), fc.array(fc.constantFrom('p', 'q', 'r'), { minLength: 1, maxLength: 3 }));
const sourceArb: fc.Arbitrary<SourceSpec> = fc
  .record({
    flow: fc.boolean(),
    others: fc.uniqueArray(fc.tuple(fc.constantFrom('url', 'path', 'packages', 'suite', 'base-dir', 'track'), otherValue), {
      maxLength: 3,
      selector: ([k]) => k,
    }),
    refAt: fc.nat(4),
    old: oldRefArb,
  })
  .map((s) => {
    const others: [string, string | string[]][] = [['kind', 'tar'], ...s.others];
    return { ...s, others, refAt: s.refAt % (others.length + 1), old: s.flow && s.old.type === 'empty' ? { type: 'absent' as const } : s.old };
  });

interface FileSpec {
  step: 2 | 4;
  /** `sources:` then `- ` at column 0 (as BuildStream writes) or indented by step. */
  seqIndented: boolean;
  crlf: boolean;
  finalNewline: boolean;
  sources: SourceSpec[];
  /** Decides the comments: consumed in order, cycling. */
  noise: number[];
}
const fileArb: fc.Arbitrary<FileSpec> = fc.record({
  step: fc.constantFrom(2 as const, 4 as const),
  seqIndented: fc.boolean(),
  crlf: fc.boolean(),
  finalNewline: fc.boolean(),
  sources: fc.array(sourceArb, { minLength: 1, maxLength: 4 }),
  noise: fc.array(fc.nat(9), { minLength: 16, maxLength: 16 }),
});

// The generator's own YAML writer, independent of the one under test.
const YAML11 = /^(y|n|yes|no|on|off|true|false|null)$/i;
const q = (s: string): string =>
  /^[a-z][a-z0-9-]*$/.test(s) && !YAML11.test(s)
    ? s
    : JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const flowOf = (v: YamlValue): string =>
  typeof v === 'string'
    ? q(v)
    : Array.isArray(v)
      ? `[${v.map(flowOf).join(', ')}]`
      : `{${Object.entries(v)
          .map(([k, x]) => `${q(k)}: ${flowOf(x)}`)
          .join(', ')}}`;
const isBlock = (v: YamlValue): v is YamlValue[] | { [k: string]: YamlValue } => typeof v !== 'string' && Object.keys(v).length > 0;

interface Region {
  /** Where the ref's own text starts and ends in the original (offsets). */
  start: number;
  end: number;
}

function render(spec: FileSpec): { text: string; regions: Region[] } {
  const { step } = spec;
  const seqOff = spec.seqIndented ? step : 0;
  let n = 0;
  const noise = (): number => spec.noise[n++ % spec.noise.length]!;
  const lines: string[] = [];
  // a region as [line, column] pairs, turned into offsets once the text is joined
  const marks: [[number, number], [number, number]][] = [];
  const comment = (col: number): void => {
    const r = noise();
    if (r < 3) lines.push(`${' '.repeat(r === 0 ? 0 : col)}# c${n}`);
    else if (r === 3) lines.push('');
  };
  const inlineComment = (): string => (noise() < 3 ? `  # i${n}` : '');
  /** Block lines of a non-empty collection at column `col`, with comment lines between items. */
  const block = (v: YamlValue[] | { [k: string]: YamlValue }, col: number): void => {
    const pad = ' '.repeat(col);
    const entries: [string | undefined, YamlValue][] = Array.isArray(v) ? v.map((x) => [undefined, x]) : Object.entries(v);
    entries.forEach(([k, x], i) => {
      if (i > 0) comment(col);
      if (k === undefined) {
        const dash = `${pad}-${' '.repeat(step - 1)}`;
        if (!isBlock(x)) lines.push(`${dash}${flowOf(x)}`);
        else {
          const at = lines.length;
          block(x, col + step);
          lines[at] = dash + lines[at]!.slice(col + step);
        }
      } else if (!isBlock(x)) lines.push(`${pad}${q(k)}: ${flowOf(x)}${inlineComment()}`);
      else {
        lines.push(`${pad}${q(k)}:`);
        block(x, col + (Array.isArray(x) ? seqOff : step));
      }
    });
  };

  if (noise() < 5) lines.push('# an element');
  lines.push('kind: import', 'sources:');
  for (const s of spec.sources) {
    comment(seqOff);
    const dash = `${' '.repeat(seqOff)}-${' '.repeat(step - 1)}`;
    const col = seqOff + step;
    if (s.flow) {
      const parts = s.others.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : `[${v.join(', ')}]`}`);
      const line = lines.length;
      const ref = s.old.type === 'value' ? `ref: ${flowOf(s.old.value)}` : undefined;
      let text = `${dash}{`;
      [...parts.slice(0, s.refAt), ...(ref === undefined ? [] : [undefined]), ...parts.slice(s.refAt)].forEach((part, i) => {
        if (i > 0) text += ', ';
        if (part === undefined)
          marks.push([
            [line, text.length],
            [line, text.length + ref!.length],
          ]);
        text += part ?? ref;
      });
      if (ref === undefined)
        marks.push([
          [line, text.length],
          [line, text.length],
        ]);
      lines.push(`${text}}${inlineComment()}`);
      continue;
    }
    const keys: (string | undefined)[] = s.others.map(([k]) => k);
    if (s.old.type !== 'absent') keys.splice(s.refAt, 0, undefined);
    keys.forEach((k, i) => {
      const lead = i === 0 ? dash : ' '.repeat(col);
      if (k !== undefined) {
        const v = s.others.find(([name]) => name === k)![1];
        if (typeof v === 'string') lines.push(`${lead}${k}: ${v}${inlineComment()}`);
        else {
          lines.push(`${lead}${k}:${inlineComment()}`);
          for (const item of v) lines.push(`${' '.repeat(col + seqOff)}- ${item}`);
        }
      } else {
        const first = lines.length;
        const old = s.old as Exclude<OldRef, { type: 'absent' }>;
        if (old.type === 'empty') lines.push(`${lead}ref:${noise() < 5 ? '' : ' ~'}${inlineComment()}`);
        else if (isBlock(old.value)) {
          lines.push(`${lead}ref:${inlineComment()}`);
          comment(col);
          block(old.value, col + (Array.isArray(old.value) ? seqOff : step));
        } else if (typeof old.value === 'string' && old.scalarStyle === 'single' && /^[\x20-\x7e]*$/.test(old.value)) {
          lines.push(`${lead}ref: '${old.value.replace(/'/g, "''")}'${inlineComment()}`);
        } else if (typeof old.value === 'string' && old.scalarStyle === 'literal' && /^[a-z0-9.:+-]+$/.test(old.value)) {
          lines.push(`${lead}ref: |-${inlineComment()}`, `${' '.repeat(col + step)}${old.value}`);
        } else lines.push(`${lead}ref: ${flowOf(old.value)}${inlineComment()}`);
        const last = lines.length - 1;
        marks.push([
          [first, 0],
          [last, lines[last]!.length],
        ]);
      }
      // comment lines after a value belong to what follows
      comment(col);
    });
    if (s.old.type === 'absent') {
      // the new ref goes after the last content line, before any comment lines
      let last = lines.length - 1;
      while (/^\s*(#.*)?$/.test(lines[last]!)) last--;
      marks.push([
        [last, lines[last]!.length],
        [last, lines[last]!.length],
      ]);
    }
  }
  comment(0);
  if (noise() < 5) lines.push('variables:', `${' '.repeat(step)}x: y`);
  const nl = spec.crlf ? '\r\n' : '\n';
  const text = lines.join(nl) + (spec.finalNewline ? nl : '');
  const starts: number[] = [];
  let off = 0;
  for (const l of lines) {
    starts.push(off);
    off += l.length + nl.length;
  }
  return { text, regions: marks.map(([[l0, c0], [l1, c1]]) => ({ start: starts[l0]! + c0, end: starts[l1]! + c1 })) };
}

const oldValue = (s: SourceSpec): YamlValue | undefined => (s.old.type === 'value' ? s.old.value : undefined);

const CONF = 'name: proj\nelement-path: elements\n';

function check(spec: FileSpec, target: number, ref: YamlValue, second: number, ref2: YamlValue): void {
  const { text, regions } = render(spec);
  const olds = spec.sources.map(oldValue);
  const dir = writeProject({ 'project.conf': CONF, 'elements/e.bst': text });
  const file = join(dir, 'elements/e.bst');
  try {
    const e = loadProject(dir).element('e.bst');
    assert.equal(
      e.sources.map((s) => s.ref),
      olds,
      'the generated file reads as generated',
    );
    writeSourceRef(e, target, ref);
    const out = readFileSync(file, 'utf8');
    const { start, end } = regions[target]!;
    assert.ok(out.startsWith(text.slice(0, start)), `bytes before the ref changed:\n${text}\n---\n${out}`);
    assert.ok(out.endsWith(text.slice(end)) && out.length >= start + text.length - end, `bytes after the ref changed:\n${text}\n---\n${out}`);
    const expected = olds.map((o, i) => (i === target ? ref : o));
    assert.equal(
      loadProject(dir)
        .element('e.bst')
        .sources.map((s) => s.ref),
      expected,
      `wrote:\n${out}`,
    );
    // a second write into the same loaded element relies on the moved positions
    writeSourceRef(e, second, ref2);
    expected[second] = ref2;
    assert.equal(
      loadProject(dir)
        .element('e.bst')
        .sources.map((s) => s.ref),
      expected,
      `second write:\n${readFileSync(file, 'utf8')}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkProjectRefs(spec: FileSpec, target: number, ref: YamlValue): void {
  const { text } = render(spec);
  const olds = spec.sources.map(oldValue);
  const stored = stringify({ projects: { proj: { 'e.bst': olds.map((o) => (o === undefined ? {} : { ref: o })) } } });
  const refs = `# refs, pinned\n${stored}# the end\n`;
  const dir = writeProject({ 'project.conf': `${CONF}ref-storage: project.refs\n`, 'elements/e.bst': text, 'project.refs': refs });
  try {
    const e = loadProject(dir).element('e.bst');
    assert.equal(
      e.sources.map((s) => s.ref),
      olds,
    );
    writeSourceRef(e, target, ref);
    assert.is(readFileSync(join(dir, 'elements/e.bst'), 'utf8'), text);
    const out = readFileSync(join(dir, 'project.refs'), 'utf8');
    assert.ok(out.startsWith('# refs, pinned\n') && out.includes('# the end'), `comments lost:\n${out}`);
    assert.equal(
      loadProject(dir)
        .element('e.bst')
        .sources.map((s) => s.ref),
      olds.map((o, i) => (i === target ? ref : o)),
      `project.refs:\n${out}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const caseArb = fileArb.chain((spec) =>
  fc.record({ spec: fc.constant(spec), target: fc.nat(spec.sources.length - 1), ref: refArb, second: fc.nat(spec.sources.length - 1), ref2: refArb }),
);

test('inline: the new ref reads back, nothing outside the old ref changes', () => {
  fc.assert(
    fc.property(caseArb, ({ spec, target, ref, second, ref2 }) => check(spec, target, ref, second, ref2)),
    { numRuns: propertyRuns(500), includeErrorInReport: true },
  );
});

test('project.refs: the new ref reads back, the .bst and the comments stay', () => {
  fc.assert(
    fc.property(caseArb, ({ spec, target, ref }) => checkProjectRefs(spec, target, ref)),
    { numRuns: propertyRuns(250), includeErrorInReport: true },
  );
});

test.run();
