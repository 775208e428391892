import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileSource, SubSource, decodeGpt } from '../../src/index.js';
import { bundleForBrowser } from '../helpers/bundle.js';

/**
 * The library examples (examples/library, issue 10) against the repository's sources: both
 * type-check (the browser one with the DOM library and no Node types), the browser one
 * bundles with esbuild for the browser without shims, the Node one runs and its disk passes
 * fsck, and the browser one's work (buildDisk) runs and reads back.
 */
const repo = new URL('../..', import.meta.url).pathname;
const examples = join(repo, 'examples/library');
const tsc = join(repo, 'node_modules/.bin/tsc');
const dir = mkdtempSync(join(tmpdir(), 'kiln-examples-'));
// tsx maps 'kiln-image/*' to src/ through the examples' tsconfig paths.
const env = { ...process.env, TSX_TSCONFIG_PATH: join(examples, 'tsconfig.json') };

function run(cmd: string, args: string[], cwd = repo): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 26 });
  assert.is(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('the examples type-check (browser: DOM library, no @types/node)', () => {
  run(tsc, ['-p', join(examples, 'tsconfig.json')]);
  run(tsc, ['-p', join(examples, 'tsconfig.browser.json')]);
});

test('the browser example bundles for a browser with no shims', async () => {
  const b = await bundleForBrowser(join(examples, 'browser.ts'));
  assert.equal(b.unresolved, []);
  assert.equal(b.nodeGlobals, []);
  const min = await bundleForBrowser(join(examples, 'browser.ts'), { minify: true });
  console.log(`  browser example bundle: ${min.code!.length} bytes minified, ${gzipSync(min.code!).length} gzipped`);
});

test("the browser example's buildDisk runs and reads its root back", () => {
  const check = join(dir, 'check.mts');
  writeFileSync(
    check,
    `const { buildDisk } = await import(${JSON.stringify(join(examples, 'browser-disk.ts'))});
const b = await buildDisk([{ path: 'etc/hostname', bytes: new TextEncoder().encode('box\\n') }]);
console.log(JSON.stringify({ disk: b.disk.length, gzip: b.initramfs[0] === 0x1f && b.initramfs[1] === 0x8b, root: b.rootListing }));
`,
  );
  const out = JSON.parse(run(process.execPath, ['--import', 'tsx', check])) as { disk: number; gzip: boolean; root: string[] };
  assert.equal(out.root, ['lost+found', 'etc']);
  assert.ok(out.gzip && out.disk > 0);
});

test('the Node example writes a GPT disk, reads it back, rewrites the ESP in place; fsck passes', () => {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'etc'), { recursive: true });
  writeFileSync(join(src, 'etc', 'hostname'), 'example\n');
  const img = join(dir, 'disk.img');
  const out = run(process.execPath, ['--import', 'tsx', join(examples, 'node.ts'), src, img], examples);
  assert.match(out, /partition 1: fat/);
  assert.match(out, /root: lost\+found etc/);
  assert.match(out, /esp: rewritten in place/);
  assert.ok(existsSync(img));
  const file = new FileSource(img);
  const parts = decodeGpt(file).partitions;
  const tools: [string, string[]][] = [
    ['fsck.fat', ['-n']],
    ['e2fsck', ['-fn']],
  ];
  parts.forEach((p, i) => {
    const part = join(dir, `p${p.number}.img`);
    writeFileSync(part, new SubSource(file, p.start * 512, p.sectors * 512).read(0, p.sectors * 512));
    const [tool, args] = tools[i]!;
    const r = spawnSync(tool, [...args, part], { encoding: 'utf8' });
    if (r.error) return; // the tool is not installed here
    assert.is(r.status, 0, `${tool} on partition ${p.number}:\n${r.stdout}${r.stderr}`);
  });
  file.close();
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
