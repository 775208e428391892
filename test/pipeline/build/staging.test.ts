import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readContent } from '../../../src/fs/file-content.js';
import { FileTree } from '../../../src/fs/tree.js';
import { computeManifest, selectPaths, splitRules } from '../../../src/pipeline/kinds/split-rules.js';
import { globToRegExp } from '../../../src/pipeline/util/glob.js';
import { resolveInTree, stageTree } from '../../../src/pipeline/kinds/stage-tree.js';
import type { DepType, Element } from '../../../src/pipeline/model.js';
import { scope } from '../../../src/pipeline/scope.js';
import { makeElement, makeProject } from './hand-elements.js';

const text = (t: FileTree, p: string): string => new TextDecoder().decode(readContent(t.get(p)!.content!));

test('dependency scopes of the example project give its documented staging order', () => {
  const p = makeProject();
  const el = (name: string, deps: [Element, DepType][] = []) => makeElement(p, name, { kind: 'manual', deps });
  // Direct deps in the loader's order (docs/format.md#dependency-order): dependencies first, build before runtime, then by name.
  const base = el('base.bst');
  const musl = el('contents/musl.bst', [[base, 'build']]);
  const busybox = el('contents/busybox.bst', [
    [base, 'build'],
    [musl, 'runtime'],
  ]);
  const hello = el('contents/hello.bst', [[busybox, 'runtime']]);
  const contents = el('contents.bst', [
    [busybox, 'all'],
    [hello, 'all'],
  ]);
  const scripts = el('image/initramfs/initramfs-scripts.bst');
  const initramfs = el('image/initramfs/initramfs.bst', [
    [contents, 'build'],
    [scripts, 'build'],
  ]);
  const gz = el('image/initramfs/initramfs-gz.bst', [
    [contents, 'build'],
    [initramfs, 'build'],
  ]);
  const linux = el('image/linux.bst', [[base, 'build']]);
  const system = el('image/system.bst', [
    [contents, 'build'],
    [gz, 'build'],
    [linux, 'build'],
  ]);
  const image = el('image-x86_64.bst', [
    [base, 'build'],
    [system, 'build'],
  ]);
  const names = (es: Element[]) => es.map((e) => e.name.replace(/\.bst$/, ''));
  assert.equal(names(scope(image, 'all')), [
    'base',
    'contents/musl',
    'contents/busybox',
    'contents/hello',
    'contents',
    'image/initramfs/initramfs-scripts',
    'image/initramfs/initramfs',
    'image/initramfs/initramfs-gz',
    'image/linux',
    'image/system',
    'image-x86_64',
  ]);
  assert.equal(names(scope(contents, 'run')), ['contents/musl', 'contents/busybox', 'contents/hello', 'contents']);
  // Build-only deps of a dependency are never staged: busybox's build stages base only.
  assert.equal(names(scope(busybox, 'build')), ['base']);
  assert.equal(names(scope(initramfs, 'build')), ['contents/musl', 'contents/busybox', 'contents/hello', 'contents', 'image/initramfs/initramfs-scripts']);
  // A compose's runtime closure is itself: the image stages base and system only.
  assert.equal(names(scope(image, 'build')), ['base', 'image/system']);
});

test('staging goes through directory symlinks, later elements win overlaps, whitelists silence them', () => {
  const base = new FileTree();
  base.mkdirp('usr/lib');
  base.symlink('lib', 'usr/lib');
  base.mkdirp('usr/bin');
  base.symlink('bin', '/usr/bin');
  base.file('usr/bin/sh', 'base sh', { mode: 0o755 });
  const musl = new FileTree();
  musl.mkdirp('lib');
  musl.file('lib/ld-musl.so', 'ld', { mode: 0o755 });
  musl.mkdirp('bin');
  musl.file('bin/sh', 'musl sh', { mode: 0o4755 });
  const dest2 = new FileTree();
  assert.equal(stageTree(dest2, base, '/'), { overlaps: [], ignored: [] });
  const r = stageTree(dest2, musl, '/');
  assert.equal(r.overlaps, ['/usr/bin/sh']);
  assert.is(dest2.get('lib')!.type, 'symlink', 'the symlink stays a symlink');
  assert.is(text(dest2, 'usr/lib/ld-musl.so'), 'ld');
  assert.is(text(dest2, 'usr/bin/sh'), 'musl sh');
  assert.is(dest2.get('usr/bin/sh')!.mode, 0o4755);
  assert.is(resolveInTree(dest2, 'bin/sh'), 'usr/bin/sh');
  const again = stageTree(dest2, musl, '/', (p) => p === '/usr/bin/sh' || p.startsWith('/usr/lib/'));
  assert.equal(again.overlaps, []);
});

test('a file over a non-empty directory is ignored; over an empty one it replaces it', () => {
  const a = new FileTree();
  a.mkdirp('d/sub');
  a.mkdirp('e');
  const b = new FileTree();
  b.file('d', 'file d');
  b.file('e', 'file e');
  const dest = new FileTree();
  stageTree(dest, a);
  const r = stageTree(dest, b);
  assert.equal(r.ignored, ['/d']);
  assert.is(dest.get('d')!.type, 'dir');
  assert.is(dest.get('e')!.type, 'file');
});

test('staging at a subdirectory creates it', () => {
  const a = new FileTree();
  a.file('f', 'x');
  const dest = new FileTree();
  stageTree(dest, a, '/buildstream/p/e.bst');
  assert.is(text(dest, 'buildstream/p/e.bst/f'), 'x');
});

test('split-rule globs: * one component, ** anything, ? and classes', () => {
  assert.ok(globToRegExp('/usr/bin/*').test('/usr/bin/ls'));
  assert.not.ok(globToRegExp('/usr/bin/*').test('/usr/bin/x/y'));
  assert.ok(globToRegExp('/usr/include/**').test('/usr/include/a/b.h'));
  assert.ok(globToRegExp('/usr/lib/lib*.so*').test('/usr/lib/libc.so.6'));
  assert.ok(globToRegExp('/a?c').test('/abc'));
  assert.not.ok(globToRegExp('/a?c').test('/a/c'));
  assert.ok(globToRegExp('/x[0-9]').test('/x5'));
  assert.ok(globToRegExp('/x[!0-9]').test('/xa'));
  assert.not.ok(globToRegExp('/x[!0-9]').test('/x5'));
  assert.ok(globToRegExp('/a.b+c').test('/a.b+c'));
  assert.not.ok(globToRegExp('/a.b').test('/axb'));
});

test('compute_manifest: include runtime with orphans keeps runtime and unclaimed files, drops devel', () => {
  const p = makeProject();
  const e = makeElement(p, 'musl.bst', {
    kind: 'manual',
    public: {
      bst: {
        'split-rules': {
          runtime: ['/usr/bin/*', '/usr/lib/lib*.so*'],
          devel: ['/usr/include', '/usr/include/**', '/usr/lib/lib*.a'],
        },
      },
    },
  });
  const t = new FileTree();
  t.mkdirp('usr/bin');
  t.file('usr/bin/musl-gcc', '#!', { mode: 0o755 });
  t.mkdirp('usr/lib');
  t.file('usr/lib/libc.so', 'so');
  t.file('usr/lib/libc.a', 'a');
  t.mkdirp('usr/include/sys');
  t.file('usr/include/sys/types.h', 'h');
  t.mkdirp('lib');
  t.symlink('lib/ld-musl-x86_64.so.1', '/usr/lib/libc.so');
  t.mkdirp('etc'); // empty directory: listed
  const rules = splitRules(e);
  const sel = (include: string[], exclude: string[], orphans: boolean) => computeManifest(t, rules, { include, exclude, orphans }).sort();
  assert.equal(sel(['runtime'], [], true), ['etc', 'lib/ld-musl-x86_64.so.1', 'usr/bin/musl-gcc', 'usr/lib/libc.so']);
  assert.equal(sel(['runtime'], [], false), ['usr/bin/musl-gcc', 'usr/lib/libc.so']);
  assert.equal(sel([], ['devel'], true), ['etc', 'lib/ld-musl-x86_64.so.1', 'usr/bin/musl-gcc', 'usr/lib/libc.so']);
  assert.equal(sel(['devel'], [], false), ['usr/include/sys/types.h', 'usr/lib/libc.a']);
  assert.equal(sel([], [], true).length, 6, 'no split: everything');
  assert.equal(sel(['nosuchdomain'], [], false), []);
  const picked = selectPaths(t, sel(['devel'], [], false));
  assert.ok(picked.has('usr/include/sys'));
  assert.not.ok(picked.has('usr/bin'));
  assert.is(text(picked, 'usr/lib/libc.a'), 'a');
});

test.run();
