import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProject } from '../../../src/pipeline/load/index.js';
import { exceptElements, scopeOf } from '../../../src/pipeline/scope.js';
import { writeProject } from './project-files.js';

/** --except as bst 1.x selects (BuildStream's tests/frontend/show.py cases on the same graph). */
const dir = writeProject({
  'project.conf': 'name: test\n',
  'import-bin.bst': 'kind: import\nsources:\n- kind: local\n  path: project.conf\n',
  'import-dev.bst': 'kind: import\nsources:\n- kind: local\n  path: project.conf\n',
  'compose-all.bst': 'kind: compose\ndepends:\n- filename: import-bin.bst\n  type: build\n- filename: import-dev.bst\n  type: build\n',
  'target.bst': 'kind: stack\ndepends:\n- import-bin.bst\n- compose-all.bst\n',
  'elsewhere.bst': 'kind: stack\ndepends:\n- import-dev.bst\n',
});

const shown = (targets: string[], except: string[]): string[] => {
  const p = loadProject(dir);
  const t = p.elements(targets);
  return exceptElements(t, scopeOf(t, 'all'), p.elements(except)).map((e) => e.name);
};

test('an excepted element goes, with what the targets reach only through it', () => {
  assert.equal(shown(['target.bst'], []), ['import-bin.bst', 'import-dev.bst', 'compose-all.bst', 'target.bst']);
  assert.equal(shown(['target.bst'], ['import-bin.bst']), ['import-dev.bst', 'compose-all.bst', 'target.bst']);
  assert.equal(shown(['target.bst'], ['import-dev.bst']), ['import-bin.bst', 'compose-all.bst', 'target.bst']);
  // import-dev.bst is needed only through compose-all.bst; import-bin.bst also directly
  assert.equal(shown(['target.bst'], ['compose-all.bst']), ['import-bin.bst', 'target.bst']);
  // an excepted element the targets do not need cuts where its dependencies meet theirs
  assert.equal(shown(['target.bst'], ['elsewhere.bst']), ['import-bin.bst', 'compose-all.bst', 'target.bst']);
});

test.run();
