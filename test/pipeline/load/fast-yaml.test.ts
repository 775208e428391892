import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { fastParseYaml } from '../../../src/pipeline/load/fast-yaml.js';
import { parseYamlFull } from '../../../src/pipeline/load/yaml.js';
import { elementKinds, kindDefaults } from '../../../src/pipeline/kinds/registry.js';
import { PROJECT_DEFAULTS_YAML } from '../../../src/pipeline/load/project-defaults.js';
import { propertyRuns } from '../../helpers/tools.js';

/**
 * The fast block-YAML reader must give exactly what the full parser gives (values, nulls and
 * every position), or decline (undefined). Errors must match too.
 */
function outcome(f: () => unknown): unknown {
  try {
    const v = f();
    if (v === undefined) return undefined;
    return { ok: JSON.parse(JSON.stringify(v, (_k, v: unknown) => (v instanceof Map ? [...v] : v))) as unknown };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function same(text: string, label: string): boolean {
  const fast = outcome(() => fastParseYaml(text, 'f.yaml'));
  if (fast === undefined) return false; // declined
  const full = outcome(() => parseYamlFull(text, 'f.yaml'));
  assert.equal(fast, full, `${label}:\n${text}`);
  return true;
}

const texts: [string, string][] = [];
const fixtures = fileURLToPath(new URL('../fixtures/seed-example/', import.meta.url));
(function walk(d: string) {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.bst') || n.endsWith('.conf')) texts.push([p, readFileSync(p, 'utf8')]);
  }
})(fixtures);
for (const [name, kind] of elementKinds) texts.push([`${name} defaults`, kindDefaults(kind)]);
texts.push(['project defaults', PROJECT_DEFAULTS_YAML]);
texts.push(
  ['nulls', 'a: ~\nb:\nc: null\nd: "~"\ne: \'\'\nl:\n- ~\n- x\n'],
  ['folding', 'a: one\n  two\n\n  three\nb: x\nc:\n- p\n  q\n- r\n'],
  ['block with comment lines', 'cmds:\n- |\n  # a comment in the script\n  make\n\n  # trailing\n# real comment\n- next\n'],
  ['comments everywhere', '# head\nkind: manual # trailing\n\n# mid\nconfig:   # after key\n  build-commands:   \n  - make  # c\n'],
  ['sequence of maps', 'depends:\n- filename: a.bst\n  type: build\n-   filename: b.bst\n    strict: True\n- c.bst\n'],
  ['quotes', "a: 'it''s'\nb: \"plain #not comment\"\nc: 'x' # c\nd: \"  spaced  \"\n"],
  ['duplicate', 'a: 1\nb: 2\na: 3\n'],
  ['duplicate null', 'a:\na: 3\n'],
  ['directives', 'x:\n  (>):\n  - a\n  (<): [b]\n(?):\n- arch == "x86_64":\n    y: z\n'],
  ['colon in value', 'a: http://x/y\nb: a:b\nc: "k: v"\n'],
  ['keep chomping', 'a: |+\n  text\n\nb: |-\n  t\n'],
  ['empty block', 'a: |\nb: x\n'],
  ['empty flow', 'a: []\nb: {}  # none\nc:\n- []\n- {}\nd: [ ]\n'],
  ['hash in plain', 'a: x#y\nb: c # d\n'],
  ['bad indentation', 'a:\n  b: 1\n c: 2\n'],
  ['seq after key at same indent', 'a: 1\n- b\n'],
);

test('fast reader agrees with the full parser on fixtures, kind defaults and edge cases', () => {
  let accepted = 0;
  for (const [label, text] of texts) if (same(text, label)) accepted++;
  process.stdout.write(`  fast path took ${accepted} of ${texts.length} documents\n`);
  // every real project file must take the fast path
  for (const [label, text] of texts.filter(([l]) => l.endsWith('.bst') || l.endsWith('.conf'))) assert.ok(fastParseYaml(text, 'f') !== undefined, label);
});

const scalarArb = fc.oneof(
  fc.constantFrom('', '~', 'null', 'True', '0123', 'a: b', 'x #y', '#z', '- q', "it's", '"q"', 'a\nb', ' pad ', '%{prefix}/bin', '(>)', '|', 'k:', '1e3'),
  fc.string({ maxLength: 12 }),
);
const keyArb = fc.oneof(fc.constantFrom('kind', 'a b', '(>)', 'x-y', '(?)', 'config', 'null', '1'), fc.string({ minLength: 1, maxLength: 6 }));
const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, scalarArb, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(keyArb, tie('v'), { maxKeys: 4 })),
})).v;

test('property: documents written by a YAML serializer read the same through both paths', () => {
  let fastCount = 0;
  fc.assert(
    fc.property(fc.dictionary(keyArb, valueArb, { minKeys: 1, maxKeys: 5 }), fc.constantFrom(true, false), (doc, indentSeq) => {
      const text = stringify(doc, { indentSeq, lineWidth: 30, minContentWidth: 10 });
      if (same(text, 'generated')) fastCount++;
    }),
    { numRuns: propertyRuns(300) },
  );
  process.stdout.write(`  fast path took ${fastCount} generated documents\n`);
  assert.ok(fastCount > 0);
});

/** Hand-formatted documents in the styles .bst files use: comments, folded plain scalars, blocks. */
const word = fc.constantFrom(
  '[]',
  '{}',
  'make',
  'a:b',
  'x#y',
  '%{prefix}',
  '-j4',
  "it's",
  '"q"',
  '~',
  'null',
  'True',
  '0123',
  '(>)',
  '-',
  '|',
  'a b',
  '#',
  ':',
  'k: v',
  "''",
);
const plain = fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join(' '));
type Doc = { [k: string]: Doc } | Doc[] | string;
const docArb: fc.Arbitrary<Doc> = fc.letrec((tie) => ({
  d: fc.oneof(
    { depthSize: 'small' },
    plain,
    fc.array(tie('d'), { minLength: 1, maxLength: 3 }),
    fc.dictionary(fc.constantFrom('kind', 'a', 'b-c', '(>)', '(=)', 'x y', 'null'), tie('d'), { minKeys: 1, maxKeys: 3 }),
  ),
})).d as fc.Arbitrary<Doc>;

function render(d: Doc, indent: number, style: number[], out: string[], lead: string): void {
  const pad = ' '.repeat(indent);
  const s = style[out.length % style.length]!;
  if (typeof d === 'string') {
    if (s === 0) out.push(`${lead}${d}`);
    else if (s === 1) out.push(`${lead}|`, ...d.split(' ').map((w) => `${pad}  ${w}`));
    else if (s === 2)
      out.push(
        `${lead}${d.split(' ')[0]}`,
        ...d
          .split(' ')
          .slice(1)
          .map((w) => `${pad}  ${w}`),
      );
    else out.push(`${lead}${d} # note`);
    return;
  }
  if (Array.isArray(d)) {
    if (lead.trim() !== '' && !lead.trimEnd().endsWith('-')) out.push(lead.trimEnd());
    for (const item of d) {
      if (s === 3) out.push(`${pad}# comment`);
      if (typeof item === 'string') render(item, indent, style, out, `${pad}- `);
      else render(item, indent + 2, style, out, `${pad}- `);
    }
    return;
  }
  let first = true;
  if (lead.trim() !== '' && !lead.trimEnd().endsWith('-')) out.push(lead.trimEnd());
  for (const [k, v] of Object.entries(d)) {
    const l = first && lead.trimEnd().endsWith('-') ? lead : pad;
    first = false;
    if (typeof v === 'string') render(v, indent, style, out, `${l}${k}: `);
    else if (Array.isArray(v) && s === 2) render(v, indent, style, out, `${l}${k}:`);
    else render(v, indent + 2, style, out, `${l}${k}:`);
  }
}

test('property: hand-formatted block documents read the same through both paths', () => {
  let fastCount = 0;
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom('kind', 'config', 'a', 'b c', '(?)'), docArb, { minKeys: 1, maxKeys: 4 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }),
      (doc, style) => {
        const out: string[] = [];
        render(doc, 0, style, out, '');
        if (same(out.join('\n') + '\n', 'hand-formatted')) fastCount++;
      },
    ),
    { numRuns: propertyRuns(300) },
  );
  process.stdout.write(`  fast path took ${fastCount} hand-formatted documents\n`);
  assert.ok(fastCount > 0);
});

test.run();
