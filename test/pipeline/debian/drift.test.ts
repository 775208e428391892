import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { hostArchitecture } from '../../../src/pipeline/debian/apt-state.js';
import { PinsUnavailable, sha256OfFile } from '../../../src/pipeline/debian/download.js';
import { openPipeline } from '../../../src/pipeline/pipeline.js';
import { stageSources } from '../../../src/pipeline/sources/index.js';
import { LocalArchive, type ArchiveFile } from '../../helpers/debian-archive.js';
import { cleanup } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * Archive drift, against a real Debian archive built on the fly (LocalArchive) and reached through
 * APT_CONFIG like the machine's own sources: pins are made against version 1, then the archive
 * replaces it with version 2 as Debian does with a security update. A fetch from an empty cache
 * must then say which pins are gone and what the archive has now; a project mirror or a snapshot
 * archive holding version 1 must serve it (accepted by sha256 alone); a tampered copy must be
 * refused; `--fix-missing` must re-pin that one package and keep every other pin byte for byte.
 * Each scenario uses a new cache, because apt's lists are refreshed once per process per state.
 */

const root = throwawayDir('kiln-drift-');
const archive = new LocalArchive(join(root, 'archive'));
const repo = new URL('../../../', import.meta.url).pathname;
let arch = '';
let helloV1: ArchiveFile;
let srcV1: ArchiveFile[] = [];
let caches = 0;
const newCache = (): string => join(root, `cache-${++caches}`);

/** A project with one deb element and one debsrc element; `conf` is appended to project.conf. */
function writeProject(name: string, conf = ''): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'elements'), { recursive: true });
  writeFileSync(join(dir, 'project.conf'), `name: drift\nelement-path: elements\n${conf}`);
  writeFileSync(
    join(dir, 'elements', 'base.bst'),
    '# the packages under test\nkind: import\nsources:\n- kind: deb\n  packages:\n  - kiln-hello\n  - kiln-other\n  essential: false   # a tiny closure\n',
  );
  writeFileSync(join(dir, 'elements', 'src.bst'), 'kind: import\nsources:\n- kind: debsrc\n  package: kiln-src\n');
  return dir;
}

function open(dir: string, cache: string, target = 'base.bst'): ReturnType<typeof openPipeline> {
  return openPipeline({ projectDir: dir, cacheDir: cache, targets: [target], warn: () => undefined });
}

async function track(dir: string, target: string): Promise<void> {
  const p = open(dir, newCache(), target);
  try {
    await p.track(p.targets, 'track');
  } finally {
    p.session.close();
  }
}

async function fetchAll(dir: string, cache: string, target = 'base.bst'): Promise<void> {
  const p = open(dir, cache, target);
  try {
    for (const s of p.session.sources(p.targets[0]!)) await s.fetch(p.session.sourceContext);
  } finally {
    p.session.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<KilnError> {
  try {
    await promise;
  } catch (e) {
    assert.instance(e, KilnError, String(e));
    return e as KilnError;
  }
  assert.unreachable('expected a KilnError');
  throw new Error('unreachable');
}

/** Copies archive files, pool paths kept, from one tree to another. */
function copyPool(from: string, to: string, files: ArchiveFile[]): void {
  for (const f of files) {
    mkdirSync(join(to, dirname(f.filename)), { recursive: true });
    copyFileSync(join(from, f.filename), join(to, f.filename));
  }
}

/** A mirror laid out like the archive (pool paths), holding copies of version 1's `files`. */
function mirrorOf(dir: string, files: ArchiveFile[]): string {
  copyPool(join(root, 'saved'), dir, files);
  return `${pathToFileURL(dir).href}/`;
}

let project = '';
let v1Base = '';
let v1Src = '';

test.before(async () => {
  arch = await hostArchitecture();
  helloV1 = archive.addBinary({
    name: 'kiln-hello',
    version: '1.0-1',
    architecture: arch,
    depends: 'libkiln1',
    files: { 'usr/bin/kiln-hello': '#!/bin/sh\necho one\n' },
  });
  archive.addBinary({ name: 'libkiln1', version: '1.0-1', architecture: arch, source: 'libkiln', files: { 'usr/share/libkiln/a': 'a\n' } });
  archive.addBinary({ name: 'kiln-other', version: '3.0-1', architecture: 'all', files: { 'usr/share/other/b': 'b\n' } });
  srcV1 = archive.addSource({ name: 'kiln-src', version: '1.0-1', files: { 'main.c': 'int main(void) { return 1; }\n' } });
  archive.publish();
  process.env.APT_CONFIG = archive.aptConfig(join(root, 'apt'));

  // pin version 1 in a project (the snapshot archive is a local directory here: see below)
  project = writeProject('project', `aliases:\n  debian-snapshot: ${pathToFileURL(join(root, 'snapshot')).href}/\n`);
  await track(project, 'base.bst');
  await track(project, 'src.bst');
  v1Base = readFileSync(join(project, 'elements', 'base.bst'), 'utf8');
  v1Src = readFileSync(join(project, 'elements', 'src.bst'), 'utf8');

  // what a mirror would have kept; then Debian supersedes version 1, dropping the old files
  copyPool(archive.root, join(root, 'saved'), [helloV1, ...srcV1]);
  archive.removeBinary('kiln-hello', '1.0-1');
  archive.addBinary({
    name: 'kiln-hello',
    version: '1.0-2',
    architecture: arch,
    depends: 'libkiln1',
    files: { 'usr/bin/kiln-hello': '#!/bin/sh\necho two\n' },
  });
  archive.removeSource('kiln-src', '1.0-1');
  archive.addSource({ name: 'kiln-src', version: '1.1-1', files: { 'main.c': 'int main(void) { return 0; }\n' } });
  archive.publish();
});

test('track wrote the whole closure with archive paths and tracking times', () => {
  assert.match(v1Base, /^  ref:\n  - package: kiln-hello\n    version: "1\.0-1"\n/m);
  assert.ok(v1Base.includes(`    filename: ${helloV1.filename}\n`), v1Base);
  assert.ok(v1Base.startsWith('# the packages under test\n') && v1Base.includes('essential: false   # a tiny closure\n'), 'comments kept');
  for (const name of ['kiln-hello', 'kiln-other', 'libkiln1']) assert.ok(v1Base.includes(`- package: ${name}\n`), name);
  assert.match(v1Base, /tracked: "?\d{8}T\d{6}Z"?\n/);
  assert.match(v1Src, /version: "1\.0-1"/);
  assert.ok(v1Src.includes(srcV1.find((f) => f.filename.endsWith('.orig.tar.gz'))!.sha256));
});

test('deb: a fetch from an empty cache names every gone pin with the version the archive has now', async () => {
  const dir = writeProject('gone', 'aliases:\n  debian-snapshot: ""\n');
  writeFileSync(join(dir, 'elements', 'base.bst'), v1Base);
  const e = await failure(fetchAll(dir, newCache()));
  assert.instance(e, PinsUnavailable);
  assert.is(e.code, 'deb-version-gone');
  assert.match(e.message, /kiln-hello 1\.0-1 \(the archive now has 1\.0-2\)/);
  assert.not.match(e.message, /libkiln1|kiln-other/, 'only the gone pin is named');
  assert.match(e.hint ?? '', /kiln track --fix-missing base\.bst/);
});

test('deb: a project mirror holding version 1 serves it, accepted by its sha256; a tampered copy is refused', async () => {
  const good = mirrorOf(join(root, 'mirror-good'), [helloV1]);
  const dir = writeProject('mirrored', `aliases:\n  debian-snapshot: ""\nmirrors:\n- name: team\n  aliases:\n    debian:\n    - ${good}\n`);
  writeFileSync(join(dir, 'elements', 'base.bst'), v1Base);
  const cache = newCache();
  await fetchAll(dir, cache);
  assert.is(await sha256OfFile(join(cache, 'sources', 'deb', 'files', `${helloV1.sha256}.deb`)), helloV1.sha256);

  const badDir = join(root, 'mirror-bad');
  const bad = mirrorOf(badDir, [helloV1]);
  appendFileSync(join(badDir, helloV1.filename), 'tampered');
  const tampered = writeProject('tampered', `aliases:\n  debian-snapshot: ""\nmirrors:\n- name: evil\n  aliases:\n    debian:\n    - ${bad}\n`);
  writeFileSync(join(tampered, 'elements', 'base.bst'), v1Base);
  const e = await failure(fetchAll(tampered, newCache()));
  assert.is(e.code, 'deb-version-gone');
  assert.match(e.message, /mirror 'evil': .*has sha256 [0-9a-f]{64}, but the ref expects/);
  assert.ok(e.message.includes(helloV1.sha256));
});

test('deb: the snapshot archive at the tracked time serves a pin no mirror has; one that never answers is given up', async () => {
  const tracked = /tracked: "?(\d{8}T\d{6}Z)/.exec(v1Base)![1]!;
  mirrorOf(join(root, 'snapshot', 'debian', tracked), [helloV1]);
  const cache = newCache();
  await fetchAll(project, cache);
  assert.is(await sha256OfFile(join(cache, 'sources', 'deb', 'files', `${helloV1.sha256}.deb`)), helloV1.sha256);

  // a snapshot server that accepts and never answers: the fallback gives up, and says so
  const server: Server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const hung = writeProject('hung', `aliases:\n  debian-snapshot: http://127.0.0.1:${port}/\n`);
  writeFileSync(join(hung, 'elements', 'base.bst'), v1Base);
  const t0 = Date.now();
  const e = await failure(fetchAll(hung, newCache()));
  server.close();
  assert.ok(Date.now() - t0 < 30_000, `gave up after ${Date.now() - t0} ms`);
  assert.match(e.message, /the snapshot archive: .*no answer within 15 s/);
});

test('deb: fix-missing re-pins only the gone package; every other line of the file stays', async () => {
  const dir = writeProject('fix', 'aliases:\n  debian-snapshot: ""\n');
  writeFileSync(join(dir, 'elements', 'base.bst'), v1Base);
  const p = open(dir, newCache());
  let lines: string[] = [];
  try {
    const results = await p.track(p.targets, 'fix-missing', { onResult: (r) => (lines = lines.concat(r.changes)) });
    assert.is(results.filter((r) => r.changed).length, 1);
  } finally {
    p.session.close();
  }
  assert.equal(lines, ['kiln-hello: 1.0-1 -> 1.0-2']);
  const after = readFileSync(join(dir, 'elements', 'base.bst'), 'utf8');
  const before = v1Base.split('\n');
  const now = after.split('\n');
  assert.is(now.length, before.length);
  const changed = now.map((l, i) => (l === before[i] ? undefined : l)).filter((l) => l !== undefined);
  // version, sha256, filename and tracked of that one entry, nothing else
  assert.is(changed.length, 4, changed.join('\n'));
  assert.ok(
    changed.some((l) => l === '    version: "1.0-2"'),
    changed.join('\n'),
  );
  // and the new pin fetches
  await fetchAll(dir, newCache());
});

test('debsrc: gone → clear error; a mirror serves the pinned file; fix-missing takes the current version', async () => {
  const dir = writeProject('srcgone', 'aliases:\n  debian-snapshot: ""\n');
  writeFileSync(join(dir, 'elements', 'src.bst'), v1Src);
  const e = await failure(fetchAll(dir, newCache(), 'src.bst'));
  assert.is(e.code, 'debsrc-gone');
  assert.match(e.message, /kiln-src 1\.0-1 \(the archive now has 1\.1-1\)/);
  assert.match(e.hint ?? '', /kiln track --fix-missing src\.bst/);

  const orig = srcV1.find((f) => f.filename.endsWith('.orig.tar.gz'))!;
  const mirror = mirrorOf(join(root, 'src-mirror'), [orig]);
  const mirrored = writeProject('srcmirror', `aliases:\n  debian-snapshot: ""\nmirrors:\n- name: team\n  aliases:\n    debian: [${mirror}]\n`);
  writeFileSync(join(mirrored, 'elements', 'src.bst'), v1Src);
  const cache = newCache();
  await fetchAll(mirrored, cache, 'src.bst');
  assert.is(await sha256OfFile(join(cache, 'sources', 'debsrc', 'kiln-src', orig.sha256)), orig.sha256);
  // and it stages like tar, from the ref as the file holds it
  const staged = open(mirrored, cache, 'src.bst');
  try {
    const tree = await stageSources(staged.session.sources(staged.targets[0]!), staged.session.sourceContext);
    assert.ok(tree.get('main.c')?.type === 'file', [...tree.walk()].map(([p]) => p).join(' '));
  } finally {
    staged.session.close();
  }

  const p = open(dir, newCache(), 'src.bst');
  try {
    await p.track(p.targets, 'fix-missing');
  } finally {
    p.session.close();
  }
  const after = readFileSync(join(dir, 'elements', 'src.bst'), 'utf8');
  assert.match(after, /version: "1\.1-1"/);
  assert.ok(after.startsWith('kind: import\nsources:\n- kind: debsrc\n  package: kiln-src\n'), after);
});

test('two elements that share a source file fetch it at the same time without tripping over each other', async () => {
  const dir = writeProject('shared', 'aliases:\n  debian-snapshot: ""\n');
  const src = readFileSync(join(dir, 'elements', 'src.bst'), 'utf8');
  writeFileSync(join(dir, 'elements', 'src2.bst'), src);
  await track(dir, 'src.bst');
  writeFileSync(join(dir, 'elements', 'src2.bst'), readFileSync(join(dir, 'elements', 'src.bst'), 'utf8'));
  writeFileSync(join(dir, 'elements', 'both.bst'), 'kind: stack\ndepends:\n- src.bst\n- src2.bst\n');
  const cache = newCache();
  const p = openPipeline({ projectDir: dir, cacheDir: cache, targets: ['both.bst'], warn: () => undefined });
  try {
    const sources = p.all.flatMap((e) => p.session.sources(e));
    assert.is(sources.length, 2);
    await Promise.all(sources.map((s) => s.fetch(p.session.sourceContext)));
    for (const s of sources) assert.ok(s.isCached(p.session.sourceContext));
  } finally {
    p.session.close();
  }
});

test('CLI: build fails with the re-pin hint; build --fix-missing re-pins, lists what changed and builds', () => {
  const dir = writeProject('cli', 'aliases:\n  debian-snapshot: ""\n');
  writeFileSync(join(dir, 'elements', 'base.bst'), v1Base);
  const cache = newCache();
  const kiln = (args: string[]): { status: number | null; out: string } => {
    const r = spawnSync(process.execPath, [join(repo, 'dist/cli/main.js'), '--cache-dir', cache, '-C', dir, ...args], { encoding: 'utf8', env: process.env });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const plain = kiln(['build', 'base.bst']);
  assert.is(plain.status, 1, plain.out);
  assert.match(plain.out, /kiln-hello 1\.0-1 \(the archive now has 1\.0-2\)/);
  assert.match(plain.out, /hint: re-pin only what is gone with `kiln track --fix-missing base\.bst`/);
  const fixed = kiln(['build', '--fix-missing', 'base.bst']);
  assert.is(fixed.status, 0, fixed.out);
  assert.match(fixed.out, /^\[fix-missing\] base\.bst: source #1 \(deb\): re-pinned\n {4}kiln-hello: 1\.0-1 -> 1\.0-2$/m);
  const again = kiln(['build', '--fix-missing', 'base.bst']);
  assert.is(again.status, 0, again.out);
  assert.match(again.out, /fix-missing: every pin is still available/);
  const entry = (readFileSync(join(dir, 'elements', 'base.bst'), 'utf8').match(/- package: kiln-hello\n(?: {4}.*\n)+/) ?? [''])[0];
  assert.match(entry, /version: "1\.0-2"/);
});

test.after(() => {
  delete process.env.APT_CONFIG;
  cleanup(root);
});
test.run();
