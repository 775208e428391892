import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { configureSource, stageSources, type Source } from '../../../src/pipeline/sources/index.js';
import { cleanup, filesUnder, makeElement, makeProject, rawTar, T0, testCache, writeFile, type DeclInit } from './fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * Bad source input: each case asserts the message (what, where, what to do) and that nothing
 * landed in the caches (no artifact, no blob, no source file under a final name).
 */

function setup(decls: DeclInit[], aliases: Record<string, string> = {}) {
  const dir = throwawayDir('kiln-src-');
  const project = makeProject(dir, aliases);
  const tc = testCache();
  return { dir, project, tc, element: () => makeElement(project, 'bad.bst', decls) };
}

async function rejects(fn: () => unknown | Promise<unknown>): Promise<KilnError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
  throw new Error('expected a KilnError, nothing was thrown');
}

function nothingCached(root: string, allowed: string[] = []): void {
  const files = filesUnder(root).filter((f) => !allowed.includes(f));
  assert.equal(files, [], `unexpected cache files: ${files.join(', ')}`);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** An archive fixture on disk plus its file:// URL. */
function archive(dir: string, name: string, bytes: Buffer): { url: string; digest: string } {
  const p = writeFile(join(dir, 'upstream', name), bytes);
  return { url: pathToFileURL(p).href, digest: sha(bytes) };
}

test('tar without a ref: fetch refuses and names track', async () => {
  const dir = throwawayDir('kiln-src-');
  const a = archive(dir, 'a.tar', rawTar([{ path: 'a/x', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T0, data: 'x' }]));
  const s = setup([{ kind: 'tar', config: { url: a.url } }]);
  const src = configureSource(s.element().sources[0]!, s.element());
  assert.is(src.uniqueKey(), undefined, 'no ref → no unique key');
  const e = await rejects(() => src.fetch(s.tc.ctx));
  assert.match(e.message, /bad\.bst: source #1 \(tar\): has no ref/);
  assert.match(e.hint ?? '', /kiln track bad\.bst/);
  const e2 = await rejects(() => stageSources([src], s.tc.ctx));
  assert.match(e2.message, /has no ref/);
  nothingCached(s.tc.root);
  cleanup(dir, s.dir, s.tc.root);
});

test('bad sha256 format: refused at configure with the position of the ref', async () => {
  for (const ref of ['1234', 'ABCDEF'.repeat(10) + 'ABCD', 'g'.repeat(64)]) {
    const s = setup([{ kind: 'tar', config: { url: 'https://example.invalid/a.tar' }, ref }]);
    const el = s.element();
    const e = await rejects(() => configureSource(el.sources[0]!, el));
    assert.match(e.message, new RegExp(`bad\\.bst:3:5: bad\\.bst: source #1 \\(tar\\): ref '${ref}' is not a sha256 digest`));
    assert.is(e.code, 'source-bad-ref');
    nothingCached(s.tc.root);
    cleanup(s.dir, s.tc.root);
  }
});

test('digest mismatch: names both digests; nothing lands under any name', async () => {
  const dir = throwawayDir('kiln-src-');
  const bytes = rawTar([{ path: 'a/x', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T0, data: 'real' }]);
  const a = archive(dir, 'a.tar', bytes);
  const wrong = 'a'.repeat(64);
  const s = setup([{ kind: 'tar', config: { url: a.url }, ref: wrong }]);
  const src = configureSource(s.element().sources[0]!, s.element());
  const e = await rejects(() => src.fetch(s.tc.ctx));
  assert.ok(e.message.includes(wrong), 'expected digest named');
  assert.ok(e.message.includes(a.digest), 'actual digest named');
  assert.match(e.message, /has sha256 .* but the ref expects/);
  assert.match(e.hint ?? '', /kiln track/);
  assert.not.ok(src.isCached(s.tc.ctx));
  nothingCached(s.tc.root);
  cleanup(dir, s.dir, s.tc.root);
});

test('missing local path: refused at configure with position and project-relative hint', async () => {
  const s = setup([{ kind: 'local', config: { path: 'files/nope' } }]);
  const el = s.element();
  const e = await rejects(() => configureSource(el.sources[0]!, el));
  assert.match(e.message, /bad\.bst:4:7: bad\.bst: source #1 \(local\): path 'files\/nope' does not exist/);
  assert.match(e.hint ?? '', /relative to the project directory/);
  nothingCached(s.tc.root);
  cleanup(s.dir, s.tc.root);
});

test('local path outside the project is refused', async () => {
  const s = setup([{ kind: 'local', config: { path: '../elsewhere' } }]);
  const el = s.element();
  const e = await rejects(() => configureSource(el.sources[0]!, el));
  assert.match(e.message, /path '\.\.\/elsewhere' is outside the project directory/);
  nothingCached(s.tc.root);
  cleanup(s.dir, s.tc.root);
});

/** Fetches a hostile archive (a valid download) and expects staging to refuse it. */
async function hostile(members: Parameters<typeof rawTar>[0], expect: RegExp, config: Record<string, string> = {}): Promise<void> {
  const dir = throwawayDir('kiln-src-');
  const a = archive(dir, 'evil.tar', rawTar(members));
  const s = setup([{ kind: 'tar', config: { url: a.url, 'base-dir': '', ...config }, ref: a.digest }]);
  const src = configureSource(s.element().sources[0]!, s.element());
  await src.fetch(s.tc.ctx);
  const fetched = filesUnder(s.tc.root);
  assert.equal(fetched.length, 1, 'the download itself is cached');
  const e = await rejects(() => stageSources([src], s.tc.ctx));
  assert.match(e.message, expect);
  assert.match(e.message, /bad\.bst: source #1 \(tar\)/);
  assert.is(e.code, 'tar-escape');
  nothingCached(s.tc.root, fetched);
  cleanup(dir, s.dir, s.tc.root);
}

const base = { mode: 0o644, uid: 0, gid: 0, mtime: T0 };

test("tar member with '../' is refused", async () => {
  await hostile(
    [{ ...base, path: 'pkg/../../etc/passwd', type: 'file', data: 'root::0:0' }],
    /member 'pkg\/\.\.\/\.\.\/etc\/passwd' climbs out of the staging directory/,
  );
});

test('tar member with an absolute path is refused', async () => {
  await hostile([{ ...base, path: '/etc/cron.d/evil', type: 'file', data: 'x' }], /member '\/etc\/cron\.d\/evil' has an absolute path/);
});

test('tar symlink pointing outside (relative) is refused', async () => {
  await hostile(
    [
      { ...base, path: 'pkg/', type: 'dir', mode: 0o755 },
      { ...base, path: 'pkg/up', type: 'symlink', mode: 0o777, linkname: '../../../home' },
    ],
    /member 'pkg\/up' is a symlink to '\.\.\/\.\.\/\.\.\/home', which points outside/,
  );
});

test('tar symlink with an absolute target is refused', async () => {
  await hostile(
    [{ ...base, path: 'pkg/etc', type: 'symlink', mode: 0o777, linkname: '/etc' }],
    /member 'pkg\/etc' is a symlink to '\/etc', which points outside/,
  );
});

test('tar symlink escaping only after base-dir strips the prefix is refused', async () => {
  await hostile(
    [
      { ...base, path: 'pkg-1.0/', type: 'dir', mode: 0o755 },
      { ...base, path: 'other', type: 'file', data: 'x' },
      { ...base, path: 'pkg-1.0/link', type: 'symlink', mode: 0o777, linkname: '../other' },
    ],
    /symlink to '\.\.\/other', which points outside/,
    { 'base-dir': 'pkg-*' },
  );
});

test('tar hard link to a path outside is refused', async () => {
  await hostile([{ ...base, path: 'pkg/shadow', type: 'hardlink', linkname: '../etc/shadow' }], /hard link to '\.\.\/etc\/shadow', which climbs out/);
});

test('unknown source keys are refused at the key, listing the valid ones', async () => {
  const s = setup([{ kind: 'tar', config: { url: 'https://example.invalid/a.tar', sha256: 'x' } }]);
  const el = s.element();
  const e = await rejects(() => configureSource(el.sources[0]!, el));
  assert.match(e.message, /bad\.bst:4:7: bad\.bst: source #1 \(tar\): unknown key 'sha256'/);
  assert.match(e.hint ?? '', /url, ref, base-dir/);
  nothingCached(s.tc.root);
  cleanup(s.dir, s.tc.root);
});

test('unknown source kind names the built-in kinds', async () => {
  const s = setup([{ kind: 'bzr', config: {} }]);
  const el = s.element();
  const e = await rejects(() => configureSource(el.sources[0]!, el));
  assert.match(e.message, /unknown source kind 'bzr'/);
  assert.match(e.hint ?? '', /built-in source kinds: (.*, )?git, local, patch, remote, tar, zip$/);
  nothingCached(s.tc.root);
  cleanup(s.dir, s.tc.root);
});

test('undefined alias is an error; an unaliased full URL is used verbatim', async () => {
  const s = setup([{ kind: 'tar', config: { url: 'upstream:musl-1.2.3.tar.gz' } }], { gnu: 'https://ftp.example.invalid/gnu/' });
  const el = s.element();
  const e = await rejects(() => configureSource(el.sources[0]!, el));
  assert.match(e.message, /url 'upstream:musl-1\.2\.3\.tar\.gz' uses alias 'upstream', which project\.conf does not define/);
  assert.match(e.hint ?? '', /defined: gnu/);
  // verbatim and aliased forms configure fine and keep the URL as written in the key
  const ok = setup(
    [
      { kind: 'tar', config: { url: 'https://example.invalid/x.tar' }, ref: 'b'.repeat(64) },
      { kind: 'tar', config: { url: 'gnu:hello.tar' }, ref: 'c'.repeat(64) },
    ],
    { gnu: 'https://ftp.example.invalid/gnu/' },
  );
  const el2 = ok.element();
  const [a, b] = el2.sources.map((d) => configureSource(d, el2)) as [Source, Source];
  assert.equal(a.uniqueKey(), ['https://example.invalid/x.tar', 'b'.repeat(64), '*']);
  assert.equal(b.uniqueKey(), ['gnu:hello.tar', 'c'.repeat(64), '*']);
  nothingCached(s.tc.root);
  nothingCached(ok.tc.root);
  cleanup(s.dir, s.tc.root, ok.dir, ok.tc.root);
});

test('base-dir that matches nothing lists the top-level directories', async () => {
  const dir = throwawayDir('kiln-src-');
  const a = archive(dir, 'a.tar', rawTar([{ ...base, path: 'musl-1.2.3/README', type: 'file', data: 'r' }]));
  const s = setup([{ kind: 'tar', config: { url: a.url, 'base-dir': 'busybox-*' }, ref: a.digest }]);
  const src = configureSource(s.element().sources[0]!, s.element());
  await src.fetch(s.tc.ctx);
  const fetched = filesUnder(s.tc.root);
  const e = await rejects(() => stageSources([src], s.tc.ctx));
  assert.match(e.message, /base-dir 'busybox-\*' matches no directory in the archive \(top-level directories: musl-1\.2\.3\)/);
  nothingCached(s.tc.root, fetched);
  cleanup(dir, s.dir, s.tc.root);
});

test('a download that does not exist leaves no partial file', async () => {
  const s = setup([{ kind: 'tar', config: { url: pathToFileURL('/nonexistent/kiln/a.tar').href }, ref: 'd'.repeat(64) }]);
  const src = configureSource(s.element().sources[0]!, s.element());
  const e = await rejects(() => src.fetch(s.tc.ctx));
  assert.match(e.message, /cannot read file:\/\/\/nonexistent\/kiln\/a\.tar/);
  nothingCached(s.tc.root);
  cleanup(s.dir, s.tc.root);
});

test('remote filename with a slash is refused; executable must be a bool', async () => {
  const s = setup([{ kind: 'remote', config: { url: 'https://example.invalid/x', filename: 'a/b' } }]);
  const el = s.element();
  assert.match((await rejects(() => configureSource(el.sources[0]!, el))).message, /filename 'a\/b' must be a plain file name/);
  const s2 = setup([{ kind: 'remote', config: { url: 'https://example.invalid/x', executable: 'yes' } }]);
  const el2 = s2.element();
  assert.match((await rejects(() => configureSource(el2.sources[0]!, el2))).message, /'executable' must be True or False, not 'yes'/);
  nothingCached(s.tc.root);
  cleanup(s.dir, s.tc.root, s2.dir, s2.tc.root);
});

test('patch with nothing staged before it, and a patch that does not apply', async () => {
  const s = setup([{ kind: 'patch', config: { path: 'fix.patch' } }]);
  writeFile(join(s.dir, 'fix.patch'), '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n');
  const el = s.element();
  const p = configureSource(el.sources[0]!, el);
  const e = await rejects(() => stageSources([p], s.tc.ctx));
  assert.match(e.message, /nothing is staged in '\.' to apply fix\.patch to/);
  mkdirSync(join(s.dir, 'files'));
  writeFileSync(join(s.dir, 'files', 'x'), 'different\n');
  const el2 = makeElement(s.project, 'bad.bst', [
    { kind: 'local', config: { path: 'files' } },
    { kind: 'patch', config: { path: 'fix.patch' } },
  ]);
  const srcs = el2.sources.map((d) => configureSource(d, el2));
  const e2 = await rejects(() => stageSources(srcs, s.tc.ctx));
  assert.match(e2.message, /source #2 \(patch\): fix\.patch does not apply \(patch -p1 exited 1\)/);
  nothingCached(s.tc.root);
  cleanup(s.dir, s.tc.root);
});

test('local symlink path that dangles still counts as existing; a dangling non-link does not', async () => {
  const s = setup([{ kind: 'local', config: { path: 'link' } }]);
  symlinkSync('nowhere', join(s.dir, 'link'));
  const el = s.element();
  const src = configureSource(el.sources[0]!, el);
  assert.equal(src.uniqueKey(), ['link', [['link', 'nowhere', '777']]]);
  nothingCached(s.tc.root);
  cleanup(s.dir, s.tc.root);
});

test.run();
