import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The linter (issue 14): `biome lint` passes on the repository (a warning fails it too, so
 * findings cannot pile up unseen), and the layer rule of
 * biome.jsonc (docs/library.md#layers) rejects an upward import, or a Node built-in in
 * browser-bound code, planted in a copy of the tree's shape — and accepts the allowed ones.
 */
const repo = new URL('..', import.meta.url).pathname;
const biome = join(repo, 'node_modules/.bin/biome');
const scratch = mkdtempSync(join(tmpdir(), 'kiln-lint-'));

test('biome check (lint and format) passes on the repository', () => {
  const r = spawnSync(biome, ['check', '--error-on-warnings', '--max-diagnostics=200'], { cwd: repo, encoding: 'utf8', timeout: 300_000 });
  assert.is(r.error, undefined, `cannot run ${biome}: ${r.error?.message} (npm ci installs it)`);
  assert.is(r.status, 0, `biome check found problems (npm run format rewrites the layout):\n${r.stdout}${r.stderr}`);
});

/** [path in the tree, its text, the rule's verdict] */
const CASES: [string, string, 'rejected' | 'accepted'][] = [
  ['src/fs/planted.ts', "import { a } from '../partition/guid.js';\nexport const b = a;\n", 'rejected'],
  ['src/fs/ext4/planted.ts', "import type { Element } from '../../pipeline/model.js';\nexport type E = Element;\n", 'rejected'],
  ['src/fs/planted.ts', "export { reportError } from '../cli/main.js';\n", 'rejected'],
  ['src/fs/planted.ts', "export async function f() {\n  return import('../pipeline/plan/plan.js');\n}\n", 'rejected'],
  ['src/fs/planted.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", 'rejected'],
  [
    'src/fs/planted.ts',
    "import { FileTree } from './tree.js';\nimport { KilnError } from '../errors.js';\nexport const a = [FileTree, KilnError];\n",
    'accepted',
  ],
  ['src/fs/content.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", 'accepted'],
  ['src/fs/content.ts', "import { a } from '../partition/guid.js';\nexport const b = a;\n", 'rejected'],
  ['src/partition/planted.ts', "import { loadProject } from '../pipeline/load/index.js';\nexport const l = loadProject;\n", 'rejected'],
  ['src/partition/planted.ts', "import { join } from 'node:path';\nexport const j = join;\n", 'rejected'],
  ['src/partition/syslinux/planted.ts', "import { FileTree } from '../../fs/tree.js';\nexport const t = FileTree;\n", 'accepted'],
  ['src/partition/layout.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", 'accepted'],
  ['src/pipeline/planted.ts', "import { reportError } from '../cli/main.js';\nexport const r = reportError;\n", 'rejected'],
  [
    'src/pipeline/cache/planted.ts',
    "import { readFileSync } from 'node:fs';\nimport { encodeMbr } from '../../partition/mbr.js';\nexport const a = [readFileSync, encodeMbr];\n",
    'accepted',
  ],
  ['src/planted.ts', "import { FileTree } from './fs/tree.js';\nexport const t = FileTree;\n", 'rejected'],
  ['src/entry/fs.ts', "export { encodeMbr } from '../partition/mbr.js';\n", 'rejected'],
  ['src/entry/fs.ts', "export { HostFileContent } from '../fs/content.js';\n", 'rejected'],
  ['src/entry/partition.ts', "export { openImage } from '../partition/image.js';\n", 'rejected'],
  ['src/entry/partition.ts', "export { encodeMbr } from '../partition/mbr.js';\nexport { FileTree } from '../fs/tree.js';\n", 'accepted'],
  ['src/entry/pipeline.ts', "export { reportError } from '../cli/main.js';\n", 'rejected'],
];

test('the layer rule rejects upward imports and Node built-ins in browser-bound code', () => {
  CASES.forEach(([path, text, verdict], i) => {
    const dir = join(scratch, `case-${i}`);
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    copyFileSync(join(repo, 'biome.jsonc'), join(dir, 'biome.jsonc'));
    writeFileSync(join(dir, path), text);
    const r = spawnSync(biome, ['lint', '--vcs-enabled=false', '--reporter=github', path], { cwd: dir, encoding: 'utf8' });
    const layer = r.stdout.split('\n').filter((l) => l.includes('lint/style/noRestrictedImports'));
    const what = `${path}:\n${text}biome: ${r.stdout}${r.stderr}`;
    if (verdict === 'rejected') {
      assert.is(r.status, 1, `rejected: ${what}`);
      assert.ok(layer.length > 0 && layer.every((l) => l.includes('docs/library.md#layers')), `the layer rule, with its reason: ${what}`);
    } else {
      assert.is(r.status, 0, `accepted: ${what}`);
    }
  });
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
