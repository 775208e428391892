import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYaml } from '../../../src/pipeline/load/yaml.js';
import { toPlain } from '../../../src/pipeline/load/node.js';
import { KilnError } from '../../../src/errors.js';

test('every scalar is a string, stripped; nulls are absent', () => {
  const m = parseYaml('a: 0123\nb: ~\nc:\nd: "  x  "\ne: True\nf: 1.5e3\ng: null\nh: [1, 2]\n', 'f.yaml');
  assert.equal(toPlain(m), { a: '0123', d: 'x', e: 'True', f: '1.5e3', h: ['1', '2'] });
  assert.equal([...(m.nulls ?? new Map()).keys()], ['b', 'c', 'g']);
});

test('block scalars lose their trailing newline; multi-line plain scalars fold', () => {
  const m = parseYaml('a: |\n  /bin/*\nb: one\n  two\n  three\nc: >\n  x\n  y\n', 'f.yaml');
  assert.equal(toPlain(m), { a: '/bin/*', b: 'one two three', c: 'x y' });
});

test('positions are 1-based line and column', () => {
  const m = parseYaml('# comment\nkind: manual\nconfig:\n  build-commands:\n  - make\n', 'elements/x.bst');
  assert.equal(m.keyPos.get('config'), { file: 'elements/x.bst', line: 3, col: 1 });
  const cfg = m.entries.get('config');
  assert.ok(cfg && cfg.type === 'map');
  const cmds = cfg.entries.get('build-commands');
  assert.ok(cmds && cmds.type === 'list');
  assert.equal(cmds.items[0]!.pos, { file: 'elements/x.bst', line: 5, col: 5 });
});

test('duplicate keys are an error naming both places', () => {
  try {
    parseYaml('kind: manual\nsources: []\nkind: import\n', 'elements/x.bst');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, KilnError);
    assert.match((e as Error).message, /duplicate key 'kind' in elements\/x\.bst:3:1 \(first defined at elements\/x\.bst:1:1\)/);
  }
});

test('anchors and aliases resolve; an empty document is an empty mapping', () => {
  assert.equal(toPlain(parseYaml('a: &x [p, q]\nb: *x\n', 'f')), { a: ['p', 'q'], b: ['p', 'q'] });
  assert.equal(toPlain(parseYaml('', 'f')), {});
  assert.equal(toPlain(parseYaml('# only a comment\n', 'f')), {});
});

test('top level must be a mapping; syntax errors carry a position', () => {
  assert.throws(() => parseYaml('- a\n- b\n', 'x.bst'), /top level of x\.bst must be a mapping, not a list/);
  assert.throws(() => parseYaml('just text\n', 'x.bst'), /must be a mapping, not a string/);
  assert.throws(() => parseYaml('a: [1, 2\nb: c\n', 'x.bst'), /invalid YAML in x\.bst:\d+:\d+/);
});

test.run();
