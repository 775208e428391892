import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { readContent } from '../../../src/fs/file-content.js';
import type { FileTree } from '../../../src/fs/tree.js';
import { aptConfig, hostArchitecture } from '../../../src/pipeline/debian/apt-state.js';
import { sha256OfFile } from '../../../src/pipeline/debian/download.js';
import type { YamlMap, YamlValue } from '../../../src/pipeline/model.js';
import { configureSource, stageSources } from '../../../src/pipeline/sources/index.js';
import type { DebsrcSource } from '../../../src/pipeline/sources/debsrc.js';
import { LocalArchive, type ArchiveFile } from '../../helpers/debian-archive.js';
import { run } from '../../helpers/tools.js';
import { cleanup, makeElement, makeProject, testCache } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * LocalArchive end to end with kiln's real code (no mocks): the `deb` and `debsrc` sources
 * track, fetch and stage from a Debian archive built on the fly, reached through APT_CONFIG
 * like the machine's own sources. Each scenario that needs fresh package lists gets its own
 * cache, since apt-get update is memoized per process per state directory.
 */

const dir = throwawayDir('kiln-archive-');
const archive = new LocalArchive(join(dir, 'archive'));
// no fallback origin for pins the archive dropped: the snapshot archive is on the network
const project = makeProject(throwawayDir('kiln-src-'), { 'debian-snapshot': '' });
const caches: string[] = [];
function freshCache(): ReturnType<typeof testCache> {
  const tc = testCache();
  caches.push(tc.root);
  return tc;
}

let arch = '';
let hello: ArchiveFile;
let helloOld: ArchiveFile;
let lib: ArchiveFile;
let srcFiles: ArchiveFile[] = [];
let buildMs = 0;

test.before(async () => {
  // the packages are built for the machine's architecture so that apt (which kiln points at it) takes them
  arch = await hostArchitecture();
  const t0 = performance.now();
  helloOld = archive.addBinary({
    name: 'kiln-hello',
    version: '1.0-1',
    architecture: arch,
    depends: 'libkiln1 (>= 1:0)',
    files: { 'usr/bin/kiln-hello': '#!/bin/sh\necho old\n' },
  });
  hello = archive.addBinary({
    name: 'kiln-hello',
    version: '1.1-1',
    architecture: arch,
    depends: 'libkiln1 (>= 1:0)',
    files: { 'usr/bin/kiln-hello': '#!/bin/sh\necho hello from kiln\n', 'usr/share/doc/kiln-hello/README': 'kiln test package\n' },
  });
  lib = archive.addBinary({
    name: 'libkiln1',
    version: '2:1.0-1',
    architecture: 'all',
    source: 'libkiln',
    files: { 'usr/share/libkiln/data.txt': 'library data\n' },
  });
  srcFiles = archive.addSource({
    name: 'kiln-hello',
    version: '1.1-1',
    files: { 'hello.c': '#include <stdio.h>\nint main(void) { puts("hello from kiln"); return 0; }\n', Makefile: 'all: hello\n' },
  });
  archive.publish();
  buildMs = performance.now() - t0;
  process.env.APT_CONFIG = archive.aptConfig(join(dir, 'apt'));
});

test('the archive: pool files, indices and Release agree; everything world-readable; apt-config sees only it', async () => {
  assert.is(helloOld.filename, `pool/main/k/kiln-hello/kiln-hello_1.0-1_${arch}.deb`);
  assert.is(lib.filename, 'pool/main/libk/libkiln/libkiln1_1.0-1_all.deb');
  assert.equal(
    srcFiles.map((f) => f.filename.replace(/^.*\//, '')),
    ['kiln-hello_1.1-1.debian.tar.xz', 'kiln-hello_1.1-1.dsc', 'kiln-hello_1.1.orig.tar.gz'],
  );
  for (const f of [hello, helloOld, lib, ...srcFiles]) {
    assert.is(await sha256OfFile(join(archive.root, f.filename)), f.sha256, f.filename);
    assert.is(statSync(join(archive.root, f.filename)).size, f.size, f.filename);
  }
  // dpkg-deb is the oracle for the package it built
  assert.match(run('dpkg-deb', ['-f', join(archive.root, lib.filename), 'Version']).stdout, /^2:1\.0-1$/m);

  const dists = join(archive.root, 'dists', 'kiln-test');
  const release = readFileSync(join(dists, 'Release'), 'utf8');
  assert.match(release, new RegExp(`^Architectures: ${arch}$`, 'm'));
  assert.match(release, /^Suite: kiln-test$/m);
  assert.match(release, /^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/m);
  const listed = [...release.matchAll(/^ ([0-9a-f]{64}) +(\d+) (\S+)$/gm)];
  assert.equal(listed.map((m) => m[3]).sort(), [
    `main/binary-${arch}/Packages`,
    `main/binary-${arch}/Packages.gz`,
    'main/source/Sources',
    'main/source/Sources.gz',
  ]);
  for (const [, sum, size, name] of listed) {
    assert.is(await sha256OfFile(join(dists, name!)), sum, name);
    assert.is(statSync(join(dists, name!)).size, Number(size), name);
  }
  const packages = readFileSync(join(dists, 'main', `binary-${arch}`, 'Packages'), 'utf8');
  for (const f of [hello, helloOld, lib]) assert.ok(packages.includes(`SHA256: ${f.sha256}`), f.filename);

  // apt may run as another user than the one who built the archive
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const mode = statSync(p).mode & 0o777;
      if (e.isDirectory()) {
        assert.is(mode & 0o005, 0o005, `${p} mode ${mode.toString(8)}`);
        walk(p);
      } else assert.is(mode & 0o004, 0o004, `${p} mode ${mode.toString(8)}`);
    }
  };
  assert.is(statSync(archive.root).mode & 0o005, 0o005);
  walk(archive.root);
  assert.equal(readdirSync(archive.root).sort(), ['dists', 'pool'], 'no scratch left behind');

  // what kiln's apt wrapper reads as "the machine's sources"
  const parts = await aptConfig('Dir::Etc::SourceParts/d');
  assert.equal(readdirSync(parts), ['kiln-test.sources']);
  assert.is(readFileSync(await aptConfig('Dir::Etc::SourceList/f'), 'utf8'), '');
  assert.match(readFileSync(join(parts, 'kiln-test.sources'), 'utf8'), new RegExp(`^URIs: ${archive.url}$`, 'm'));
});

test('the packages are reproducible: the same spec in another archive gives the same bytes', () => {
  const other = new LocalArchive(join(dir, 'other'));
  const again = other.addBinary({
    name: 'libkiln1',
    version: '2:1.0-1',
    architecture: 'all',
    source: 'libkiln',
    files: { 'usr/share/libkiln/data.txt': 'library data\n' },
  });
  assert.equal(again, lib);
  const src = other.addSource({
    name: 'kiln-hello',
    version: '1.1-1',
    files: { 'hello.c': '#include <stdio.h>\nint main(void) { puts("hello from kiln"); return 0; }\n', Makefile: 'all: hello\n' },
  });
  assert.equal(src, srcFiles);
});

/** The digest a debsrc ref pins, whether the ref is a bare sha256 or a mapping with one. */
function pinnedSha256(ref: YamlValue | undefined): unknown {
  return ref !== null && typeof ref === 'object' && !Array.isArray(ref) ? ref['sha256'] : ref;
}

function text(tree: FileTree, path: string): string {
  const inode = tree.get(path);
  assert.ok(inode?.content, `${path} in the staged tree`);
  return Buffer.from(readContent(inode!.content!)).toString();
}

test("deb: track pins the newest kiln-hello and its dependency with the archive's versions and sha256; fetch; stage", async () => {
  const tc = freshCache();
  const el = makeElement(project, 'hello.bst', [{ kind: 'deb', config: { packages: ['kiln-hello'], essential: 'false' } }]);
  const src = configureSource(el.sources[0]!, el);
  const ref = await src.track(tc.ctx);
  assert.ok(Array.isArray(ref));
  const entries = ref as YamlMap[];
  assert.equal(
    entries.map((e) => ({ package: e['package'], version: e['version'], sha256: e['sha256'] })),
    [
      { package: 'kiln-hello', version: '1.1-1', sha256: hello.sha256 },
      { package: 'libkiln1', version: '2:1.0-1', sha256: lib.sha256 },
    ],
  );
  // a ref that records where the file is must name the archive's path
  entries.forEach((e, i) => {
    if (e['filename'] !== undefined) assert.is(e['filename'], [hello, lib][i]!.filename);
  });
  src.setRef(ref);
  assert.is(src.isCached(tc.ctx), false);
  await src.fetch(tc.ctx);
  assert.ok(src.isCached(tc.ctx));

  const tree = await stageSources([src], tc.ctx);
  assert.is(text(tree, 'usr/bin/kiln-hello'), '#!/bin/sh\necho hello from kiln\n');
  assert.is(tree.get('usr/bin/kiln-hello')!.mode & 0o777, 0o755);
  assert.is(text(tree, 'usr/share/libkiln/data.txt'), 'library data\n');
  const status = text(tree, 'var/lib/dpkg/status');
  assert.match(status, /^Package: kiln-hello\nStatus: install ok installed\n(?:.*\n)*?Version: 1\.1-1$/m);
  assert.match(status, /^Package: libkiln1\nStatus: install ok installed\n(?:.*\n)*?Version: 2:1\.0-1$/m);
});

test('deb: a superseded version is gone after the archive drops it; track pins the new one', async () => {
  const el = makeElement(project, 'old.bst', [
    {
      kind: 'deb',
      config: { packages: ['kiln-hello'], essential: 'false' },
      ref: [
        { package: 'kiln-hello', version: '1.0-1', sha256: helloOld.sha256 },
        { package: 'libkiln1', version: '2:1.0-1', sha256: lib.sha256 },
      ],
    },
  ]);
  // still in the pool: fetchable by its pin
  const before = freshCache();
  await configureSource(el.sources[0]!, el).fetch(before.ctx);

  archive.removeBinary('kiln-hello', '1.0-1');
  archive.publish();
  const after = freshCache();
  try {
    await configureSource(el.sources[0]!, el).fetch(after.ctx);
    assert.unreachable('the dropped version was fetched');
  } catch (e) {
    assert.instance(e, KilnError, String(e));
    assert.is((e as KilnError).code, 'deb-version-gone', (e as KilnError).message);
    assert.match((e as KilnError).message, /kiln-hello 1\.0-1/);
  }
  const ref = (await configureSource(el.sources[0]!, el).track(after.ctx)) as YamlMap[];
  assert.equal(
    ref.map((p) => `${p['package'] as string} ${p['version'] as string}`),
    ['kiln-hello 1.1-1', 'libkiln1 2:1.0-1'],
  );
});

test("debsrc: track pins the orig tarball's sha256; fetch gets exactly it; stage unpacks it", async () => {
  const tc = freshCache();
  const el = makeElement(project, 'hello-src.bst', [{ kind: 'debsrc', directory: 'src', config: { package: 'kiln-hello' } }]);
  const src = configureSource(el.sources[0]!, el) as DebsrcSource;
  const orig = srcFiles.find((f) => f.filename.endsWith('.orig.tar.gz'))!;
  const ref = await src.track(tc.ctx);
  assert.is(pinnedSha256(ref), orig.sha256);
  if (ref !== null && typeof ref === 'object' && !Array.isArray(ref) && ref['filename'] !== undefined) assert.is(ref['filename'], orig.filename);
  src.setRef(ref);
  await src.fetch(tc.ctx);
  assert.ok(src.isCached(tc.ctx));
  assert.is(await sha256OfFile(src.cachedPath(tc.ctx)), orig.sha256);
  const tree = await stageSources([src], tc.ctx);
  assert.match(text(tree, 'src/hello.c'), /hello from kiln/);
  assert.is(text(tree, 'src/Makefile'), 'all: hello\n');

  // the .dsc by name, at a pinned version
  const dsc = srcFiles.find((f) => f.filename.endsWith('.dsc'))!;
  const byName = makeElement(project, 'dsc.bst', [{ kind: 'debsrc', config: { package: 'kiln-hello', version: '1.1-1', file: 'kiln-hello_1.1-1.dsc' } }]);
  assert.is(pinnedSha256(await configureSource(byName.sources[0]!, byName).track(tc.ctx)), dsc.sha256);
});

test('debsrc: after the archive drops the source package, fetching its pin is an error that suggests kiln track', async () => {
  const orig = srcFiles.find((f) => f.filename.endsWith('.orig.tar.gz'))!;
  archive.removeSource('kiln-hello', '1.1-1');
  assert.ok(!archive.poolFiles().some((f) => /kiln-hello_1\.1(-1\.dsc|-1\.debian|\.orig)/.test(f)), archive.poolFiles().join(' '));
  archive.publish();
  const tc = freshCache();
  const el = makeElement(project, 'gone.bst', [{ kind: 'debsrc', config: { package: 'kiln-hello' }, ref: orig.sha256 }]);
  try {
    await configureSource(el.sources[0]!, el).fetch(tc.ctx);
    assert.unreachable('a dropped source package was fetched');
  } catch (e) {
    assert.instance(e, KilnError, String(e));
    assert.is((e as KilnError).code, 'debsrc-gone', (e as KilnError).message);
    assert.match((e as KilnError).hint ?? '', /kiln track/);
  }
});

test('speed: three binary packages, one source package and publish', () => {
  assert.ok(buildMs < 5000, `building the archive took ${Math.round(buildMs)} ms`);
});

test.after(() => {
  delete process.env.APT_CONFIG;
  cleanup(dir, project.directory, ...caches);
});
test.run();
