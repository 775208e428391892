import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readContent } from '../../../src/fs/file-content.js';
import type { FileTree } from '../../../src/fs/tree.js';
import { BlobContent } from '../../../src/pipeline/cache/blobs.js';
import { configureSource, SOURCE_MTIME, stageSources } from '../../../src/pipeline/sources/index.js';
import { cleanup, filesUnder, makeElement, makeProject, testCache } from './fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

const text = (tree: FileTree, path: string): string => Buffer.from(readContent(tree.get(path)!.content!)).toString();

function project() {
  const dir = throwawayDir('kiln-src-');
  mkdirSync(join(dir, 'files', 'hello', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'files', 'hello', 'hello'), '#!/bin/ash\necho Hello World!\n');
  chmodSync(join(dir, 'files', 'hello', 'hello'), 0o755);
  writeFileSync(join(dir, 'files', 'hello', 'sub', 'init'), 'old line\nkeep\n');
  chmodSync(join(dir, 'files', 'hello', 'sub', 'init'), 0o644);
  symlinkSync('hello', join(dir, 'files', 'hello', 'hi'));
  writeFileSync(join(dir, 'files', 'single.conf'), 'k=v\n');
  return { dir, project: makeProject(dir) };
}

test('local: a directory stages its contents with modes; a file under its basename; key tracks content and mode', async () => {
  const { dir, project: p } = project();
  const tc = testCache();
  const el = makeElement(p, 'hello.bst', [
    { kind: 'local', directory: 'usr/bin', config: { path: 'files/hello' } },
    { kind: 'local', directory: 'etc', config: { path: 'files/single.conf' } },
  ]);
  const [dirSrc, fileSrc] = el.sources.map((d) => configureSource(d, el));
  assert.ok(dirSrc!.isCached(tc.ctx) && dirSrc!.ref === undefined && !dirSrc!.needsRef);
  assert.is(await dirSrc!.track(tc.ctx), undefined, 'nothing to track');
  const tree = await stageSources([dirSrc!, fileSrc!], tc.ctx);
  assert.is(tree.get('usr/bin/hello')!.mode, 0o755);
  assert.is(tree.get('usr/bin/sub/init')!.mode, 0o644);
  assert.is(tree.get('usr/bin/hi')!.target, 'hello');
  assert.is(text(tree, 'etc/single.conf'), 'k=v\n');
  assert.equal(tree.get('usr/bin/hello')!.mtime, SOURCE_MTIME);
  const key1 = JSON.stringify(dirSrc!.uniqueKey());
  assert.ok(key1.includes(createHash('sha256').update('#!/bin/ash\necho Hello World!\n').digest('hex')));
  chmodSync(join(dir, 'files', 'hello', 'hello'), 0o644);
  const again = configureSource(el.sources[0]!, el);
  assert.is.not(JSON.stringify(again.uniqueKey()), key1, 'an exec-bit change changes the key');
  cleanup(dir, tc.root);
});

test('remote: filename default from URL, executable mode, cache layout, key', async () => {
  const { dir, project: p } = project();
  const tc = testCache();
  const url = pathToFileURL(join(dir, 'files', 'single.conf')).href;
  const el = makeElement(p, 'r.bst', [
    { kind: 'remote', config: { url } },
    { kind: 'remote', directory: 'bin', config: { url, filename: 'tool', executable: 'True' } },
  ]);
  const [a, b] = el.sources.map((d) => configureSource(d, el));
  const ref = await a!.track(tc.ctx);
  a!.setRef(ref);
  b!.setRef(ref);
  assert.ok(b!.isCached(tc.ctx), 'remote caches per kind and URL: same URL and ref, same file');
  await b!.fetch(tc.ctx);
  const tree = await stageSources([a!, b!], tc.ctx);
  assert.is(tree.get('single.conf')!.mode, 0o644);
  assert.is(tree.get('bin/tool')!.mode, 0o755);
  assert.is(text(tree, 'bin/tool'), 'k=v\n');
  assert.equal(b!.uniqueKey(), [url, ref!, 'tool', 'True']);
  cleanup(dir, tc.root);
});

test('patch: applies to earlier sources in the same directory; untouched files keep their content', async () => {
  const { dir, project: p } = project();
  writeFileSync(join(dir, 'fix.patch'), '--- a/sub/init\n+++ b/sub/init\n@@ -1,2 +1,3 @@\n-old line\n+new line\n keep\n+added\n');
  const tc = testCache();
  const el = makeElement(p, 'p.bst', [
    { kind: 'local', directory: 'src', config: { path: 'files/hello' } },
    { kind: 'patch', directory: 'src', config: { path: 'fix.patch' } },
  ]);
  const srcs = el.sources.map((d) => configureSource(d, el));
  const tree = await stageSources(srcs, tc.ctx);
  assert.is(text(tree, 'src/sub/init'), 'new line\nkeep\nadded\n');
  assert.ok(tree.get('src/sub/init')!.content instanceof BlobContent, 'patched file went to the blob store');
  assert.not.ok(tree.get('src/hello')!.content instanceof BlobContent, 'untouched file still references the project');
  assert.is(tree.get('src/hello')!.mode, 0o755);
  assert.is(tree.get('src/hi')!.target, 'hello');
  assert.equal(tree.get('src/sub/init')!.mtime, SOURCE_MTIME);
  const key = srcs[1]!.uniqueKey() as string[];
  assert.equal([key[0], key[2]], ['fix.patch', '1']);
  assert.match(key[1]!, /^[0-9a-f]{64}$/);
  cleanup(dir, tc.root);
});

test('patch: read-only directories are patched and keep their mode', async () => {
  const { dir, project: p } = project();
  chmodSync(join(dir, 'files', 'hello', 'sub'), 0o555);
  writeFileSync(join(dir, 'fix.patch'), '--- a/sub/init\n+++ b/sub/init\n@@ -1,2 +1,2 @@\n-old line\n+new line\n keep\n');
  const tc = testCache();
  const el = makeElement(p, 'p.bst', [
    { kind: 'local', config: { path: 'files/hello' } },
    { kind: 'patch', config: { path: 'fix.patch' } },
  ]);
  const tree = await stageSources(
    el.sources.map((d) => configureSource(d, el)),
    tc.ctx,
  );
  assert.is(text(tree, 'sub/init'), 'new line\nkeep\n');
  assert.is(tree.get('sub')!.mode, 0o555);
  assert.equal(filesUnder(tc.ctx.tmpDir), [], 'scratch space cleaned');
  chmodSync(join(dir, 'files', 'hello', 'sub'), 0o755);
  cleanup(dir, tc.root);
});

test.run();
