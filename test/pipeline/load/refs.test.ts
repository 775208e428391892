import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatRef, loadProject, writeSourceRef } from '../../../src/pipeline/load/index.js';
import { MINIMAL_CONF, writeProject } from './project-files.js';

const BUSYBOX = `# BusyBox
kind: manual

sources:
# the upstream tarball
- kind: tar   # comment after the kind
  url: busybox:busybox-1.27.2.tar.bz2
- kind: local
  path: files/config
  ref: stale   # local has no ref, but this one must survive

config:
  build-commands:
  - make
`;

test('inline: a missing ref is added after the last key, everything else byte-identical', () => {
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/busybox.bst': BUSYBOX });
  const p = loadProject(dir);
  const e = p.element('busybox.bst');
  const ref = '9d4be516b61e6480f156b11eb42577a13529f75d3383850bb75c50c285de63df';
  assert.is(writeSourceRef(e, 0, ref), join(dir, 'elements/busybox.bst'));
  const text = readFileSync(join(dir, 'elements/busybox.bst'), 'utf8');
  assert.is(text, BUSYBOX.replace('  url: busybox:busybox-1.27.2.tar.bz2\n', `  url: busybox:busybox-1.27.2.tar.bz2\n  ref: ${ref}\n`));
  assert.is(e.sources[0]!.ref, ref);
  // a fresh load sees it
  assert.is(loadProject(dir).element('busybox.bst').sources[0]!.ref, ref);
});

test('inline: an existing ref is replaced in place, keeping its trailing comment', () => {
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/busybox.bst': BUSYBOX });
  const e = loadProject(dir).element('busybox.bst');
  writeSourceRef(e, 1, 'fresh');
  const text = readFileSync(join(dir, 'elements/busybox.bst'), 'utf8');
  assert.is(text, BUSYBOX.replace('  ref: stale   # local', '  ref: fresh   # local'));
});

test('inline: flow mappings, last-line-without-newline, numbers that must stay strings', () => {
  const flow = 'kind: import\nsources:\n- {kind: tar, url: "a:b.tar"}\n';
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/f.bst': flow, 'elements/g.bst': 'kind: import\nsources:\n- kind: tar\n  url: a:b.tar' });
  const p = loadProject(dir);
  writeSourceRef(p.element('f.bst'), 0, '0123');
  assert.is(readFileSync(join(dir, 'elements/f.bst'), 'utf8'), 'kind: import\nsources:\n- {kind: tar, url: "a:b.tar", ref: "0123" }\n');
  writeSourceRef(p.element('g.bst'), 0, 'abc123');
  assert.is(readFileSync(join(dir, 'elements/g.bst'), 'utf8'), 'kind: import\nsources:\n- kind: tar\n  url: a:b.tar\n  ref: abc123\n');
  const again = loadProject(dir);
  assert.is(again.element('f.bst').sources[0]!.ref, '0123');
  assert.is(again.element('g.bst').sources[0]!.ref, 'abc123');
});

test('inline: an empty ref: gets its value; a block map in the middle of the list', () => {
  const text = 'kind: import\nsources:\n- kind: tar\n  ref:\n  url: x:y\n- kind: tar\n  url: x:z\n\n  # trailing comment\nconfig: {}\n';
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/e.bst': text });
  const e = loadProject(dir).element('e.bst');
  writeSourceRef(e, 0, 'aaa1');
  writeSourceRef(e, 1, 'bbb2');
  assert.is(readFileSync(join(dir, 'elements/e.bst'), 'utf8'), 'kind: import\nsources:\n- kind: tar\n  ref: aaa1\n  url: x:y\n- kind: tar\n  url: x:z\n  ref: bbb2\n\n  # trailing comment\nconfig: {}\n');
});

test('several writes into one file: later sources keep correct positions', () => {
  const block = 'kind: import\nsources:\n- kind: tar\n  url: a:1\n- kind: tar\n  url: a:2\n';
  const flow = 'kind: import\nsources: [{kind: tar, url: "a:1"}, {kind: tar, url: "a:2"}]\n';
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/b.bst': block, 'elements/f.bst': flow });
  const p = loadProject(dir);
  for (const name of ['b.bst', 'f.bst']) {
    const e = p.element(name);
    writeSourceRef(e, 0, 'aa11');
    writeSourceRef(e, 1, 'bb22');
    writeSourceRef(e, 0, 'cc33');
  }
  assert.is(readFileSync(join(dir, 'elements/b.bst'), 'utf8'), 'kind: import\nsources:\n- kind: tar\n  url: a:1\n  ref: cc33\n- kind: tar\n  url: a:2\n  ref: bb22\n');
  assert.is(readFileSync(join(dir, 'elements/f.bst'), 'utf8'), 'kind: import\nsources: [{kind: tar, url: "a:1", ref: cc33 }, {kind: tar, url: "a:2", ref: bb22 }]\n');
  const again = loadProject(dir);
  assert.equal(again.element('f.bst').sources.map((s) => s.ref), ['cc33', 'bb22']);
});

test('formatRef quotes what YAML would not read back as the same string', () => {
  assert.is(formatRef('9d4be516b61e'), '9d4be516b61e');
  assert.is(formatRef('1e10'), '"1e10"');
  assert.is(formatRef('123'), '"123"');
  assert.is(formatRef('yes'), '"yes"');
  assert.is(formatRef('a b'), '"a b"');
  assert.is(formatRef(['x', 'y']), '["x","y"]');
});

test('project.refs: created when missing, one entry per source, inline refs ignored with a warning', () => {
  const dir = writeProject({
    'project.conf': 'name: proj\nelement-path: elements\nref-storage: project.refs\n',
    'elements/e.bst': 'kind: import\nsources:\n- kind: local\n  path: files\n- kind: tar\n  url: a:b\n  ref: inline-ignored\n',
  });
  const p = loadProject(dir);
  const e = p.element('e.bst');
  assert.is(e.sources[1]!.ref, undefined);
  assert.match(p.warnings.join('\n'), /elements\/e\.bst:7:8: inline ref ignored because ref-storage is project\.refs/);
  assert.is(writeSourceRef(e, 1, 'f00d'), join(dir, 'project.refs'));
  assert.is(readFileSync(join(dir, 'elements/e.bst'), 'utf8').includes('inline-ignored'), true);
  const again = loadProject(dir).element('e.bst');
  assert.is(again.sources[1]!.ref, 'f00d');
  assert.is(again.sources[0]!.ref, undefined);
  writeSourceRef(again, 0, 'beef');
  const refs = readFileSync(join(dir, 'project.refs'), 'utf8');
  assert.match(refs, /projects:\n\s+proj:\n\s+e\.bst:\n\s+- ref: beef\n\s+- ref: f00d\n/);
});

test('a source declared in an include is refused', () => {
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'inc/src.yml': 'sources:\n- kind: tar\n  url: a:b\n', 'elements/e.bst': 'kind: import\n(@): inc/src.yml\n' });
  const e = loadProject(dir).element('e.bst');
  assert.throws(() => writeSourceRef(e, 0, 'x1'), /source #1 of e\.bst is declared in inc\/src\.yml:2:3, not in elements\/e\.bst/);
});

test.run();
