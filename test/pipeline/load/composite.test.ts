import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkNoDirectives, composite } from '../../../src/pipeline/load/composite.js';
import { toPlain } from '../../../src/pipeline/load/node.js';
import { parseYaml } from '../../../src/pipeline/load/yaml.js';

const y = (text: string, file = 'src.yaml') => parseYaml(text, file);
const comp = (t: string, s: string) => toPlain(composite(y(t, 'target.yaml'), y(s, 'source.yaml')));

test('mappings merge recursively, scalars and plain lists replace', () => {
  assert.equal(comp('a: {x: 1, y: 2}\nl: [1, 2]\ns: old\n', 'a: {y: 3, z: 4}\nl: [9]\ns: new\n'), {
    a: { x: '1', y: '3', z: '4' },
    l: ['9'],
    s: 'new',
  });
});

test('(>) appends, (<) prepends, (=) replaces (docs/format.md#composition)', () => {
  assert.equal(comp('l: [a, b]\n', 'l: {(>): [c]}\n'), { l: ['a', 'b', 'c'] });
  assert.equal(comp('l: [a, b]\n', 'l: {(<): [z]}\n'), { l: ['z', 'a', 'b'] });
  assert.equal(comp('l: [a, b]\n', 'l: {(=): [q]}\n'), { l: ['q'] });
  // (=) first, then the prepend and the append
  assert.equal(comp('l: [a, b]\n', 'l: {(=): [q], (<): [p], (>): [r]}\n'), { l: ['p', 'q', 'r'] });
});

test('a directive onto nothing is kept and applies at a later composition', () => {
  const base = y('rules: [/usr/bin/*]\n', 'defaults.yaml');
  const mid = composite(y('{}'), y('rules: {(>): [/bin/*]}\n', 'kind.yaml'));
  assert.equal(toPlain(mid), { rules: { '(>)': ['/bin/*'] } });
  const last = composite(base, mid);
  assert.equal(toPlain(last), { rules: ['/usr/bin/*', '/bin/*'] });
});

test('a directive onto a directive: (<) prepends to (<), (>) appends to (>), (=) resets', () => {
  const t = y('l: {(<): [a], (>): [b]}\n');
  assert.equal(toPlain(composite(t, y('l: {(<): [c], (>): [d]}\n'))), { l: { '(<)': ['c', 'a'], '(>)': ['b', 'd'] } });
  assert.equal(toPlain(composite(t, y('l: {(=): [x]}\n'))), { l: { '(=)': ['x'] } });
  const merged = composite(t, y('l: {(<): [c], (>): [d]}\n'));
  assert.equal(toPlain(composite(y('l: [m]\n'), merged)), { l: ['c', 'a', 'm', 'b', 'd'] });
});

test('type conflicts are errors with both positions', () => {
  assert.throws(() => comp('a: [x]\n', 'a: text\n'), /cannot compose 'a': source\.yaml:1:4 gives a string where target\.yaml:1:4 has a list/);
  assert.throws(() => comp('a: {k: v}\n', 'a: [x]\n'), /gives a list where target\.yaml:1:4 has a mapping/);
  assert.throws(() => comp('a: text\n', 'a: {(>): [x]}\n'), /gives a mapping where target\.yaml:1:4 has a string/);
  assert.throws(() => comp('a:\n  b: [x]\n', 'a:\n  b: {k: v}\n'), /cannot compose 'a\.b'/);
});

test('mixing directives with other keys, and a directive without a list, are errors', () => {
  assert.throws(() => comp('l: [a]\n', 'l: {(>): [b], other: c}\n'), /mixes list directives with the key 'other'/);
  assert.throws(() => comp('l: [a]\n', 'l: {(>): b}\n'), /list directive '\(>\)' of 'l' in source\.yaml:1:10 must be followed by a list/);
});

test('a directive left over at the end: Attempt to override non-existing list', () => {
  const n = composite(y('{}'), y('config:\n  commands:\n    (>):\n    - x\n', 'elements/e.bst'));
  assert.throws(() => checkNoDirectives(n, ''), /Attempt to override non-existing list 'config\.commands' in elements\/e\.bst:3:5/);
});

test.run();
