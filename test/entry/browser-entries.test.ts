import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleForBrowser } from '../helpers/bundle.js';

/**
 * The browser-safe entries (kiln-image/fs, kiln-image/partition) bundle for the browser with
 * esbuild and no shims: no Node built-in, no Buffer, no process anywhere in what they reach.
 * The Node entry serves as the control: the same check must catch it.
 */
const repo = new URL('../..', import.meta.url).pathname;

for (const entry of ['fs', 'partition']) {
  test(`kiln-image/${entry} reaches no Node built-in, Buffer or process`, async () => {
    const b = await bundleForBrowser(`${repo}src/entry/${entry}.ts`);
    assert.equal(b.unresolved, [], `imports a browser cannot load:\n${b.unresolved.join('\n')}`);
    assert.equal(b.nodeGlobals, [], `uses Node globals:\n${b.nodeGlobals.join('\n')}`);
    assert.ok(b.code && b.code.length > 10_000);
  });
}

test('the check catches Node code (kiln-image/node does not bundle for a browser)', async () => {
  const b = await bundleForBrowser(`${repo}src/entry/node.ts`);
  assert.ok(
    b.unresolved.some((u) => /node:fs|"fs"/.test(u)),
    `expected node:fs among: ${b.unresolved.join('\n')}`,
  );
});

test('the check catches a bare Buffer or process', async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/kiln-bundle-`);
  writeFileSync(`${dir}/x.js`, 'export const a = Buffer.alloc(1); export const b = process.env;\n');
  const b = await bundleForBrowser(`${dir}/x.js`);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(b.nodeGlobals.map((g) => g.split(':')[0]).sort(), ['Buffer', 'process']);
});

test.run();
