import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { elementKinds, kindDefaults } from '../../../src/pipeline/kinds/registry.js';
import { loadProject } from '../../../src/pipeline/load/index.js';
import { toPlain } from '../../../src/pipeline/load/node.js';
import { parseYaml } from '../../../src/pipeline/load/yaml.js';
import { sourceKinds } from '../../../src/pipeline/sources/registry.js';
import { writeProject } from './project-files.js';

test('every element kind has parseable defaults whose config keys it accepts', () => {
  for (const [name, kind] of elementKinds) {
    const d = toPlain(parseYaml(kindDefaults(kind), name)) as Record<string, Record<string, unknown>>;
    for (const key of Object.keys(d))
      assert.ok(['variables', 'environment', 'environment-nocache', 'config', 'public', 'sandbox'].includes(key), `${name}: ${key}`);
    for (const key of Object.keys(d.config ?? {})) assert.ok(kind.configKeys.includes(key), `${name}: config key ${key}`);
  }
  // kinds added later join the tables
  for (const k of [
    'import',
    'stack',
    'compose',
    'script',
    'manual',
    'autotools',
    'make',
    'cmake',
    'meson',
    'distutils',
    'pip',
    'makemaker',
    'modulebuild',
    'qmake',
    'filter',
    'junction',
    'x86image',
  ])
    assert.ok(elementKinds.has(k), k);
  for (const k of ['local', 'tar', 'remote', 'patch', 'git', 'deb', 'debsrc']) assert.ok(sourceKinds.has(k), k);
});

test('each kind loads with its defaults expanded', () => {
  const files: Record<string, string> = {
    'project.conf': 'name: kinds\nplugins:\n- origin: pip\n  package-name: BuildStream-external\n  elements:\n    x86image: 0\n',
  };
  for (const kind of elementKinds.keys()) files[`${kind}.bst`] = `kind: ${kind}\n`;
  const p = loadProject(writeProject(files), { maxJobs: 3 });
  const e = (k: string) => p.element(`${k}.bst`);
  // strip-binaries as bst 1.x: split the debug info of each ELF file, then strip it
  assert.equal(Object.keys(e('manual').config), ['configure-commands', 'build-commands', 'install-commands', 'strip-commands']);
  const strip = (e('manual').config['strip-commands'] as string[])[0]!;
  assert.match(strip, /^cd "\/buildstream-install" && find -type f \\\n/);
  assert.ok(strip.includes('debugfile="/buildstream-install/usr/lib/debug/$1"'));
  assert.ok(strip.includes('objcopy --only-keep-debug --compress-debug-sections "$1" "$debugfile"'));
  assert.ok(strip.includes('strip --remove-section=.comment --remove-section=.note --strip-unneeded "$1"'));
  assert.equal(e('manual').environment.MAKEFLAGS, '-j3');
  assert.equal(e('make').config['install-commands'], ['make -j1 PREFIX="/usr" DESTDIR="/buildstream-install" install']);
  assert.is(e('make').variables['make-install-args'], 'PREFIX="/usr" DESTDIR="/buildstream-install" install');
  assert.match(
    (e('autotools').config['configure-commands'] as string[])[0]!,
    /^export NOCONFIGURE=1;\n\nif \[ -x \.\/configure \]; then true;\nelif \[ -x autogen \]; then \.\/autogen;\n/,
  );
  assert.equal(e('cmake').config['build-commands'], ['cmake --build _builddir -- ${JOBS}']);
  assert.equal(e('cmake').environment.JOBS, '-j3');
  assert.equal(e('cmake').environment.V, '1');
  assert.equal(e('cmake').environmentNocache, ['JOBS', 'V']);
  assert.match(
    (e('cmake').config['configure-commands'] as string[])[0]!,
    /^cmake -B_builddir -H\. -G"Unix Makefiles" -DCMAKE_INSTALL_PREFIX:PATH="\/usr" \\\n-DCMAKE_INSTALL_LIBDIR:PATH="lib"/,
  );
  // bst 1.x's other core build elements
  assert.equal(e('meson').config['configure-commands'], [
    'meson _builddir --prefix=/usr \\\n--bindir=/usr/bin \\\n--sbindir=/usr/sbin \\\n--sysconfdir=/etc \\\n--datadir=/usr/share \\\n--includedir=/usr/include \\\n--libdir=/usr/lib \\\n--libexecdir=/usr/libexec \\\n--localstatedir=/var \\\n--sharedstatedir=/usr/com \\\n--mandir=/usr/share/man \\\n--infodir=/usr/share/info   ',
  ]);
  assert.equal(e('meson').config['build-commands'], ['ninja -j ${NINJAJOBS} -C _builddir']);
  assert.is(e('meson').environment.NINJAJOBS, '3');
  assert.equal(e('distutils').config['install-commands'], ['python3 setup.py install --prefix "/usr" \\\n--root "/buildstream-install"']);
  assert.is((e('distutils').config['strip-commands'] as string[]).length, 2);
  assert.equal(e('pip').config['install-commands'], ['pip install --no-deps --root=/buildstream-install --prefix=/usr .']);
  assert.equal(e('makemaker').config['configure-commands'], ['perl Makefile.PL PREFIX=/buildstream-install/usr']);
  assert.equal(e('modulebuild').config['configure-commands'], ['perl Build.PL --prefix "/buildstream-install/usr"']);
  assert.equal(e('qmake').config['install-commands'], ['make -j1 INSTALL_ROOT="/buildstream-install" install']);
  assert.equal(e('junction').config, {});
  assert.equal(e('import').config, { source: '/', target: '/' });
  assert.equal(e('stack').config, {});
  assert.equal(e('compose').config, { integrate: 'True', include: [], exclude: [], 'include-orphans': 'True' });
  assert.equal(e('script').config, { commands: [], 'root-read-only': 'False', 'create-dev-shm': 'False' });
  assert.is(e('script').variables.cwd, '/');
  assert.equal(e('filter').config, { include: [], exclude: [], 'include-orphans': 'False', 'pass-integration': 'False' });
  assert.is(e('x86image').variables['kernel-name'], 'vmlinuz');
  assert.equal(e('x86image').config['final-commands'], ['chmod 0644 /buildstream-install/sda.img']);
  assert.is(e('import').variables['build-root'], '/buildstream/kinds/import.bst');
});

test('make: make-args and make-install-args are what a project overrides; create-dev-shm is accepted', () => {
  const p = loadProject(
    writeProject({
      'project.conf': 'name: m\n',
      'm.bst': 'kind: make\nvariables:\n  make-args: CC=cc PREFIX=/opt\nconfig:\n  create-dev-shm: true\n',
      'c.bst': 'kind: cmake\nconfig:\n  create-dev-shm: true\n',
    }),
  );
  assert.equal(p.element('m.bst').config['build-commands'], ['make CC=cc PREFIX=/opt']);
  assert.equal(p.element('m.bst').config['install-commands'], ['make -j1 CC=cc PREFIX=/opt DESTDIR="/buildstream-install" install']);
  assert.is(p.element('c.bst').config['create-dev-shm'], 'true');
});

test('notparallel makes max-jobs 1', () => {
  const p = loadProject(writeProject({ 'project.conf': 'name: n\n', 'e.bst': 'kind: manual\nvariables:\n  notparallel: True\n' }), { maxJobs: 6 });
  assert.is(p.element('e.bst').variables['max-jobs'], '1');
  assert.is(p.element('e.bst').environment.MAKEFLAGS, '-j1');
});

test.run();
