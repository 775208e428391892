import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateCondition, loadProject, type ProjectOption } from '../../../src/pipeline/load/index.js';
import { writeProject } from './project-files.js';

const pos = { file: 'x.bst', line: 1, col: 1 };
const opts = new Map<string, ProjectOption>([
  ['arch', { name: 'arch', type: 'arch', value: 'x86_64' }],
  ['debug', { name: 'debug', type: 'bool', value: true }],
  ['features', { name: 'features', type: 'flags', value: ['docs', 'tests'] }],
]);

test('(?) expressions: ==, !=, bools, in, not in, and/or/not, parentheses', () => {
  const ev = (e: string) => evaluateCondition(e, opts, pos);
  assert.is(ev('arch == "x86_64"'), true);
  assert.is(ev("arch != 'x86_64'"), false);
  assert.is(ev('debug'), true);
  assert.is(ev('not debug'), false);
  assert.is(ev('"docs" in features'), true);
  assert.is(ev('"man" in features'), false);
  assert.is(ev('"man" not in features'), true);
  assert.is(ev('debug and (arch == "aarch64" or "tests" in features)'), true);
  assert.is(ev('debug == True'), true);
  assert.throws(() => ev('colour == "red"'), /bad condition 'colour == "red"' in x\.bst:1:1: unknown option 'colour'/);
  assert.throws(() => ev('arch == '), /unexpected end/);
  assert.throws(() => ev('(debug'), /missing '\)'/);
});

const files = {
  'project.conf': `name: p
element-path: elements
options:
  flavour:
    type: enum
    values: [small, big]
    default: small
    variable: flavour
  debug:
    type: bool
    default: False
    variable: debug-enabled
variables:
  (?):
  - flavour == "big":
      jobs: many
  - debug:
      cflags: -O0 -g
  jobs: few
  cflags: -O2
`,
  'include/common.yml': 'variables:\n  from-include: yes-it-is\n  size: overridden-by-includer\nconfig:\n  build-commands:\n  - make common\n',
  'elements/x.bst': `kind: manual
(@): include/common.yml
variables:
  size: mine
  target: "%{size}-%{jobs}"
config:
  build-commands:
    (>):
    - make %{target} CFLAGS="%{cflags}"
  (?):
  - flavour == "big":
      install-commands:
      - make install-big
`,
};

test('options: defaults, variables exported, (?) in project.conf and elements, (@) composited under', () => {
  const dir = writeProject(files);
  const small = loadProject(dir).element('x.bst');
  // the include's size loses to the element's own (the includer wins)
  assert.is(small.variables.size, 'mine');
  assert.is(small.variables.flavour, 'small');
  assert.is(small.variables['debug-enabled'], '0');
  assert.is(small.variables['from-include'], 'yes-it-is');
  assert.equal(small.config['build-commands'], ['make common', 'make mine-few CFLAGS="-O2"']);
  assert.equal(small.config['install-commands'], []);
  assert.equal(small.project.options, { debug: 'False', flavour: 'small' });

  const big = loadProject(dir, { options: { flavour: 'big', debug: 'True' } }).element('x.bst');
  assert.is(big.variables.flavour, 'big');
  assert.is(big.variables['debug-enabled'], '1');
  assert.equal(big.config['build-commands'], ['make common', 'make mine-many CFLAGS="-O0 -g"']);
  assert.equal(big.config['install-commands'], ['make install-big']);
});

test('unknown and invalid option values', () => {
  const dir = writeProject(files);
  assert.throws(
    () => loadProject(dir, { options: { flavor: 'big' } }),
    /unknown project option 'flavor'; the project declares flavour, debug \(options: in project\.conf:\d+:\d+\)/,
  );
  assert.throws(
    () => loadProject(dir, { options: { flavour: 'huge' } }),
    /invalid value 'huge' for option 'flavour' as given \(declared in project\.conf:\d+:\d+\); valid values are small, big/,
  );
});

test('project.conf elements/sources overrides and includes in project.conf', () => {
  const dir = writeProject({
    'project.conf': `name: p
element-path: elements
(@): project-common.yml
elements:
  autotools:
    variables:
      conf-local: --disable-nls
    config:
      install-commands:
        (>):
        - echo installed
sources:
  tar:
    config:
      base-dir: "src-*"
`,
    'project-common.yml': 'variables:\n  prefix: /opt\nenvironment:\n  LANG: C.UTF-8\n',
    'elements/a.bst': 'kind: autotools\nsources:\n- kind: tar\n  url: x:a.tar\n- kind: tar\n  url: x:b.tar\n  base-dir: ~\n',
  });
  const a = loadProject(dir).element('a.bst');
  assert.is(a.variables.prefix, '/opt');
  assert.is(a.variables.bindir, '/opt/bin');
  assert.is(a.environment.LANG, 'C.UTF-8');
  assert.equal(a.config['install-commands'], ['make -j1 DESTDIR="/buildstream-install" install', 'echo installed']);
  assert.match((a.config['configure-commands'] as string[])[1]!, /--infodir=\/opt\/share\/info\s+--disable-nls$/);
  assert.equal(a.sources[0]!.config, { 'base-dir': 'src-*', url: 'x:a.tar' });
  // base-dir: ~ means the archive root: kept as an empty string
  assert.equal(a.sources[1]!.config, { 'base-dir': '', url: 'x:b.tar' });
});

test.run();
