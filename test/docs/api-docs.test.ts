import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The API reference (issue 10): `npm run docs` (scripts/docs.ts, TypeDoc) builds it from the
 * doc comments, and every export of every entry (src/entry/*.ts) is in it, under the module
 * named as embedders import it (kiln-image/fs, …).
 */
const repo = new URL('../..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'kiln-api-docs-'));
const ENTRIES = ['fs', 'partition', 'node', 'pipeline'];

/** The names an entry exports (`export { a, b as c, type T } from …` and `export type { … }`). */
function exportsOf(entry: string): string[] {
  const text = readFileSync(join(repo, 'src/entry', `${entry}.ts`), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  const names: string[] = [];
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(',')) {
      const p = part.trim().replace(/^type\s+/, '');
      if (!p) continue;
      names.push(p.includes(' as ') ? p.split(/\s+as\s+/)[1]!.trim() : p);
    }
  }
  return names;
}

interface Reflection {
  name: string;
  kind: number;
  children?: Reflection[];
  comment?: { summary?: { text: string }[] };
  signatures?: Reflection[];
}

test('npm run docs builds the reference with every export of every entry', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts/docs.ts'), '--out', out], { cwd: repo, encoding: 'utf8', timeout: 600_000 });
  assert.is(r.status, 0, `scripts/docs.ts failed:\n${r.stdout}\n${r.stderr}`);
  assert.ok(existsSync(join(out, 'index.html')), 'index.html');
  const api = JSON.parse(readFileSync(join(out, 'api.json'), 'utf8')) as Reflection;
  const modules = new Map((api.children ?? []).map((m) => [m.name, m]));
  let documented = 0;
  let total = 0;
  for (const entry of ENTRIES) {
    const mod = modules.get(`kiln-image/${entry}`);
    assert.ok(mod, `module kiln-image/${entry} in the reference (have: ${[...modules.keys()].join(', ')})`);
    assert.ok(mod!.comment?.summary?.length, `kiln-image/${entry} has its module comment`);
    const have = new Set((mod!.children ?? []).map((c) => c.name));
    const names = exportsOf(entry);
    assert.ok(names.length > 10, `${entry}: parsed ${names.length} exports`);
    const missing = names.filter((n) => !have.has(n));
    assert.equal(missing, [], `kiln-image/${entry}: exports missing from the reference`);
    for (const c of mod!.children ?? []) {
      total++;
      if (c.comment?.summary?.length || c.signatures?.some((s) => s.comment?.summary?.length)) documented++;
    }
  }
  console.log(`  reference: ${total} exports, ${documented} with a doc comment`);
});

test.after(() => rmSync(out, { recursive: true, force: true }));
test.run();
