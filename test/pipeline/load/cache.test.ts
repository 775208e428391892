import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Element } from '../../../src/pipeline/model.js';
import { LoadCache } from '../../../src/pipeline/load/cache.js';
import { loadProject } from '../../../src/pipeline/load/index.js';
import type { LoadOptions } from '../../../src/pipeline/load/project.js';
import { throwawayDir } from '../../helpers/temp.js';
import { writeProject } from './project-files.js';

/**
 * The load cache gives back exactly what a load from the files gives, and only while nothing a
 * load reads changed: an element, an include, project.refs appearing, a new .bst file, options.
 */

const FILES: Record<string, string> = {
  'project.conf': `name: cached
element-path: elements
options:
  flavour:
    type: enum
    description: a flavour
    variable: flavour
    values: [plain, fancy]
    default: plain
variables:
  (@): include/vars.yml
  greeting: hello-%{flavour}
`,
  'include/vars.yml': 'prefix: /opt\n',
  'elements/base.bst': 'kind: import\nsources:\n- kind: local\n  path: files\n',
  'elements/lib.bst': 'kind: manual\ndepends:\n- base.bst\nconfig:\n  install-commands:\n  - echo %{greeting} %{prefix}\n',
  'elements/app.bst': 'kind: stack\ndepends:\n- lib.bst\n- filename: base.bst\n  type: build\n',
  'elements/other.bst': 'kind: stack\ndepends:\n- lib.bst\n',
  'files/x': 'x\n',
};

/** An element graph as plain data (dependencies by name), to compare loads. */
function plain(e: Element): unknown {
  const { project, dependencies, positions, ...rest } = e;
  return {
    ...rest,
    project: { ...project, declaredPlugins: [...project.declaredPlugins] },
    dependencies: dependencies.map((d) => ({ ...d, element: d.element.name })),
    positions: [...positions],
  };
}

function setup(): { dir: string; cache: LoadCache; load: (options?: LoadOptions) => { app: Element; hit: boolean } } {
  const dir = writeProject(FILES);
  const cache = new LoadCache(throwawayDir('kiln-loads-'));
  const load = (options: LoadOptions = {}) => {
    const hit = cache.lookup(dir, options) !== undefined;
    const p = loadProject(dir, options, cache);
    const app = p.element('app.bst');
    p.keep(cache, dir, options);
    return { app, hit };
  };
  return { dir, cache, load };
}

/** The element and everything it depends on, as plain data in name order. */
function graph(top: Element): unknown[] {
  const all = new Map<string, Element>();
  const visit = (e: Element): void => {
    all.set(e.name, e);
    for (const d of e.dependencies) visit(d.element);
  };
  visit(top);
  return [...all.keys()].sort().map((n) => plain(all.get(n)!));
}

test('a second load comes from the cache and equals a load from the files', () => {
  const { dir, load } = setup();
  const first = load();
  assert.not.ok(first.hit);
  const second = load();
  assert.ok(second.hit);
  assert.equal(graph(second.app), graph(first.app));
  assert.equal(graph(second.app), graph(loadProject(dir).element('app.bst')));
  rmSync(dir, { recursive: true, force: true });
});

test('any input changed: the files are loaded again', () => {
  const { dir, load } = setup();
  load();
  const changes: [string, () => void][] = [
    ['an element', () => writeFileSync(join(dir, 'elements/lib.bst'), FILES['elements/lib.bst']!.replace('echo', 'printf'))],
    ['an include', () => writeFileSync(join(dir, 'include/vars.yml'), 'prefix: /usr\n')],
    ['project.refs appearing', () => writeFileSync(join(dir, 'project.refs'), 'projects: {}\n')],
    ['a new .bst file', () => writeFileSync(join(dir, 'elements/new.bst'), 'kind: stack\n')],
  ];
  for (const [what, change] of changes) {
    assert.ok(load().hit, `before: ${what}`);
    change();
    const after = load();
    assert.not.ok(after.hit, `${what} changed`);
    assert.equal(graph(after.app), graph(loadProject(dir).element('app.bst')), what);
  }
  assert.ok(load().hit);
  assert.not.ok(load({ options: { flavour: 'fancy' } }).hit, 'another option value');
  assert.is(load({ options: { flavour: 'fancy' } }).app.dependencies.find((d) => d.element.name === 'lib.bst')!.element.variables.greeting, 'hello-fancy');
  assert.not.ok(load({ maxJobs: 7 }).hit, 'another max-jobs');
  rmSync(dir, { recursive: true, force: true });
});

test('an element the cache does not hold loads from the files onto the cached ones', () => {
  const { dir, cache } = setup();
  const p = loadProject(dir, {}, cache);
  p.element('app.bst');
  p.keep(cache, dir, {});
  const again = loadProject(dir, {}, cache);
  const app = again.element('app.bst');
  const other = again.element('other.bst');
  assert.is(other.dependencies[0]!.element, app.dependencies.find((d) => d.element.name === 'lib.bst')!.element, 'the same lib.bst');
  assert.is(other.project, app.project);
  again.keep(cache, dir, {});
  const third = loadProject(dir, {}, cache);
  assert.equal(plain(third.element('other.bst')), plain(loadProject(dir).element('other.bst')));
  rmSync(dir, { recursive: true, force: true });
});

test("a cached element's positions are the loaded ones, made once when first read", () => {
  const { dir, load } = setup();
  const fresh = load().app.dependencies[0]!.element;
  const second = load();
  assert.ok(second.hit);
  const cached = second.app.dependencies[0]!.element;
  const positions = cached.positions;
  assert.is(cached.positions, positions);
  assert.ok(positions.size > 0);
  assert.equal(positions.get('kind'), fresh.positions.get('kind'));
  assert.equal([...positions], [...fresh.positions]);
  rmSync(dir, { recursive: true, force: true });
});

test.run();
