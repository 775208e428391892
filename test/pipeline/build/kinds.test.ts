import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContent } from '../../../src/fs/file-content.js';
import type { FileTree } from '../../../src/fs/tree.js';
import type { Pipeline } from '../../../src/pipeline/pipeline.js';
import { requireTool } from '../../helpers/tools.js';
import { writeBusyboxProject, writeProject } from '../fixtures/busybox-base/base.js';
import { build, names } from './chain-project.js';

/** Each element kind in a real build: import, stack, compose, script, manual, filter. */

requireTool('bwrap');
const work = mkdtempSync(join(tmpdir(), 'kiln-kinds-'));
const project = join(work, 'project');
const cache = join(work, 'cache');
writeBusyboxProject(project, {
  'sub-import.bst': 'kind: import\nsources:\n- kind: local\n  path: files/tree\nconfig:\n  source: /sub\n  target: /opt/imported\n',
  'bad-import.bst': 'kind: import\nsources:\n- kind: local\n  path: files/tree\nconfig:\n  source: /missing\n',
  'lib.bst': `kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/usr/bin %{install-root}/usr/include %{install-root}/usr/lib %{install-root}/etc
  - echo tool > %{install-root}/usr/bin/tool
  - echo header > %{install-root}/usr/include/x.h
  - echo archive > %{install-root}/usr/lib/libx.a
  - echo conf > %{install-root}/etc/lib.conf
public:
  bst:
    integration-commands:
    - echo integrated-by-lib > /etc/integrated
`,
  'stack.bst': 'kind: stack\ndepends:\n- base.bst\n- lib.bst\n',
  'runtime-only.bst': 'kind: compose\nbuild-depends:\n- stack.bst\nconfig:\n  include:\n  - runtime\n',
  'no-devel.bst': 'kind: compose\nbuild-depends:\n- lib.bst\nconfig:\n  exclude:\n  - devel\n  integrate: False\n',
  'devel-filter.bst': 'kind: filter\nbuild-depends:\n- lib.bst\nconfig:\n  include:\n  - devel\n',
  'layout.bst': `kind: script
build-depends:
- base.bst
- sub-import.bst
variables:
  cwd: '%{build-root}'
config:
  root-read-only: True
  layout:
  - element: base.bst
    destination: /
  - element: sub-import.bst
    destination: '%{build-root}'
  commands:
  - find . | sort > %{install-root}/listing
  - chmod 600 opt/imported/file
  - stat -c %a opt/imported/file > %{install-root}/mode
  - touch /etc/forbidden || echo refused > %{install-root}/root-ro
`,
  'one.bst': 'kind: import\nsources:\n- kind: local\n  path: files/one\n',
  'two.bst': 'kind: import\nsources:\n- kind: local\n  path: files/two\n',
  'overlap.bst': 'kind: compose\nbuild-depends:\n- one.bst\n- two.bst\n',
});
writeProject(project, {
  'files/tree/sub/file': 'imported\n',
  'files/tree/top': 'not imported\n',
  'files/one/etc/same': 'one\n',
  'files/two/etc/same': 'two\n',
});

const text = (t: FileTree, p: string): string => new TextDecoder().decode(readContent(t.get(p)!.content!));
const paths = (t: FileTree): string[] => [...t.walk()].map(([p]) => p).filter(Boolean);
const artifact = (p: Pipeline, name: string): FileTree => p.session.artifact(p.all.find((e) => e.name === name)!);

test('import takes config.source from the staged sources and places it at config.target', async () => {
  const { p } = await build(project, cache, ['sub-import.bst']);
  const t = artifact(p, 'sub-import.bst');
  assert.equal(paths(t), ['opt', 'opt/imported', 'opt/imported/file']);
  assert.is(text(t, 'opt/imported/file'), 'imported\n');
  const bad = await build(project, cache, ['bad-import.bst']);
  assert.match(bad.summary.failed[0]!.message, /No files were found inside directory '\/missing'/);
});

test('compose of a stack with include: runtime keeps runtime and orphan files, and integration output', async () => {
  const { p, summary } = await build(project, cache, ['runtime-only.bst']);
  assert.equal(names(summary.built), ['base.bst', 'lib.bst', 'runtime-only.bst', 'stack.bst']);
  assert.equal(paths(artifact(p, 'stack.bst')), [], 'a stack has an empty artifact');
  const t = artifact(p, 'runtime-only.bst');
  assert.ok(t.has('usr/bin/tool'));
  assert.ok(t.has('etc/lib.conf'), 'unclaimed: kept as an orphan');
  assert.ok(t.has('bin/busybox'));
  assert.not.ok(t.has('usr/include/x.h'), 'devel is dropped');
  assert.not.ok(t.has('usr/lib/libx.a'), 'devel is dropped');
  assert.is(text(t, 'etc/integrated'), 'integrated-by-lib\n', 'files made by integration commands are added');
});

test('compose with exclude: devel and no integration; filter keeps only devel', async () => {
  const { p } = await build(project, cache, ['no-devel.bst', 'devel-filter.bst']);
  const nd = artifact(p, 'no-devel.bst');
  assert.ok(nd.has('usr/bin/tool') && nd.has('etc/lib.conf'));
  assert.not.ok(nd.has('usr/include/x.h') || nd.has('etc/integrated'));
  const f = artifact(p, 'devel-filter.bst');
  assert.equal(paths(f), ['usr', 'usr/include', 'usr/include/x.h', 'usr/lib', 'usr/lib/libx.a']);
});

test('script layout stages elements at their destinations; the staged copy is private and writable; the root is not', async () => {
  const { p, summary } = await build(project, cache, ['layout.bst']);
  assert.equal(summary.failed, []);
  const t = artifact(p, 'layout.bst');
  assert.is(text(t, 'listing'), '.\n./opt\n./opt/imported\n./opt/imported/file\n');
  assert.is(text(t, 'mode'), '600\n');
  assert.is(text(t, 'root-ro'), 'refused\n');
  const imported = artifact(p, 'sub-import.bst');
  assert.is(imported.get('opt/imported/file')!.mode, 0o644, 'the cached artifact was not changed by the chmod');
});

test('overlaps warn by default and fail the build when fatal', async () => {
  const warnings: string[] = [];
  const { p } = await build(project, cache, ['overlap.bst'], { warnings });
  assert.ok(
    warnings.some((w) => /overlap\.bst: \[overlaps\] two\.bst overwrote 1 path\(s\) .*\/etc\/same/.test(w)),
    warnings.join('\n'),
  );
  assert.is(text(artifact(p, 'overlap.bst'), 'etc/same'), 'two\n', 'the later element wins');
  const conf = join(project, 'project.conf');
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}fatal-warnings:\n- overlaps\n`);
  const fatal = await build(project, cache, ['overlap.bst']);
  assert.is(fatal.summary.failed.length, 1);
  assert.match(fatal.summary.failed[0]!.message, /two\.bst overwrote/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
