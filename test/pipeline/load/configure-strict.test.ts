import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../../src/errors.js';
import { elementKinds } from '../../../src/pipeline/kinds/registry.js';
import { loadProject } from '../../../src/pipeline/load/index.js';
import { openPipeline } from '../../../src/pipeline/pipeline.js';
import { configureSource } from '../../../src/pipeline/sources/registry.js';
import { throwawayDir } from '../../helpers/temp.js';
import { writeProject } from './project-files.js';

/** What bst 1.x refuses when it configures elements and sources (BuildStream's tests/plugins/filter.py, tests/sources/local.py). */

const refused = (f: () => unknown, expect: RegExp): void => {
  try {
    f();
    assert.unreachable(`expected an error matching ${expect}`);
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    assert.match(e.message, expect);
  }
};

test('filter: the filtered element may not also be a runtime dependency', () => {
  const dir = writeProject({
    'project.conf': 'name: p\n',
    'input.bst': 'kind: stack\n',
    'ok.bst': 'kind: filter\nbuild-depends:\n- input.bst\n',
    'also-rdep.bst': 'kind: filter\ndepends:\n- filename: input.bst\n  type: all\n',
  });
  const p = loadProject(dir);
  const filter = elementKinds.get('filter')!;
  filter.configure(p.element('ok.bst'));
  refused(() => filter.configure(p.element('also-rdep.bst')), /the element it filters, input\.bst, is also a runtime dependency/);
});

test('local: a FIFO, socket or device is refused; files, directories and links to them are staged', () => {
  const dir = writeProject({ 'project.conf': 'name: p\n', 'x.bst': 'kind: import\nsources:\n- kind: local\n  path: thing\n', 'file.txt': 'x\n' });
  const source = () => {
    const e = loadProject(dir).element('x.bst');
    return configureSource(e.sources[0]!, e);
  };
  execFileSync('mkfifo', [join(dir, 'thing')]);
  refused(source, /path 'thing' is a FIFO, not a file or directory/);
  execFileSync('rm', [join(dir, 'thing')]);
  execFileSync('ln', ['-s', 'file.txt', join(dir, 'thing')]);
  source();
  execFileSync('rm', [join(dir, 'thing')]);
  execFileSync('mkdir', [join(dir, 'thing')]);
  source();
});

test("a project path may not start with '..', even one that comes back inside the project; sources: KIND: keys but config are ignored with a warning", () => {
  const dir = writeProject({ 'project.conf': 'name: p\nsources:\n  git:\n    variables:\n      x: y\n', 'file.txt': 'x\n' });
  const name = dir.split('/').pop()!;
  writeFileSync(join(dir, 'x.bst'), `kind: import\nsources:\n- kind: local\n  path: ../${name}/file.txt\n`);
  const warnings: string[] = [];
  const e = loadProject(dir, { onWarning: (m) => warnings.push(m) }).element('x.bst');
  assert.equal(warnings, ['project.conf:4:5: sources.git.variables is ignored: only config applies to sources']);
  refused(() => configureSource(e.sources[0]!, e), new RegExp(`path '\\.\\./${name}/file\\.txt' starts with '\\.\\.'`));
});

test('a download URL without an alias warns (unaliased-url), and fails when that warning is fatal', () => {
  const tar =
    'kind: import\nsources:\n- kind: tar\n  url: https://unaliased-url.org/tarball.tar\n  ref: 0000000000000000000000000000000000000000000000000000000000000000\n';
  const aliased = 'kind: import\nsources:\n- kind: tar\n  url: up:tarball.tar\n  ref: 0000000000000000000000000000000000000000000000000000000000000000\n';
  const files = { 'project.conf': 'name: p\naliases:\n  up: https://unaliased-url.org/\n', 'unaliased.bst': tar, 'aliased.bst': aliased };
  const cacheDir = throwawayDir('kiln-unaliased-');
  const warned: string[] = [];
  const open = (dir: string, target: string) => openPipeline({ projectDir: dir, cacheDir, targets: [target], warn: (_e, m) => warned.push(m) });
  const dir = writeProject(files);
  open(dir, 'unaliased.bst');
  assert.equal(warned, ['[unaliased-url] unaliased.bst: source #1 (tar): use of unaliased source download URL: https://unaliased-url.org/tarball.tar']);
  open(dir, 'aliased.bst');
  assert.is(warned.length, 1);
  const fatal = writeProject({ ...files, 'project.conf': `${files['project.conf']}fatal-warnings:\n- unaliased-url\n` });
  refused(() => open(fatal, 'unaliased.bst'), /unaliased\.bst: unaliased\.bst: source #1 \(tar\): use of unaliased source download URL/);
  open(fatal, 'aliased.bst');
});

test.run();
