import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findProjectDirectory, loadProject } from '../../../src/pipeline/load/index.js';
import { writeProject } from './project-files.js';

test('project.conf keys: aliases (with project-root), mirrors, plugins, fatal warnings, shell, defaults', () => {
  const dir = writeProject({
    'project.conf': `name: full_project-1
element-path: elements
format-version: 12
min-version: "2.0"
aliases:
  upstream: https://example.org/pub/
  here: file://%{project-root}/files/
mirrors:
- name: office
  aliases:
    upstream:
    - https://mirror.example/pub/
    - file:///srv/pub/
plugins:
- origin: core
  elements:
    autotools: 20
- origin: local
  path: plugins/sources
  sources: [fancy]
- origin: pip
  package-name: BuildStream-external
  elements:
    x86image: 0
fatal-warnings:
- ref-not-in-track
fail-on-overlap: True
shell:
  command: [bash, --login]
  environment:
    DISPLAY: $DISPLAY
  host-files:
  - /etc/resolv.conf
artifacts:
  url: https://cache.example
defaults:
  targets:
  - top.bst
sandbox:
  build-uid: 1000
environment-nocache:
- EXTRA
`,
    'elements/e.bst': 'kind: stack\n',
  });
  const p = loadProject(dir);
  const pr = p.project;
  assert.is(pr.name, 'full_project-1');
  assert.equal(pr.aliases, { upstream: 'https://example.org/pub/', here: `file://${dir}/files/` });
  assert.equal(pr.mirrors, [{ name: 'office', aliases: { upstream: ['https://mirror.example/pub/', 'file:///srv/pub/'] } }]);
  assert.equal(
    [...pr.declaredPlugins],
    [
      ['fancy', 'local:plugins/sources'],
      ['x86image', 'pip:BuildStream-external'],
    ],
  );
  assert.equal(pr.fatalWarnings, ['ref-not-in-track', 'overlaps']);
  assert.equal(pr.shell, { command: ['bash', '--login'], environment: { DISPLAY: '$DISPLAY' }, hostFiles: ['/etc/resolv.conf'] });
  assert.equal(pr.defaultTargets, ['top.bst']);
  assert.equal(pr.artifactRemotes, [{ url: 'https://cache.example/', push: false, from: 'project.conf' }]);
  const e = p.element('e.bst');
  assert.equal(e.sandbox, { buildUid: 1000, buildGid: 0 });
  assert.equal(e.environmentNocache, ['EXTRA']);
  assert.is(e.variables['project-name'], 'full_project-1');
});

test('defaults: element-path ., inline refs, no plugins, default shell', () => {
  const dir = writeProject({ 'project.conf': 'name: tiny\n', 'x.bst': 'kind: stack\n' });
  const p = loadProject(dir);
  assert.is(p.project.elementDirectory, dir);
  assert.is(p.project.refStorage, 'inline');
  assert.equal(p.project.shell.command, ['sh', '-i']);
  assert.equal(p.project.fatalWarnings, []);
  assert.is(p.element('x.bst').name, 'x.bst');
});

test('findProjectDirectory searches upwards', () => {
  const dir = writeProject({ 'project.conf': 'name: up\n' });
  mkdirSync(join(dir, 'a/b/c'), { recursive: true });
  assert.is(findProjectDirectory(join(dir, 'a/b/c')), dir);
  assert.throws(() => findProjectDirectory('/proc/self'), /no project\.conf in \/proc\/self or any directory above it/);
});

test('element overrides for a kind and protected variables in project.conf', () => {
  const dir = writeProject({
    'project.conf':
      'name: p\nelements:\n  manual:\n    environment:\n      CC: musl-gcc\n    environment-nocache: [CC]\n    config:\n      strip-commands: []\n',
    'e.bst': 'kind: manual\n',
  });
  const e = loadProject(dir).element('e.bst');
  assert.is(e.environment.CC, 'musl-gcc');
  // the override's plain list replaces the kind default's [MAKEFLAGS, V] (composition), then the union
  assert.equal(e.environmentNocache, ['CC']);
  assert.equal(e.config['strip-commands'], []);
  const bad = writeProject({ 'project.conf': 'name: p\nvariables:\n  max-jobs: 64\n' });
  assert.throws(() => loadProject(bad), /variable 'max-jobs' is read-only and cannot be redefined \(project\.conf:3:3, project\.conf\)/);
  const badOverride = writeProject({ 'project.conf': 'name: p\nelements:\n  manual:\n    commands: []\n' });
  assert.throws(() => loadProject(badOverride), /unknown key 'commands' in project\.conf:4:5 \(project\.conf elements\.manual\)/);
});

test('2.x dependency config is kept and expanded', () => {
  const dir = writeProject({
    'project.conf': 'name: p\nplugins:\n- origin: pip\n  package-name: bst-plugins-community\n  elements: [x86image]\n',
    'sys.bst': 'kind: stack\n',
    'base.bst': 'kind: stack\n',
    'img.bst': 'kind: x86image\nbuild-depends:\n- base.bst\n- filename: sys.bst\n  config:\n    input: True\n    location: "%{build-root}"\n',
  });
  const img = loadProject(dir).element('img.bst');
  const sys = img.dependencies.find((d) => d.element.name === 'sys.bst')!;
  assert.equal(sys.config, { input: 'True', location: '/buildstream/p/img.bst' });
  assert.is(img.dependencies.find((d) => d.element.name === 'base.bst')!.config, undefined);
});

test.run();
