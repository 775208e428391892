import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { loadProject } from '../../../src/pipeline/load/index.js';
import { openPipeline } from '../../../src/pipeline/pipeline.js';
import type { LoadOptions } from '../../../src/pipeline/load/project.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { throwawayDir } from '../../helpers/temp.js';
import { writeProject } from './project-files.js';

/**
 * Junctions as bst 1.x loads them (the cases of BuildStream's tests/loader/junctions.py and the
 * junction cases of tests/format/include.py, rewritten here).
 */

const base = {
  'base/project.conf': 'name: base\n',
  'base/target.bst': 'kind: import\nsources:\n- kind: local\n  path: base.txt\n',
  'base/base.txt': 'base\n',
};
/** A project `name` whose target depends on base.bst:target.bst and on its own app.bst. */
const user = (name: string, dir: string): Record<string, string> => ({
  [`${dir}project.conf`]: `name: ${name}\n`,
  [`${dir}base.bst`]: 'kind: junction\nsources:\n- kind: local\n  path: base\n',
  [`${dir}app.bst`]: `kind: import\nsources:\n- kind: local\n  path: ${name}.txt\ndepends:\n- junction: base.bst\n  filename: target.bst\n`,
  [`${dir}${name}.txt`]: `${name}\n`,
  [`${dir}target.bst`]: 'kind: stack\ndepends:\n- junction: base.bst\n  filename: target.bst\n- app.bst\n',
  ...Object.fromEntries(Object.entries(base).map(([k, v]) => [`${dir}${k}`, v])),
});

const names = (dir: string, target: string, opts: LoadOptions = {}): string[] => {
  const p = loadProject(dir, opts);
  return p.scopeOf([p.element(target)], 'all').map((e) => `${e.name} (${e.project.name})`);
};

const fails = (dir: string, target: string, expect: RegExp): void => {
  try {
    loadProject(dir).element(target);
    assert.unreachable(`expected an error matching ${expect}`);
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    assert.match(e.message, expect);
  }
};

test('a junction loads its project: junction: dependencies and junction.bst:element.bst names', () => {
  const dir = writeProject(user('foo', ''));
  assert.equal(names(dir, 'target.bst'), ['base.bst:target.bst (base)', 'app.bst (foo)', 'target.bst (foo)']);
  assert.equal(names(dir, 'base.bst:target.bst'), ['base.bst:target.bst (base)']);
  const p = loadProject(dir);
  const t = p.element('base.bst:target.bst');
  // element-name is the element's own, project-name its project's; the source is read in the sub-project
  assert.is(t.variables['element-name'], 'target.bst');
  assert.is(t.variables['project-name'], 'base');
  assert.ok(t.file.endsWith('/base/target.bst'));
  assert.is(t.project.junction?.name, 'base.bst');
  // the junction itself can be shown
  assert.is(p.element('base.bst').kind, 'junction');
  // with none of the project's environment or split rules, as bst shows it
  assert.equal(p.element('base.bst').environment, {});
  assert.equal(p.element('base.bst').public, { bst: { 'split-rules': {} } });
  // a dependency written as one name works the same
  const one = writeProject({ ...user('foo', ''), 'one.bst': 'kind: stack\ndepends:\n- base.bst:target.bst\n' });
  assert.equal(names(one, 'one.bst'), ['base.bst:target.bst (base)', 'one.bst (foo)']);
});

test("nested junctions: a sub-project's junction is its own unless a project above defines one of the same name", () => {
  const nested = writeProject({
    'project.conf': 'name: nested\n',
    'foo.bst': 'kind: junction\nsources:\n- kind: local\n  path: foo\n',
    'target.bst': 'kind: stack\ndepends:\n- junction: foo.bst\n  filename: target.bst\n',
    ...user('foo', 'foo/'),
  });
  assert.equal(names(nested, 'target.bst'), ['base.bst:target.bst (base)', 'foo.bst:app.bst (foo)', 'foo.bst:target.bst (foo)', 'target.bst (nested)']);
  const two = {
    'project.conf': 'name: toplevel\n',
    'foo.bst': 'kind: junction\nsources:\n- kind: local\n  path: foo\n',
    'bar.bst': 'kind: junction\nsources:\n- kind: local\n  path: bar\n',
    'target.bst': 'kind: stack\ndepends:\n- junction: foo.bst\n  filename: target.bst\n- junction: bar.bst\n  filename: target.bst\n',
    ...user('foo', 'foo/'),
    ...user('bar', 'bar/'),
  };
  // both sub-projects define base.bst and the top does not: a conflict
  fails(writeProject(two), 'target.bst', /junction base\.bst is defined in more than one sub-project/);
  // the top's base.bst takes precedence: loaded once, for both
  const toplevel = writeProject({ ...two, 'base.bst': 'kind: junction\nsources:\n- kind: local\n  path: base\n', ...base });
  const all = names(toplevel, 'target.bst');
  assert.equal(
    all.filter((n) => n.startsWith('base.bst:')),
    ['base.bst:target.bst (base)'],
  );
  assert.ok(all.includes('foo.bst:app.bst (foo)') && all.includes('bar.bst:app.bst (bar)'));
});

test("a junction's options: config: options:, variables expanded, the sub-project's defaults otherwise", () => {
  const optionsBase = {
    'options-base/project.conf': 'name: options-base\noptions:\n  animal:\n    type: enum\n    description: d\n    values: [pony, horsy]\n    default: pony\n',
    'options-base/target.bst':
      'kind: import\nsources:\n- kind: local\n  (?):\n  - animal == "pony":\n      path: pony.txt\n  - animal == "horsy":\n      path: horsy.txt\n',
    'options-base/pony.txt': '',
    'options-base/horsy.txt': '',
  };
  const path = (files: Record<string, string>, opts: LoadOptions = {}): unknown =>
    loadProject(writeProject(files), opts).element('base.bst:target.bst').sources[0]!.config.path;
  const junction = (config: string): string => `kind: junction\nsources:\n- kind: local\n  path: options-base\n${config}`;
  assert.is(path({ 'project.conf': 'name: p\n', 'base.bst': junction(''), ...optionsBase }), 'pony.txt');
  assert.is(path({ 'project.conf': 'name: p\n', 'base.bst': junction('config:\n  options:\n    animal: horsy\n'), ...optionsBase }), 'horsy.txt');
  const inherit = 'name: p\noptions:\n  animal:\n    type: enum\n    description: d\n    values: [pony, horsy]\n    default: horsy\n    variable: animal\n';
  const inheriting = { 'project.conf': inherit, 'base.bst': junction("config:\n  options:\n    animal: '%{animal}'\n"), ...optionsBase };
  assert.is(path(inheriting), 'horsy.txt');
  // -o sets the top project's option, which the junction passes on; it never reaches the sub-project directly
  assert.is(path(inheriting, { options: { animal: 'pony' } }), 'pony.txt');
  const bad = { 'project.conf': 'name: p\n', 'base.bst': junction('config:\n  options:\n    animal: zebra\n'), ...optionsBase };
  fails(writeProject(bad), 'base.bst:target.bst', /invalid value 'zebra' for option 'animal' as set in base\.bst:7:13/);
});

test('junction errors: dependencies of a junction, depending on a junction, no project, unfetched sources, names', () => {
  const dir = writeProject({
    ...user('invalid', ''),
    'with-deps.bst': 'kind: junction\nsources:\n- kind: local\n  path: base\ndepends:\n- app.bst\n',
    'uses-with-deps.bst': 'kind: stack\ndepends:\n- junction: with-deps.bst\n  filename: target.bst\n',
    'junction-dep.bst': 'kind: stack\ndepends:\n- base.bst\n',
    'missing.bst': 'kind: stack\ndepends:\n- junction: missingfile.bst\n  filename: target.bst\n',
    'empty.bst': 'kind: junction\nsources:\n- kind: local\n  path: base\nconfig:\n  path: nowhere\n',
    'tarred.bst':
      'kind: junction\nsources:\n- kind: tar\n  url: file:///nonexistent/base.tar\n  ref: 0000000000000000000000000000000000000000000000000000000000000000\n',
    'not-junction.bst': 'kind: stack\ndepends:\n- app.bst:target.bst\n',
    'deep.bst': 'kind: stack\ndepends:\n- a.bst:b.bst:c.bst\n',
    'twice.bst': 'kind: stack\ndepends:\n- junction: base.bst\n  filename: base.bst:target.bst\n',
  });
  fails(dir, 'uses-with-deps.bst', /with-deps\.bst: a junction element cannot have dependencies \(with-deps\.bst:6:3\)/);
  fails(dir, 'junction-dep.bst', /junction-dep\.bst:3:3: cannot depend on junction base\.bst/);
  fails(dir, 'missing.bst', /element 'missingfile\.bst' not found: missingfile\.bst does not exist \(referenced in missing\.bst:4:13\)/);
  fails(dir, 'empty.bst:target.bst', /junction empty\.bst leads to no project: there is no project\.conf at path 'nowhere'/);
  fails(dir, 'tarred.bst:target.bst', /the sources of junction tarred\.bst are not fetched/);
  fails(dir, 'not-junction.bst', /app\.bst is used as a junction \(not-junction\.bst:3:3\) but its kind is import/);
  fails(dir, 'deep.bst', /invalid element name 'a\.bst:b\.bst:c\.bst' in deep\.bst:3:3: it names more than one junction/);
  fails(dir, 'twice.bst', /names a junction twice/);
  // a staged junction (what fetch prepares) is read where the caller says
  const p = loadProject(dir, { junctionSources: (j) => (j.name === 'tarred.bst' ? `${dir}/base` : undefined) });
  assert.is(p.element('tarred.bst:target.bst').project.name, 'base');
});

test('includes through a junction: in project.conf (with the sub-project options) and in elements', () => {
  const sub = {
    'subproject/project.conf':
      'name: test-sub\noptions:\n  local_option:\n    type: enum\n    description: d\n    variable: local_option\n    default: default\n    values: [default, set]\n',
    'subproject/extra_conf.yml':
      "(?):\n- local_option == 'default':\n    variables:\n      is-default: 'True'\n- local_option == 'set':\n    variables:\n      is-default: 'False'\n",
    'subproject/vars.yml': 'variables:\n  from-sub: yes\n',
  };
  const files = (options: string): Record<string, string> => ({
    'project.conf': 'name: test\n(@):\n- junction.bst:extra_conf.yml\n',
    'junction.bst': `kind: junction\nsources:\n- kind: local\n  path: subproject\n${options}`,
    'element.bst': 'kind: manual\n(@): junction.bst:vars.yml\n',
    ...sub,
  });
  const vars = (f: Record<string, string>): Record<string, string> => loadProject(writeProject(f)).element('element.bst').variables;
  assert.is(vars(files(''))['is-default'], 'True');
  assert.is(vars(files('config:\n  options:\n    local_option: set\n'))['is-default'], 'False');
  assert.is(vars(files(''))['from-sub'], 'yes');
});

test("the keys of a junction's elements include the junction: a new version of its project changes them all", () => {
  const dir = writeProject({ ...user('foo', ''), 'alone.bst': 'kind: import\nsources:\n- kind: local\n  path: foo.txt\n' });
  const cacheDir = throwawayDir('kiln-junction-keys-');
  const keys = (): Record<string, string | undefined> => {
    const p = openPipeline({ projectDir: dir, cacheDir, targets: ['target.bst', 'alone.bst'] });
    return Object.fromEntries(p.select('all').map((e) => [e.name, p.keys(e).strong]));
  };
  const before = keys();
  // a file no element stages, in the junction's project: only the junction's sources change
  writeFileSync(join(dir, 'base', 'README'), 'new\n');
  const after = keys();
  assert.is.not(after['base.bst:target.bst'], before['base.bst:target.bst']);
  assert.is.not(after['target.bst'], before['target.bst']);
  assert.is(after['alone.bst'], before['alone.bst']);
});

test.run();
