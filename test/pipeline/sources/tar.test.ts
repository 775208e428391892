import { createHash } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readContent } from '../../../src/fs/file-content.js';
import type { FileTree } from '../../../src/fs/tree.js';
import { configureSource, SOURCE_MTIME, stageSources } from '../../../src/pipeline/sources/index.js';
import { TarSource } from '../../../src/pipeline/sources/tar.js';
import { run } from '../../helpers/tools.js';
import { cleanup, filesUnder, makeElement, makeProject, testCache } from './fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A source tree like an upstream release: long names, hard links, symlinks, setuid, empty dir. */
function upstreamTree(root: string): void {
  const top = join(root, 'pkg-1.0');
  const deep = join(top, 'a'.repeat(60), 'b'.repeat(60));
  mkdirSync(deep, { recursive: true });
  mkdirSync(join(top, 'empty'));
  writeFileSync(join(top, 'configure'), '#!/bin/sh\necho configured\n');
  chmodSync(join(top, 'configure'), 0o755);
  writeFileSync(join(deep, `${'c'.repeat(90)}.txt`), 'deep file\n');
  writeFileSync(join(top, 'data'), Buffer.alloc(70_000, 7));
  linkSync(join(top, 'data'), join(top, 'data-link'));
  symlinkSync('configure', join(top, 'conf-link'));
  writeFileSync(join(top, 'suid'), 'x');
  chmodSync(join(top, 'suid'), 0o4755);
  mkdirSync(join(root, 'zz-second'));
}

function pack(dir: string, name: string, args: string[]): { path: string; digest: string } {
  const path = join(dir, 'upstream', name);
  mkdirSync(join(dir, 'upstream'), { recursive: true });
  run('tar', ['-C', join(dir, 'src'), ...args, '-cf', path, 'pkg-1.0', 'zz-second']);
  return { path, digest: sha(readFileSync(path)) };
}

function text(tree: FileTree, path: string): string {
  return Buffer.from(readContent(tree.get(path)!.content!)).toString();
}

for (const [label, name, args] of [
  ['plain GNU', 'p.tar', ['--format=gnu']],
  ['pax + gzip', 'p.tar.gz', ['--format=pax', '-z']],
  ['bzip2', 'p.tar.bz2', ['--format=gnu', '-j']],
  ['xz', 'p.tar.xz', ['--format=pax', '-J']],
] as const) {
  test(`tar (${label}): track, fetch, stage with base-dir '*' into a directory`, async () => {
    const dir = throwawayDir('kiln-src-');
    upstreamTree(join(dir, 'src'));
    const a = pack(dir, name, [...args]);
    const project = makeProject(dir, { up: pathToFileURL(join(dir, 'upstream')).href + '/' });
    const tc = testCache();
    const el = makeElement(project, 'pkg.bst', [{ kind: 'tar', directory: '/sub/', config: { url: `up:${name}` } }]);
    const src = configureSource(el.sources[0]!, el);
    const ref = await src.track(tc.ctx);
    assert.is(ref, a.digest, 'track gives the archive sha256');
    src.setRef(ref);
    assert.ok(src.isCached(tc.ctx), 'track downloads into the cache');
    assert.ok(filesUnder(tc.root).includes(`sources/tar/up_${name.replace(/\./g, '_')}/${a.digest}`), `cache layout: ${filesUnder(tc.root).join(' ')}`);
    await src.fetch(tc.ctx); // already cached: no-op
    const tree = await stageSources([src], tc.ctx);
    const deepName = `sub/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(90)}.txt`;
    assert.is(text(tree, deepName), 'deep file\n');
    assert.is(text(tree, 'sub/configure'), '#!/bin/sh\necho configured\n');
    assert.is(tree.get('sub/configure')!.mode, 0o755);
    assert.is(tree.get('sub/suid')!.mode, 0o4755, 'setuid kept');
    assert.is(tree.get('sub/conf-link')!.target, 'configure');
    assert.is(tree.get('sub/data-link'), tree.get('sub/data'), 'hard link identity');
    assert.is(tree.get('sub/data')!.content!.size, 70_000);
    assert.ok(tree.get('sub/empty')?.type === 'dir' && tree.children('sub/empty').length === 0, 'empty dir kept');
    assert.not.ok(tree.has('sub/zz-second'), 'only the first base-dir match is staged');
    for (const [, inode] of tree.walk()) {
      assert.equal(inode.mtime, SOURCE_MTIME);
      assert.is(inode.uid, 0);
    }
    // compare with the host's extraction of the same archive
    const out = join(dir, 'host');
    mkdirSync(out);
    run('tar', ['-C', out, '-xf', a.path]);
    const host = run('sh', ['-c', `cd ${out}/pkg-1.0 && find . -mindepth 1 | sed 's|^./||' | LC_ALL=C sort`])
      .stdout.trim()
      .split('\n');
    const ours = [...tree.walk()]
      .map(([p]) => p)
      .filter((p) => p.startsWith('sub/'))
      .map((p) => p.slice(4))
      .sort();
    assert.equal(ours, host);
    cleanup(dir, tc.root);
  });
}

test('tar base-dir: explicit glob, empty (archive root), and key parts', async () => {
  const dir = throwawayDir('kiln-src-');
  upstreamTree(join(dir, 'src'));
  const a = pack(dir, 'p.tar.gz', ['-z']);
  const project = makeProject(dir);
  const tc = testCache();
  const url = pathToFileURL(a.path).href;
  const el = makeElement(project, 'pkg.bst', [
    { kind: 'tar', config: { url, 'base-dir': 'zz-*' }, ref: a.digest },
    { kind: 'tar', directory: 'all', config: { url, 'base-dir': '' }, ref: a.digest },
  ]);
  const [s1, s2] = el.sources.map((d) => configureSource(d, el)) as [TarSource, TarSource];
  await s1.fetch(tc.ctx);
  const tree = await stageSources([s1, s2], tc.ctx);
  assert.ok(tree.has('all/pkg-1.0/configure') && tree.has('all/zz-second'));
  assert.equal(tree.children('').sort(), ['all']);
  assert.equal(s1.uniqueKey(), [url, a.digest, 'zz-*']);
  assert.equal(s2.uniqueKey(), [url, a.digest, '']);
  // the decompressed archive is cached next to the download, once
  assert.ok(filesUnder(tc.root).some((f) => f.endsWith(`${a.digest}.tar`)));
  cleanup(dir, tc.root);
});

test('tar over http with a mirror: the mirror is tried first, upstream on failure; track warns on a changed ref', async () => {
  const dir = throwawayDir('kiln-src-');
  upstreamTree(join(dir, 'src'));
  const a = pack(dir, 'p.tar', []);
  const body = readFileSync(a.path);
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/upstream/p.tar') {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const project = makeProject(dir, { up: `http://127.0.0.1:${port}/upstream/` }, [{ name: 'm', aliases: { up: [`http://127.0.0.1:${port}/mirror/`] } }]);
    const tc = testCache();
    const el = makeElement(project, 'pkg.bst', [{ kind: 'tar', config: { url: 'up:p.tar' }, ref: 'e'.repeat(64) }]);
    const src = configureSource(el.sources[0]!, el);
    const ref = await src.track(tc.ctx);
    assert.is(ref, a.digest);
    assert.equal(hits, ['/upstream/p.tar'], 'track tries upstream first');
    assert.match(tc.warnings[0] ?? '', /Potential man-in-the-middle attack!/);
    const tc2 = testCache();
    src.setRef(ref);
    hits.length = 0;
    await src.fetch(tc2.ctx);
    assert.equal(hits, ['/mirror/p.tar', '/upstream/p.tar'], 'fetch tries the mirror first');
    assert.ok(src.isCached(tc2.ctx));
    cleanup(tc.root, tc2.root);
  } finally {
    server.close();
    cleanup(dir);
  }
});

test('tar: device nodes are skipped, fifos kept', async () => {
  const dir = throwawayDir('kiln-src-');
  const { rawTar, T0 } = await import('./fixtures.js');
  const bytes = rawTar([
    { path: 'p/', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T0 },
    { path: 'p/null', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: T0, rdev: { major: 1, minor: 3 } },
    { path: 'p/sda', type: 'block', mode: 0o660, uid: 0, gid: 6, mtime: T0, rdev: { major: 8, minor: 0 } },
    { path: 'p/pipe', type: 'fifo', mode: 0o644, uid: 0, gid: 0, mtime: T0 },
  ]);
  writeFileSync(join(dir, 'd.tar'), bytes);
  const project = makeProject(dir);
  const tc = testCache();
  const el = makeElement(project, 'd.bst', [{ kind: 'tar', config: { url: pathToFileURL(join(dir, 'd.tar')).href }, ref: sha(bytes) }]);
  const src = configureSource(el.sources[0]!, el);
  await src.fetch(tc.ctx);
  const tree = await stageSources([src], tc.ctx);
  assert.equal(
    [...tree.walk()].map(([p, i]) => `${p}:${i.type}`),
    [':dir', 'pipe:fifo'],
  );
  cleanup(dir, tc.root);
});

test.run();
