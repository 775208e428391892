import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { loadProject, type UserProjectOptions } from '../../../src/pipeline/load/index.js';
import type { LoadOptions } from '../../../src/pipeline/load/project.js';
import { writeProject } from './project-files.js';

/**
 * Options and directives as bst 1.x loads them (the cases of BuildStream's tests/format/options,
 * option-flags, option-exports, assertion and include tests, rewritten here).
 */

const fails = (files: Record<string, string>, expect: RegExp, opts: LoadOptions = {}, target = 'x.bst'): void => {
  const dir = writeProject(files);
  try {
    loadProject(dir, opts).element(target);
    assert.unreachable(`expected an error matching ${expect}`);
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    assert.match(e.message, expect);
  }
};

const user = (values: Record<string, string | string[]>): ReadonlyMap<string, UserProjectOptions> =>
  new Map([['p', { values, positions: Object.fromEntries(Object.keys(values).map((k) => [k, { file: 'kiln.conf', line: 3, col: 5 }])) }]]);

const farm = `name: p
element-path: elements
options:
  animal:
    type: enum
    description: The kind of animal
    values: [pony, horsy, zebry]
    default: horsy
  farm:
    type: flags
    description: The animals on this farm
    values: [pony, horsy, zebry]
    default: [zebry, pony]
    variable: farm
`;
const farmElement = `kind: stack
variables:
  result: a pony
  (?):
  - farm == [ "zebry" ]:
      result: a zebry
  - farm == [ "horsy", "pony" ]:
      result: a pony and a horsy
  - farm == [ "horsy", "pony", "zebry" ]:
      result: all the animals
  - ("pony" not in farm):
      in: no pony
  - (animal not in farm):
      in: no horsy
`;

test('flags: list literals compare in order, values the user gives are sorted, a default keeps its order', () => {
  const dir = writeProject({ 'project.conf': farm, 'elements/x.bst': farmElement });
  const result = (opts: LoadOptions): Record<string, string> => loadProject(dir, opts).element('x.bst').variables;
  assert.is(result({ options: { farm: 'zebry' } }).result, 'a zebry');
  assert.is(result({ options: { farm: 'pony, horsy' } }).result, 'a pony and a horsy');
  assert.is(result({ options: { farm: 'zebry,horsy , pony' } }).result, 'all the animals');
  assert.is(result({ userOptions: user({ farm: ['pony', 'horsy'] }) }).result, 'a pony and a horsy');
  assert.is(result({ options: { farm: 'zebry, horsy' } }).in, 'no pony');
  assert.is(result({ options: { farm: 'zebry, pony' } }).in, 'no horsy');
  // the default [zebry, pony] is not sorted: it matches no literal, and is exported as written
  const byDefault = result({});
  assert.is(byDefault.result, 'a pony');
  assert.is(byDefault.farm, 'zebry,pony');
  assert.is(result({ options: { farm: 'zebry,pony' } }).farm, 'pony,zebry');
});

test('flags: bad values on the command line and in the user configuration', () => {
  const files = { 'project.conf': farm, 'elements/x.bst': farmElement };
  fails(files, /invalid value 'giraffy' for option 'farm' as given/, { options: { farm: 'giraffy' } });
  // whitespace is not a separator: "horsy pony" is one unknown flag
  fails(files, /invalid value 'horsypony'/, { options: { farm: 'horsy pony' } });
  fails(files, /option 'farm' set in kiln\.conf:3:5 is a flags option: give a list/, { userOptions: user({ farm: 'pony' }) });
  fails(files, /invalid value 'giraffy' for option 'farm' as set in kiln\.conf:3:5/, { userOptions: user({ farm: ['horsy', 'giraffy'] }) });
});

test('option declarations: names, variable names, values, keys per type, bool values', () => {
  const decl = (name: string, body: string): Record<string, string> => ({
    'project.conf': `name: p\nelement-path: elements\noptions:\n  ${name}:\n${body}`,
    'elements/x.bst': 'kind: stack\n',
  });
  const bool = '    type: bool\n    description: d\n    default: False\n';
  for (const name of ['name-with-dashes', '"name with spaces"', 'name+plus', '1leading'])
    fails(decl(name, bool), /invalid option name '.*' in project\.conf:4:3/);
  for (const variable of ['pony+', '"pony spaces"'])
    fails(decl('pony', `${bool}    variable: ${variable}\n`), /invalid variable name 'pony.spaces|pony\+' in project\.conf:8:15/);
  fails(decl('e', '    type: enum\n    description: d\n    default: a\n'), /enum option 'e' in project\.conf:5:5 needs a non-empty 'values' list/);
  fails(decl('f', '    type: flags\n    description: d\n    values: []\n'), /flags option 'f' .* needs a non-empty 'values' list/);
  fails(decl('a', '    type: arch\n    description: d\n'), /arch option 'a' .* needs a non-empty 'values' list/);
  fails(decl('a', '    type: arch\n    description: d\n    values: [x86_64]\n    default: x86_64\n'), /unknown key 'default' .*arch option 'a'/);
  fails(decl('m', '    type: element-mask\n    description: d\n    values: [x.bst]\n'), /unknown key 'values' .*element-mask option 'm'/);
  fails(decl('b', '    type: bool\n    description: d\n'), /bool option 'b' .* needs a 'default'/);
  fails(decl('b', '    type: bool\n    description: d\n    default: "1"\n'), /invalid value '1' for option 'b'/);
  fails(decl('t', '    type: funny\n    description: d\n'), /unknown option type 'funny'/);
});

test('element-mask: the values are the element files; a name that is none is refused', () => {
  const files = {
    'project.conf': 'name: p\nelement-path: elements\noptions:\n  debug_elements:\n    type: element-mask\n    description: d\n    default: [a/b.bst]\n',
    'elements/x.bst': 'kind: stack\nvariables:\n  (?):\n  - ("a/b.bst" in debug_elements):\n      debug: "yes"\n',
    'elements/a/b.bst': 'kind: stack\n',
  };
  const dir = writeProject(files);
  assert.is(loadProject(dir).element('x.bst').variables.debug, 'yes');
  fails(files, /invalid value 'kitten\.bst' for option 'debug_elements'/, { options: { debug_elements: 'kitten.bst' } });
});

test('options declared in an include, at the top or under options:, and conditionals of several includes all kept', () => {
  const arch = '  build_arch:\n    type: arch\n    description: Architecture\n    variable: build_arch\n    values: [i586, x86_64]\n';
  const top = writeProject({
    'project.conf': 'name: p\nelement-path: elements\n(@):\n- extra.yml\n',
    'extra.yml': `options:\n${arch}`,
    'elements/x.bst': 'kind: stack\n',
  });
  assert.is(loadProject(top, { options: { build_arch: 'i586' } }).element('x.bst').variables.build_arch, 'i586');
  const inner = writeProject({
    'project.conf': 'name: p\nelement-path: elements\noptions:\n  (@): [extra.yml]\n',
    'extra.yml': arch.replace(/^ {2}/gm, ''),
    'elements/x.bst': 'kind: stack\n',
  });
  assert.is(loadProject(inner, { options: { build_arch: 'x86_64' } }).element('x.bst').variables.build_arch, 'x86_64');
  // two includes with (?) under variables: both lists count, the includer still wins
  const conflicts = writeProject({
    'project.conf': `name: p\nelement-path: elements\noptions:\n${arch}variables:\n  (?):\n  - build_arch == "i586":\n      work-around: "true"\n(@):\n- extra.yml\n- work.yml\n`,
    'extra.yml': 'variables:\n  (?):\n  - build_arch == "i586":\n      size: "4"\n  - build_arch == "x86_64":\n      size: "8"\n',
    'work.yml': 'variables:\n  work-around: "true"\n  (?):\n  - build_arch == "i586":\n      work-around: "false"\n',
    'elements/x.bst': 'kind: stack\n',
  });
  const vars = loadProject(conflicts, { options: { build_arch: 'i586' } }).element('x.bst').variables;
  assert.is(vars.size, '4');
  assert.is(vars['work-around'], 'true');
  assert.is(loadProject(conflicts, { options: { build_arch: 'x86_64' } }).element('x.bst').variables.size, '8');
});

test('(!): an assertion beside conditionals wins; of several true branches the last one is reported', () => {
  const files = {
    'project.conf':
      'name: p\nelement-path: elements\noptions:\n  pony:\n    type: bool\n    description: d\n    default: False\n  horsy:\n    type: bool\n    description: d\n    default: False\n',
    'elements/x.bst': 'kind: stack\nvariables:\n  (?):\n  - pony == True:\n      (!): not pony time\n  - horsy == True:\n      (!): not horsy time\n',
    'elements/raw.bst': 'kind: stack\nvariables:\n  (!): |\n\n    Raw assertion\n  (?):\n  - pony:\n      (!): never this\n',
  };
  fails(files, /^not pony time \(elements\/x\.bst:5:12\)/, { options: { pony: 'True' } });
  fails(files, /^not horsy time \(elements\/x\.bst:7:12\)/, { options: { pony: 'True', horsy: 'True' } });
  fails(files, /^Raw assertion \(elements\/raw\.bst:3:8\)/, { options: { pony: 'True' } }, 'raw.bst');
  const dir = writeProject(files);
  assert.equal(loadProject(dir).element('x.bst').variables.pony, undefined);
});

test('project.refs: (?) picks the refs for the options; an assertion there stops the load', () => {
  const conf = 'name: p\nelement-path: elements\nref-storage: project.refs\noptions:\n  test:\n    type: bool\n    description: d\n    default: False\n';
  const refs = 'projects:\n  p:\n    x.bst:\n    - ref: a\n    (?):\n    - test:\n        x.bst:\n        - ref: b\n';
  const dir = writeProject({ 'project.conf': conf, 'project.refs': refs, 'elements/x.bst': 'kind: import\nsources:\n- kind: local\n  path: elements\n' });
  assert.is(loadProject(dir).element('x.bst').sources[0]!.ref, 'a');
  assert.is(loadProject(dir, { options: { test: 'True' } }).element('x.bst').sources[0]!.ref, 'b');
  fails(
    { 'project.conf': conf, 'project.refs': `${refs}(?):\n- test:\n    (!): refs are frozen\n`, 'elements/x.bst': 'kind: stack\n' },
    /refs are frozen \(project\.refs:11:10\)/,
    { options: { test: 'True' } },
  );
});

test.run();
