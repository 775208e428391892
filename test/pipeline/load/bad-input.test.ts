import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { loadProject } from '../../../src/pipeline/load/index.js';
import { MINIMAL_CONF, writeProject } from './project-files.js';

/**
 * Malformed projects and elements: each must fail with a KilnError whose message says what and
 * where (file:line:col). `target` is loaded after project.conf (omit it for project.conf cases).
 */
interface Case {
  name: string;
  files: Record<string, string>;
  target?: string;
  options?: Record<string, string>;
  expect: RegExp;
}

const conf = MINIMAL_CONF;
const cases: Case[] = [
  {
    name: 'unknown element key',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\ndependz:\n- y.bst\n' },
    target: 'x.bst',
    expect: /unknown key 'dependz' in elements\/x\.bst:2:1 \(elements\/x\.bst\); valid keys are kind, description, depends/,
  },
  {
    name: 'unknown project.conf key',
    files: { 'project.conf': 'name: test\nelement-path: elements\nvariabels: {}\n', 'elements/.keep': '' },
    expect: /unknown key 'variabels' in project\.conf:3:1 \(project\.conf\); valid keys are name, element-path/,
  },
  {
    name: 'missing project name',
    files: { 'project.conf': 'element-path: elements\n', 'elements/.keep': '' },
    expect: /missing required key 'name' in project\.conf \(project\.conf:1:1\)/,
  },
  {
    name: 'bad project name',
    files: { 'project.conf': 'name: 9lives\n' },
    expect: /invalid project name '9lives' in project\.conf:1:7/,
  },
  {
    name: 'element-path missing',
    files: { 'project.conf': 'name: p\nelement-path: elements\n' },
    expect: /element-path 'elements' \(project\.conf:2:15\) is not a directory/,
  },
  {
    name: 'duplicate key in an element',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\nvariables:\n  a: 1\n  a: 2\n' },
    target: 'x.bst',
    expect: /duplicate key 'a' in elements\/x\.bst:4:3 \(first defined at elements\/x\.bst:3:3\)/,
  },
  {
    name: 'missing kind',
    files: { 'project.conf': conf, 'elements/x.bst': 'description: nothing\n' },
    target: 'x.bst',
    expect: /missing required key 'kind' in elements\/x\.bst \(elements\/x\.bst:1:1\)/,
  },
  {
    name: 'unknown element kind',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: autotool\n' },
    target: 'x.bst',
    expect: /unknown element kind 'autotool' in elements\/x\.bst:1:7; kiln knows import, stack/,
  },
  {
    name: 'declared plugin kind without a native implementation (the example docker source)',
    files: {
      'project.conf': 'name: p\nelement-path: elements\nplugins:\n- origin: pip\n  package-name: docker\n  elements:\n    docker: 0\n',
      'elements/base.bst': 'kind: import\nsources:\n- kind: docker\n  url: https://registry.example/library/x\n  track: latest\n',
    },
    target: 'base.bst',
    expect: /unsupported plugin kind docker \(declared by origin pip:docker\) in elements\/base\.bst:3:9/,
  },
  {
    name: 'x86image without a plugin declaration',
    files: { 'project.conf': conf, 'elements/img.bst': 'kind: x86image\n' },
    target: 'img.bst',
    expect: /element kind 'x86image' in elements\/img\.bst:1:7 comes from a plugin that project\.conf does not declare/,
  },
  {
    name: 'unknown source kind',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: import\nsources:\n- kind: rar\n  url: a:b\n' },
    target: 'x.bst',
    expect: /unknown source kind 'rar' in elements\/x\.bst:3:9/,
  },
  {
    name: 'missing dependency file',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\ndepends:\n- nothere.bst\n' },
    target: 'x.bst',
    expect: /element 'nothere\.bst' not found: elements\/nothere\.bst does not exist \(referenced in elements\/x\.bst:3:3\)/,
  },
  {
    name: 'missing target element',
    files: { 'project.conf': conf, 'elements/.keep': '' },
    target: 'ghost.bst',
    expect: /element 'ghost\.bst' not found: elements\/ghost\.bst does not exist/,
  },
  {
    name: 'dependency cycle',
    files: {
      'project.conf': conf,
      'elements/a.bst': 'kind: stack\ndepends:\n- b.bst\n',
      'elements/b.bst': 'kind: stack\ndepends:\n- filename: c.bst\n  type: runtime\n',
      'elements/c.bst': 'kind: stack\nbuild-depends:\n- a.bst\n',
    },
    target: 'a.bst',
    expect:
      /dependency cycle: a\.bst -> b\.bst -> c\.bst -> a\.bst; declared at b\.bst \(elements\/a\.bst:3:3\), c\.bst \(elements\/b\.bst:3:13\), a\.bst \(elements\/c\.bst:3:3\)/,
  },
  {
    name: 'self dependency',
    files: { 'project.conf': conf, 'elements/a.bst': 'kind: stack\ndepends:\n- a.bst\n' },
    target: 'a.bst',
    expect: /dependency cycle: a\.bst -> a\.bst/,
  },
  {
    name: 'undefined variable in a command',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\nconfig:\n  build-commands:\n  - make %{jobz}\n' },
    target: 'x.bst',
    expect: /undefined variable 'jobz' referenced by 'config\.build-commands\[0\]' in elements\/x\.bst:4:5/,
  },
  {
    name: 'undefined variable in an unused variable',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\nvariables:\n  unused: "%{nothing}"\n' },
    target: 'x.bst',
    expect: /undefined variable 'nothing' referenced in elements\/x\.bst:3:11 by variable 'unused'/,
  },
  {
    name: 'cyclic variables across project.conf and the element',
    files: { 'project.conf': 'name: p\nelement-path: elements\nvariables:\n  a: "%{b}"\n', 'elements/x.bst': 'kind: manual\nvariables:\n  b: "%{a}"\n' },
    target: 'x.bst',
    expect: /circular variable reference in elements\/x\.bst: 'a' -> 'b' -> 'a'; 'a' \(project\.conf:4:6\) -> 'b' \(elements\/x\.bst:3:6\)/,
  },
  {
    name: 'protected variable',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\nvariables:\n  element-name: other\n' },
    target: 'x.bst',
    expect: /variable 'element-name' is read-only and cannot be redefined \(elements\/x\.bst:3:3/,
  },
  {
    name: 'list directive on a missing list',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: script\nconfig:\n  layout:\n    (>):\n    - {element: "", destination: /}\n' },
    target: 'x.bst',
    expect: /Attempt to override non-existing list 'config\.layout' in elements\/x\.bst:4:5/,
  },
  {
    name: 'list directive mixed with keys',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\nconfig:\n  build-commands:\n    (>): [make]\n    extra: x\n' },
    target: 'x.bst',
    expect: /'config\.build-commands' in elements\/x\.bst:4:5 mixes list directives with the key 'extra' \(at elements\/x\.bst:5:5\)/,
  },
  {
    name: 'string where the defaults have a list',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\nconfig:\n  build-commands: make\n' },
    target: 'x.bst',
    expect: /cannot compose 'config\.build-commands': elements\/x\.bst:3:19 gives a string where <manual defaults>:\d+:\d+ has a list/,
  },
  {
    name: 'unknown config key for the kind',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\nconfig:\n  build-comands: [make]\n' },
    target: 'x.bst',
    expect: /unknown key 'build-comands' in elements\/x\.bst:3:3 \(config of a manual element \(elements\/x\.bst\)\); valid keys are configure-commands/,
  },
  {
    name: 'bad dependency type',
    files: { 'project.conf': conf, 'elements/y.bst': 'kind: stack\n', 'elements/x.bst': 'kind: stack\ndepends:\n- filename: y.bst\n  type: buildtime\n' },
    target: 'x.bst',
    expect: /invalid dependency type 'buildtime' in elements\/x\.bst:4:9; use build, runtime or all/,
  },
  {
    name: 'type inside build-depends',
    files: { 'project.conf': conf, 'elements/y.bst': 'kind: stack\n', 'elements/x.bst': 'kind: stack\nbuild-depends:\n- filename: y.bst\n  type: runtime\n' },
    target: 'x.bst',
    expect: /'type' is not allowed in build-depends \(elements\/x\.bst:4:9\)/,
  },
  {
    name: 'dependency through a junction that does not exist',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\ndepends:\n- filename: base.bst\n  junction: sdk.bst\n' },
    target: 'x.bst',
    expect: /element 'sdk\.bst' not found: elements\/sdk\.bst does not exist \(referenced in elements\/x\.bst:3:13\)/,
  },
  {
    name: 'junction element with dependencies',
    files: { 'project.conf': conf, 'elements/sdk.bst': 'kind: junction\nsources: []\ndepends:\n- x.bst\n' },
    target: 'sdk.bst',
    expect: /elements\/sdk\.bst: a junction element cannot have dependencies \(elements\/sdk\.bst:4:3\)/,
  },
  {
    name: 'junction.bst:element.bst through a missing junction',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\ndepends:\n- sdk.bst:base.bst\n' },
    target: 'x.bst',
    expect: /element 'sdk\.bst' not found: elements\/sdk\.bst does not exist \(referenced in elements\/x\.bst:3:3\)/,
  },
  {
    name: 'bad element name (no .bst)',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\ndepends:\n- base\n' },
    target: 'x.bst',
    expect: /invalid element name 'base' in elements\/x\.bst:3:3: it does not end in '\.bst'/,
  },
  {
    name: 'bad element name (escapes element-path)',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\ndepends:\n- ../outside.bst\n' },
    target: 'x.bst',
    expect: /invalid element name '\.\.\/outside\.bst' in elements\/x\.bst:3:3: it has an empty, '\.' or '\.\.' component/,
  },
  {
    name: 'wrong type: depends is a mapping',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\ndepends:\n  filename: y.bst\n' },
    target: 'x.bst',
    expect: /'depends' in elements\/x\.bst:3:3 must be a list, not a mapping/,
  },
  {
    name: 'wrong type: bad boolean',
    files: { 'project.conf': conf, 'elements/y.bst': 'kind: stack\n', 'elements/x.bst': 'kind: stack\ndepends:\n- filename: y.bst\n  strict: yes\n' },
    target: 'x.bst',
    expect: /'strict' in elements\/x\.bst:4:11 must be a boolean \(True or False\), not 'yes'/,
  },
  {
    name: 'wrong type: sandbox uid',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\nsandbox:\n  build-uid: root\n' },
    target: 'x.bst',
    expect: /'sandbox\.build-uid' in elements\/x\.bst:3:14 must be an integer, not 'root'/,
  },
  {
    name: 'bad ref-storage',
    files: { 'project.conf': 'name: p\nref-storage: git\n' },
    expect: /ref-storage 'git' in project\.conf:2:14 must be inline or project\.refs/,
  },
  {
    name: 'plugin from a junction',
    files: { 'project.conf': 'name: p\nplugins:\n- origin: junction\n  junction: plugins.bst\n' },
    expect: /plugins from junctions are not supported \(project\.conf:3:11\)/,
  },
  {
    name: 'source without kind',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: import\nsources:\n- url: a:b\n' },
    target: 'x.bst',
    expect: /missing required key 'kind' in source #1 of elements\/x\.bst \(elements\/x\.bst:3:3\)/,
  },
  {
    name: 'YAML syntax error',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: manual\nconfig: {build-commands: [make}\n' },
    target: 'x.bst',
    expect: /invalid YAML in elements\/x\.bst:2:\d+/,
  },
  {
    name: '(!) assertion through a (?) conditional',
    files: {
      'project.conf': 'name: p\nelement-path: elements\noptions:\n  arch:\n    type: enum\n    values: [x86_64, mips]\n    default: x86_64\n',
      'elements/x.bst': 'kind: stack\n(?):\n- arch == "mips":\n    (!): mips is not supported\n',
    },
    target: 'x.bst',
    options: { arch: 'mips' },
    expect: /mips is not supported \(elements\/x\.bst:4:10\)/,
  },
  {
    name: 'invalid option value',
    files: { 'project.conf': 'name: p\noptions:\n  debug:\n    type: bool\n    default: False\n' },
    options: { debug: 'maybe' },
    expect: /invalid value 'maybe' for option 'debug' as given \(declared in project\.conf:3:3\); it is a bool: give True or False/,
  },
  {
    name: 'include cycle',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\n(@): inc/a.yml\n', 'inc/a.yml': '(@): inc/b.yml\n', 'inc/b.yml': '(@): inc/a.yml\n' },
    target: 'x.bst',
    expect: /include cycle: inc\/a\.yml -> inc\/b\.yml -> inc\/a\.yml \(at inc\/b\.yml:1:6\)/,
  },
  {
    name: 'config on a stack',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\nconfig:\n  commands: []\n' },
    target: 'x.bst',
    expect: /unknown key 'commands' in elements\/x\.bst:3:3 \(config of a stack element \(elements\/x\.bst\)\); it takes no keys/,
  },
  {
    name: 'strict runtime dependency',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\nruntime-depends:\n- filename: y.bst\n  strict: true\n', 'elements/y.bst': 'kind: stack\n' },
    target: 'x.bst',
    expect: /runtime dependency y\.bst is marked strict in elements\/x\.bst:4:11/,
  },
  {
    name: 'strict dependency of type runtime',
    files: {
      'project.conf': conf,
      'elements/x.bst': 'kind: stack\ndepends:\n- filename: y.bst\n  type: runtime\n  strict: true\n',
      'elements/y.bst': 'kind: stack\n',
    },
    target: 'x.bst',
    expect: /runtime dependency y\.bst is marked strict/,
  },
  {
    name: 'strict: false said explicitly',
    files: { 'project.conf': conf, 'elements/x.bst': 'kind: stack\ndepends:\n- filename: y.bst\n  strict: false\n', 'elements/y.bst': 'kind: stack\n' },
    target: 'x.bst',
    expect: /'strict: false' in elements\/x\.bst:4:11: a dependency is not strict unless it says so/,
  },
  {
    name: 'a kind listed under two plugins entries',
    files: {
      'project.conf': 'name: p\nplugins:\n- origin: local\n  path: bar\n  elements:\n    foo: 0\n- origin: local\n  path: baz\n  elements:\n    foo: 0\n',
    },
    expect: /element kind 'foo' is listed twice under plugins: in project\.conf:6:5 and project\.conf:10:5/,
  },
  {
    name: 'a source kind listed by core and by a plugin',
    files: { 'project.conf': 'name: p\nplugins:\n- origin: core\n  sources:\n    git: 0\n- origin: pip\n  package-name: x\n  sources: [git]\n' },
    expect: /source kind 'git' is listed twice under plugins/,
  },
  {
    name: 'format-version too new',
    files: { 'project.conf': 'name: p\nformat-version: 99\n' },
    expect: /project\.conf asks for format-version 99 \(project\.conf:2:17\); kiln reads up to 23/,
  },
];

for (const c of cases) {
  test(c.name, () => {
    const dir = writeProject(c.files);
    try {
      const p = loadProject(dir, c.options ? { options: c.options } : {});
      if (c.target) p.element(c.target);
      assert.unreachable(`expected an error matching ${c.expect}`);
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      assert.match(e.message, c.expect);
    }
  });
}

test(`the table has at least 20 cases (${cases.length})`, () => {
  assert.ok(cases.length >= 20);
});

test.run();
