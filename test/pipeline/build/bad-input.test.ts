import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../../src/errors.js';
import { openPipeline } from '../../../src/pipeline/pipeline.js';
import { writeProject } from '../fixtures/busybox-base/base.js';

/**
 * Malformed element configurations are refused when the pipeline opens — before any fetch or
 * build — with the element's file, what is wrong and what to do; nothing is cached.
 */

const work = mkdtempSync(join(tmpdir(), 'kiln-bad-'));

const CASES: [string, string, RegExp][] = [
  ['unknown config key', 'kind: manual\nconfig:\n  build-comands:\n  - make\n', /unknown key 'build-comands' in elements\/t\.bst:3:3/],
  ['a command list that is not a list', 'kind: manual\nconfig:\n  build-commands: make\n', /elements\/t\.bst:3:19 gives a string where .* has a list/],
  ['compose with sources', 'kind: compose\nsources:\n- kind: local\n  path: f\n', /a compose element cannot have sources/],
  [
    'compose with a runtime dependency',
    'kind: compose\ndepends:\n- dep.bst\n',
    /a compose element can only have build dependencies, but 'dep\.bst' is a build and runtime dependency/,
  ],
  ['compose with a non-boolean', 'kind: compose\nconfig:\n  integrate: maybe\n', /config 'integrate' must be True or False, not "maybe"/],
  [
    'script layout without /',
    'kind: script\nbuild-depends:\n- dep.bst\nconfig:\n  layout:\n  - element: dep.bst\n    destination: /opt\n',
    /the layout must stage something at '\/'/,
  ],
  [
    'script layout naming a non-dependency',
    'kind: script\nbuild-depends:\n- dep.bst\nconfig:\n  layout:\n  - element: other.bst\n    destination: /\n',
    /layout names 'other\.bst', which is not among the build dependencies/,
  ],
  [
    'script layout entry with an unknown key',
    "kind: script\nconfig:\n  layout:\n  - element: ''\n    destination: /\n    mode: x\n",
    /layout entry 1: unknown key 'mode'/,
  ],
  [
    'filter with two build dependencies',
    'kind: filter\nbuild-depends:\n- dep.bst\n- other.bst\n',
    /a filter element needs exactly one build dependency, found 2/,
  ],
  ['import without sources', 'kind: import\n', /an import element needs at least one source/],
  ['stack with config', 'kind: stack\nconfig:\n  x: y\n', /unknown key 'x' in elements\/t\.bst:3:3/],
  ['unknown element kind', 'kind: frobnicate\n', /unknown element kind 'frobnicate'/],
];

for (const [what, bst, message] of CASES) {
  test(`refused: ${what}`, () => {
    const dir = join(work, what.replace(/\W+/g, '-'));
    const cache = join(dir, 'cache');
    writeProject(dir, {
      'project.conf': 'name: test\nelement-path: elements\n',
      'elements/t.bst': bst,
      'elements/dep.bst': 'kind: stack\n',
      'elements/other.bst': 'kind: stack\n',
      'f/file': 'x',
    });
    try {
      openPipeline({ projectDir: dir, cacheDir: cache, targets: ['t.bst'] });
      assert.unreachable(`${what} was accepted`);
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      assert.match(e.message, message);
    }
    assert.ok(!existsSync(join(cache, 'artifacts')) || readdirSync(join(cache, 'artifacts')).length === 0, 'nothing cached');
  });
}

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
