import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProject, sortDependencies } from '../../../src/pipeline/load/index.js';
import { MINIMAL_CONF, writeProject } from './project-files.js';

const names = (l: { name: string }[]) => l.map((e) => e.name);

test('direct order: dependency first, then build before runtime, then name', () => {
  const dir = writeProject({
    'project.conf': MINIMAL_CONF,
    'elements/lib.bst': 'kind: stack\n',
    'elements/zlib.bst': 'kind: stack\ndepends:\n- lib.bst\n',
    'elements/a-tool.bst': 'kind: stack\n',
    'elements/b-run.bst': 'kind: stack\n',
    'elements/app.bst': `kind: stack
depends:
- filename: b-run.bst
  type: runtime
- zlib.bst
- filename: lib.bst
  type: runtime
- filename: a-tool.bst
  type: build
`,
  });
  const p = loadProject(dir);
  const app = p.element('app.bst');
  // a-tool (build) first; then b-run and lib (both runtime, by name); zlib waits for lib, which it
  // depends on. (BuildStream's pairwise comparison is circular here: b-run < lib < zlib < b-run.)
  assert.equal(
    app.dependencies.map((d) => `${d.element.name}:${d.type}`),
    ['a-tool.bst:build', 'b-run.bst:runtime', 'lib.bst:runtime', 'zlib.bst:all'],
  );
  assert.equal(names(p.scope(app, 'build')), ['a-tool.bst', 'lib.bst', 'zlib.bst']);
  assert.equal(names(p.scope(app, 'run')), ['b-run.bst', 'lib.bst', 'zlib.bst', 'app.bst']);
  assert.equal(names(p.scope(app, 'all')), ['a-tool.bst', 'lib.bst', 'zlib.bst', 'b-run.bst', 'app.bst']);
});

test('the three list forms merge; build + runtime gives all', () => {
  const dir = writeProject({
    'project.conf': MINIMAL_CONF,
    'elements/x.bst': 'kind: stack\n',
    'elements/y.bst': 'kind: stack\n',
    'elements/e.bst': 'kind: stack\nbuild-depends:\n- x.bst\n- y.bst\nruntime-depends:\n- x.bst\ndepends:\n- filename: y.bst\n  type: build\n  strict: True\n',
  });
  const e = loadProject(dir).element('e.bst');
  assert.equal(
    e.dependencies.map((d) => [d.element.name, d.type, d.strict]),
    [
      ['x.bst', 'all', false],
      ['y.bst', 'build', true],
    ],
  );
});

test('build-only deps of a dependency are never staged; run closure comes with each build dep', () => {
  const dir = writeProject({
    'project.conf': MINIMAL_CONF,
    'elements/compiler.bst': 'kind: stack\n',
    'elements/libc.bst': 'kind: stack\n',
    'elements/lib.bst': 'kind: stack\ndepends:\n- filename: compiler.bst\n  type: build\n- filename: libc.bst\n  type: runtime\n',
    'elements/app.bst': 'kind: stack\nbuild-depends:\n- lib.bst\n',
  });
  const p = loadProject(dir);
  assert.equal(names(p.scope(p.element('app.bst'), 'build')), ['libc.bst', 'lib.bst']);
  assert.equal(names(p.scope(p.element('lib.bst'), 'build')), ['compiler.bst']);
  assert.equal(names(p.scopeOf([p.element('app.bst'), p.element('lib.bst')], 'all')), ['compiler.bst', 'libc.bst', 'lib.bst', 'app.bst']);
});

test('after a failed element, other elements still load (no stale cycle state)', () => {
  const dir = writeProject({
    'project.conf': MINIMAL_CONF,
    'elements/ok.bst': 'kind: stack\n',
    'elements/bad.bst': 'kind: stack\ndepends:\n- ok.bst\n- missing.bst\n',
    'elements/user.bst': 'kind: stack\ndepends:\n- ok.bst\n',
  });
  const p = loadProject(dir);
  assert.throws(() => p.element('bad.bst'), /element 'missing\.bst' not found/);
  assert.equal(names(p.scope(p.element('user.bst'), 'all')), ['ok.bst', 'user.bst']);
  assert.throws(() => p.element('bad.bst'), /element 'missing\.bst' not found/);
});

test('sortDependencies is deterministic whatever the input order', () => {
  const deps = [
    { name: 'c.bst', type: 'all' as const, closure: new Set<string>(['a.bst']) },
    { name: 'a.bst', type: 'runtime' as const, closure: new Set<string>() },
    { name: 'b.bst', type: 'build' as const, closure: new Set<string>() },
    { name: 'd.bst', type: 'runtime' as const, closure: new Set<string>() },
  ];
  const expected = ['b.bst', 'a.bst', 'c.bst', 'd.bst'];
  for (let i = 0; i < 24; i++) {
    const shuffled = [...deps].sort((x, y) => ((x.name.charCodeAt(0) * (i + 3)) % 7) - ((y.name.charCodeAt(0) * (i + 3)) % 7));
    assert.equal(
      sortDependencies(shuffled).map((d) => d.name),
      expected,
    );
  }
});

test('a generated 200-element project loads (time printed, not asserted)', () => {
  const files: Record<string, string> = { 'project.conf': MINIMAL_CONF };
  const N = 200;
  for (let i = 0; i < N; i++) {
    const deps = [i - 1, i - 7, i - 31]
      .filter((d) => d >= 0)
      .map((d) => `- filename: e${d}.bst\n  type: ${d % 3 === 0 ? 'build' : d % 3 === 1 ? 'runtime' : 'all'}\n`);
    files[`elements/e${i}.bst`] =
      `kind: ${i % 2 ? 'manual' : 'autotools'}\n${deps.length ? `depends:\n${deps.join('')}` : ''}sources:\n- kind: local\n  path: files/e${i}\nconfig:\n  build-commands:\n    (>):\n    - make -C e${i} %{bindir}\n`;
  }
  files['elements/top.bst'] = `kind: stack\ndepends:\n${Array.from({ length: N }, (_, i) => `- e${i}.bst\n`).join('')}`;
  const dir = writeProject(files);
  const times: string[] = [];
  let p = loadProject(dir);
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    p = loadProject(dir);
    p.scope(p.element('top.bst'), 'all');
    times.push((performance.now() - t0).toFixed(1));
  }
  const top = p.element('top.bst');
  const all = p.scope(top, 'all');
  process.stdout.write(`  loaded ${all.length} elements in ${times.join(', ')} ms (cold, then warm)\n`);
  assert.is(all.length, N + 1);
  assert.is(all[all.length - 1], top);
  // every element comes after all of its dependencies
  const at = new Map(all.map((e, i) => [e, i]));
  for (const e of all) for (const d of e.dependencies) assert.ok(at.get(d.element)! < at.get(e)!);
});

test.run();
