import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPipeline } from '../../../src/pipeline/pipeline.js';
import { throwawayDir } from '../../helpers/temp.js';
import { writeProject } from './project-files.js';

/**
 * The load cache keeps the cache keys a session computed, and a later session uses them only
 * while what they were computed from is unchanged: a local source's file contents or mode
 * changed give the keys a session without any cache computes.
 */

const FILES: Record<string, string> = {
  'project.conf': 'name: keyed\nelement-path: elements\n',
  'elements/base.bst': 'kind: import\nsources:\n- kind: local\n  path: files\n',
  'elements/lib.bst': 'kind: manual\nbuild-depends:\n- base.bst\nconfig:\n  install-commands:\n  - echo hi\n',
  'elements/app.bst': 'kind: stack\ndepends:\n- lib.bst\n',
  'files/x': 'x\n',
};

type Keys = Record<string, [string | undefined, string | undefined]>;

/** Every element's strong and weak keys, from a session with the cache at `cacheDir`. */
function keysOf(dir: string, cacheDir: string): Keys {
  const p = openPipeline({ projectDir: dir, cacheDir, targets: ['app.bst'] });
  try {
    return Object.fromEntries(p.all.map((e) => [e.name, [p.keys(e).strong, p.keys(e).weak]]));
  } finally {
    p.close();
  }
}

/** The keys as a session without any cache computes them. */
function fresh(dir: string): Keys {
  const cacheDir = throwawayDir('kiln-keys-');
  try {
    return keysOf(dir, cacheDir);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

interface StoredEntry {
  elements: { name: string }[];
  keys?: ({ strong?: string } | null)[];
}

function entryFile(cacheDir: string): string {
  const loads = join(cacheDir, 'loads');
  const names = readdirSync(loads).filter((n) => n.endsWith('.json'));
  assert.is(names.length, 1);
  return join(loads, names[0]!);
}

test('keys are kept with the load and used by the next session', () => {
  const dir = writeProject(FILES);
  const cacheDir = throwawayDir('kiln-keys-');
  const first = keysOf(dir, cacheDir);
  assert.equal(Object.keys(first).sort(), ['app.bst', 'base.bst', 'lib.bst']);
  for (const [strong] of Object.values(first)) assert.match(strong ?? '', /^[0-9a-f]{64}$/);
  const path = entryFile(cacheDir);
  const entry = JSON.parse(readFileSync(path, 'utf8')) as StoredEntry;
  assert.equal(
    entry.keys?.map((k) => k?.strong),
    entry.elements.map((e) => first[e.name]![0]),
  );
  assert.equal(keysOf(dir, cacheDir), first);
  // a kept key is what the next session gives (so it is used, not computed again)
  const lib = entry.elements.findIndex((e) => e.name === 'lib.bst');
  entry.keys![lib]!.strong = 'f'.repeat(64);
  writeFileSync(path, JSON.stringify(entry));
  assert.is(keysOf(dir, cacheDir)['lib.bst']![0], 'f'.repeat(64));
});

test("a local source's changed file or mode changes its key and the keys built on it, as without a cache", () => {
  const dir = writeProject(FILES);
  const cacheDir = throwawayDir('kiln-keys-');
  const before = keysOf(dir, cacheDir);
  keysOf(dir, cacheDir);
  writeFileSync(join(dir, 'files/x'), 'y\n');
  const changed = keysOf(dir, cacheDir);
  assert.equal(changed, fresh(dir));
  for (const name of ['base.bst', 'lib.bst', 'app.bst']) assert.is.not(changed[name]![0], before[name]![0], name);
  assert.equal(keysOf(dir, cacheDir), changed);
  chmodSync(join(dir, 'files/x'), 0o755);
  const executable = keysOf(dir, cacheDir);
  assert.equal(executable, fresh(dir));
  assert.is.not(executable['base.bst']![0], changed['base.bst']![0]);
  writeFileSync(join(dir, 'files/x'), 'x\n');
  chmodSync(join(dir, 'files/x'), 0o644);
  assert.equal(keysOf(dir, cacheDir), before);
});

test.run();
