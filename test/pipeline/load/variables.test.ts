import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandString, resolveVariables, type VariableDef } from '../../../src/pipeline/load/variables.js';

const at = (line: number) => ({ file: 'elements/x.bst', line, col: 3 });
const defs = (o: Record<string, string>): Map<string, VariableDef> => new Map(Object.entries(o).map(([k, v], i) => [k, { value: v, pos: at(i + 1) }]));

test('recursive expansion, order-independent', () => {
  const v = resolveVariables(defs({ bindir: '%{exec_prefix}/bin', exec_prefix: '%{prefix}', prefix: '/opt' }), 'x');
  assert.equal(v, { bindir: '/opt/bin', exec_prefix: '/opt', prefix: '/opt' });
});

test('text that is not a reference stays literal', () => {
  const v = resolveVariables(defs({ a: '%s ${x} $var %{} %{9x} 100%', b: '%{}name}' }), 'x');
  assert.equal(v.a, '%s ${x} $var %{} %{9x} 100%');
  assert.equal(v.b, '%{}name}');
});

test('undefined references name the variable, the chain and the place', () => {
  assert.throws(
    () => resolveVariables(defs({ a: '%{b}', b: 'x %{nope} y' }), 'elements/x.bst'),
    /undefined variable 'nope' referenced in elements\/x\.bst:2:3 by the chain 'a' \(elements\/x\.bst:1:3\) -> 'b' \(elements\/x\.bst:2:3\)/,
  );
  assert.throws(
    () => resolveVariables(defs({ only: '%{missing}' }), 'e'),
    /undefined variable 'missing' referenced in elements\/x\.bst:1:3 by variable 'only'/,
  );
});

test('unused variables must resolve too', () => {
  assert.throws(() => resolveVariables(defs({ used: 'x', unused: '%{ghost}' }), 'e'), /undefined variable 'ghost'/);
});

test('cycles are reported with the cycle', () => {
  assert.throws(
    () => resolveVariables(defs({ a: '%{b}', b: '%{c}', c: '%{a}' }), 'elements/x.bst'),
    /circular variable reference in elements\/x\.bst: 'a' -> 'b' -> 'c' -> 'a'/,
  );
  assert.throws(() => resolveVariables(defs({ self: 'x%{self}' }), 'e'), /'self' -> 'self'/);
});

test('expandString reports the user of an undefined variable', () => {
  assert.is(expandString('%{a}-%{a}', { a: 'z' }, at(9), 'x'), 'z-z');
  assert.throws(
    () => expandString('make %{jobs}', {}, at(7), "'config.build-commands[0]'"),
    /undefined variable 'jobs' referenced by 'config\.build-commands\[0\]' in elements\/x\.bst:7:3/,
  );
});

test.run();
