import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../../src/pipeline/load/index.js';

const dir = fileURLToPath(new URL('../fixtures/seed-example/', import.meta.url));
const p = loadProject(dir, { maxJobs: 4 });
const names = (l: { name: string }[]) => l.map((e) => e.name);

test('project.conf: name, element-path, aliases, x86image declared by pip', () => {
  assert.is(p.project.name, 'test-image');
  assert.ok(p.project.elementDirectory.endsWith('/elements'));
  assert.is(p.project.aliases.kernel, 'https://www.kernel.org/pub/');
  assert.is(p.project.declaredPlugins.get('x86image'), 'pip:BuildStream-external');
  assert.is(p.project.declaredPlugins.get('docker'), 'pip:docker');
  assert.is(p.project.refStorage, 'inline');
});

test('staging order of ALL(image-x86_64.bst) follows docs/format.md#dependency-order', () => {
  const img = p.element('image-x86_64.bst');
  assert.equal(names(p.scope(img, 'all')), [
    'base.bst',
    'contents/musl.bst',
    'contents/busybox.bst',
    'contents/hello.bst',
    'contents.bst',
    'image/initramfs/initramfs-scripts.bst',
    'image/initramfs/initramfs.bst',
    'image/initramfs/initramfs-gz.bst',
    'image/linux.bst',
    'image/system.bst',
    'image-x86_64.bst',
  ]);
  // direct deps sorted: base before system because system depends on base (through linux)
  assert.equal(names(img.dependencies.map((d) => d.element)), ['base.bst', 'image/system.bst']);
});

test('RUN and BUILD scopes', () => {
  assert.equal(names(p.scope(p.element('contents.bst'), 'run')), ['contents/musl.bst', 'contents/busybox.bst', 'contents/hello.bst', 'contents.bst']);
  // building busybox stages base only: musl is a runtime dependency
  assert.equal(names(p.scope(p.element('contents/busybox.bst'), 'build')), ['base.bst']);
  assert.equal(names(p.scope(p.element('image/initramfs/initramfs.bst'), 'build')), [
    'contents/musl.bst',
    'contents/busybox.bst',
    'contents/hello.bst',
    'contents.bst',
    'image/initramfs/initramfs-scripts.bst',
  ]);
  assert.equal(names(p.scope(p.element('image/system.bst'), 'build')), [
    'contents/musl.bst',
    'contents/busybox.bst',
    'contents/hello.bst',
    'contents.bst',
    'image/initramfs/initramfs-gz.bst',
    'image/linux.bst',
  ]);
  const bb = p.element('contents/busybox.bst');
  assert.equal(
    bb.dependencies.map((d) => [d.element.name, d.type]),
    [
      ['base.bst', 'build'],
      ['contents/musl.bst', 'runtime'],
    ],
  );
});

test('expanded variables and environment', () => {
  const bb = p.element('contents/busybox.bst');
  assert.is(bb.variables['build-root'], '/buildstream/test-image/contents/busybox.bst');
  assert.is(bb.variables['install-root'], '/buildstream-install');
  assert.is(bb.variables['bindir'], '/usr/bin');
  assert.is(bb.variables['max-jobs'], '4');
  assert.is(bb.environment.PATH, '/usr/bin:/bin:/usr/sbin:/sbin:/tools/bin:/tools/sbin');
  assert.is(bb.environment.MAKEFLAGS, '-j4');
  assert.is(bb.environment.SOURCE_DATE_EPOCH, '1320937200');
  assert.equal(bb.environmentNocache, ['MAKEFLAGS', 'V']);
  assert.equal(bb.sandbox, { buildUid: 0, buildGid: 0 });
  assert.equal((bb.config['install-commands'] as string[])[1], 'mkdir -p "/buildstream-install/etc"');
});

test('split rules: the project runtime globs, expanded, extended by (>) with stripped block strings', () => {
  const bb = p.element('contents/busybox.bst');
  const rules = (bb.public.bst as Record<string, Record<string, string[]>>)['split-rules']!;
  assert.equal(rules.runtime, ['/usr/bin/*', '/usr/sbin/*', '/usr/libexec/*', '/usr/lib/lib*.so*', '/bin/*', '/sbin/*']);
  assert.equal(rules.devel![0], '/usr/include');
  assert.equal(rules.debug, ['/usr/lib/debug', '/usr/lib/debug/**']);
});

test('autotools defaults under the element: configure replaced by %{configure} only', () => {
  const musl = p.element('contents/musl.bst');
  const configure = musl.config['configure-commands'] as string[];
  assert.is(configure.length, 1);
  assert.match(configure[0]!, /^\.\/configure --prefix=\/usr \\\n--exec-prefix=\/usr \\\n--bindir=\/usr\/bin/);
  assert.equal(musl.config['build-commands'], ['make']);
  assert.equal(musl.config['install-commands'], ['make -j1 DESTDIR="/buildstream-install" install']);
  // an all-digit ref stays a string
  assert.is(musl.sources[0]!.ref, '0000000000000000000000000000000000000000000000000000000000001118');
  assert.equal(musl.sources[0]!.config, { url: 'musl:musl-1.1.18.tar.gz' });
  assert.is(p.element('contents/busybox.bst').sources[0]!.ref, undefined);
});

test('sources: directory with the leading / stripped; positions kept', () => {
  const hello = p.element('contents/hello.bst');
  assert.is(hello.sources[0]!.kind, 'local');
  assert.is(hello.sources[0]!.directory, 'usr/bin');
  assert.equal(hello.sources[0]!.position, { file: 'elements/contents/hello.bst', line: 9, col: 3 });
  assert.equal(hello.positions.get('sources.0.path'), { file: 'elements/contents/hello.bst', line: 10, col: 9 });
});

test('script layout and cwd expanded; folded commands', () => {
  const gz = p.element('image/initramfs/initramfs-gz.bst');
  assert.is(gz.variables.cwd, '/buildstream/test-image/image/initramfs/initramfs-gz.bst');
  assert.equal(gz.config.layout, [
    { element: 'contents.bst', destination: '/' },
    { element: 'image/initramfs/initramfs.bst', destination: '/buildstream/test-image/image/initramfs/initramfs-gz.bst' },
  ]);
  assert.is((gz.config.commands as string[])[2], '(find . -print0 | cpio -0 -H newc -o) | gzip -c > /buildstream-install/boot/initramfs.gz');
  assert.is(gz.config['root-read-only'], 'False');
});

test('x86image: defaults, the example variables, final-commands extended with (>)', () => {
  const img = p.element('image-x86_64.bst');
  assert.is(img.variables['boot-size'], '16M');
  assert.is(img.variables['sector-size'], '512');
  assert.is(img.variables['kernel-name'], 'vmlinuz-4.14.3');
  assert.is(img.variables['kernel-args'], 'root=/dev/sda2 rootfstype=ext4 init=/sbin/init console=ttyS0');
  assert.is(img.config.base, 'base.bst');
  assert.is(img.config.input, 'image/system.bst');
  const final = img.config['final-commands'] as string[];
  assert.is(final.length, 2);
  assert.is(final[0], 'chmod 0644 /buildstream-install/sda.img');
  assert.match(final[1]!, /^cat > \/buildstream-install\/run-in-qemu\.sh << EOF\n#!\/bin\/sh\n.*\nEOF\nchmod \+x \/buildstream-install\/run-in-qemu\.sh$/);
});

test('linux integration command: a folded plain scalar', () => {
  const linux = p.element('image/linux.bst');
  const bst = linux.public.bst as Record<string, unknown>;
  assert.equal(bst['integration-commands'], ['if which depmod; then (cd /usr/lib/modules && for version in *; do depmod -a "$version"; done) fi']);
});

test('each element is loaded once and shared', () => {
  assert.is(p.element('base.bst'), p.element('contents/busybox.bst').dependencies[0]!.element);
  assert.is(p.loadedElements().length, 11);
});

test.run();
