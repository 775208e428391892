import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { readContent } from '../../../src/fs/file-content.js';
import type { FileTree } from '../../../src/fs/tree.js';
import { materialize } from '../../../src/pipeline/cache/materialize.js';
import { AptState } from '../../../src/pipeline/debian/apt-state.js';
import { resolveClosure } from '../../../src/pipeline/debian/closure.js';
import { cachedDebPath, fetchPackages, sha256OfFile } from '../../../src/pipeline/debian/download.js';
import type { YamlMap } from '../../../src/pipeline/model.js';
import { configureSource, stageSources } from '../../../src/pipeline/sources/index.js';
import { run } from '../../helpers/tools.js';
import { cleanup, makeElement, makeProject, testCache } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * The `deb` source against the real archive, through this machine's apt configuration:
 * resolution agrees with apt-cache, fetch verifies, tampering is refused, and the staged root
 * runs programs (loader through merged /usr, alternatives, /bin/sh) inside bubblewrap.
 * Small closures only (a few MB); the full base is measured by hand (see the report).
 */

const execFileAsync = promisify(execFile);
const tc = testCache();
const aptRoot = join(tc.root, 'sources', 'deb', 'apt');
const filesDir = join(tc.root, 'sources', 'deb', 'files');

/** `apt-cache show NAME=VERSION` of the machine's own apt: the oracle for versions and digests. */
function hostRecord(pkg: string, version: string): { version: string; sha256: string; size: number } {
  const out = run('apt-cache', ['show', `${pkg}=${version}`]).stdout;
  const field = (k: string): string => (new RegExp(`^${k}: (.*)$`, 'm').exec(out) ?? [])[1] ?? '';
  return { version: field('Version'), sha256: field('SHA256'), size: Number(field('Size')) };
}

function hostCandidate(pkg: string): string {
  return (/Candidate: (\S+)/.exec(run('apt-cache', ['policy', pkg]).stdout) ?? [])[1] ?? '';
}

let helloClosure: Promise<Awaited<ReturnType<typeof resolveClosure>>> | undefined;
/** hello's closure, resolved once for the tests that need it. */
async function helloPackages(): ReturnType<typeof resolveClosure> {
  helloClosure ??= AptState.open(aptRoot).then((apt) => resolveClosure(apt, ['hello'], { essential: false }));
  return helloClosure;
}

async function rejects(p: Promise<unknown>, check: (e: KilnError) => void): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, KilnError, String(e));
    check(e as KilnError);
    return;
  }
  assert.unreachable('expected a KilnError');
}

test('resolve: the closure of hello (no ?essential) matches apt-cache show, version and sha256', async () => {
  const apt = await AptState.open(aptRoot);
  const closure = await helloPackages();
  const names = closure.map((p) => p.package);
  assert.ok(names.includes('hello') && names.includes('libc6'), names.join(' '));
  assert.equal(names, [...names].sort(), 'sorted by package');
  assert.is(closure.find((p) => p.package === 'hello')!.version, hostCandidate('hello'));
  for (const p of closure) {
    const host = hostRecord(p.package, p.version);
    assert.is(host.version, p.version);
    assert.is(p.sha256, host.sha256, `${p.package} sha256`);
    assert.is(p.size, host.size, `${p.package} size`);
    assert.match(p.filename, /^pool\/main\//);
  }
  // the private state has an empty dpkg status and its own lists: the host's are untouched
  assert.ok(existsSync(join(apt.dir, 'status')));
  assert.ok(readdirSync(join(apt.dir, 'lists')).some((n) => n.includes('Packages')));
});

test('state: instances sharing one state never show apt a half-written configuration', async () => {
  // Every source prepares its own AptState on the same directory while others run apt-get in
  // it; a config file rewritten in place was once read empty, and apt used the machine's lists.
  const first = await AptState.open(aptRoot);
  await first.prepare();
  const stamp = (): string => {
    const st = statSync(first.configFile, { bigint: true });
    return `${st.ino}:${st.mtimeNs}`;
  };
  const before = stamp();
  const reads = Array.from({ length: 12 }, async (_, i) => {
    const again = await AptState.open(aptRoot);
    const [r] = await Promise.all([execFileAsync('apt-config', ['-c', first.configFile, 'dump', 'Dir::State::Lists']), again.prepare()]);
    // apt keys are case-insensitive and dump spells them as first seen: compare the value
    assert.ok(r.stdout.includes(` "${join(first.configFile, '..', 'lists')}";`), `read ${i}: ${r.stdout}${r.stderr}`);
  });
  await Promise.all(reads);
  assert.is(stamp(), before, 'an unchanged configuration is not rewritten');
});

test('resolve: an unknown package is a clear error', async () => {
  const apt = await AptState.open(aptRoot);
  await rejects(resolveClosure(apt, ['no-such-package-kiln-test'], { essential: false }), (e) => {
    assert.is(e.code, 'deb-resolve');
    assert.match(e.message, /no-such-package-kiln-test/);
  });
});

test('fetch: exactly the pinned files land under their sha256, verified; tampering is refused naming both digests', async () => {
  const apt = await AptState.open(aptRoot);
  const closure = await helloPackages();
  const pins = closure.map((p) => ({ package: p.package, version: p.version, sha256: p.sha256 }));
  const r = await fetchPackages(apt, pins, filesDir);
  assert.is(r.downloaded, pins.length);
  for (const p of pins) assert.is(await sha256OfFile(cachedDebPath(filesDir, p.sha256)), p.sha256);
  assert.equal((await fetchPackages(apt, pins, filesDir)).downloaded, 0, 'second fetch downloads nothing');

  // a pin whose digest is not what the archive has
  const hello = pins.find((p) => p.package === 'hello')!;
  const wrong = 'f'.repeat(64);
  await rejects(fetchPackages(apt, [{ ...hello, sha256: wrong }], join(tc.root, 'other')), (e) => {
    assert.is(e.code, 'deb-checksum');
    assert.ok(e.message.includes(wrong) && e.message.includes(hello.sha256), e.message);
  });
  // a cached file altered after download
  const path = cachedDebPath(filesDir, hello.sha256);
  appendFileSync(path, 'tampered');
  const actual = await sha256OfFile(path);
  await rejects(fetchPackages(apt, [hello], filesDir), (e) => {
    assert.is(e.code, 'deb-checksum');
    assert.ok(e.message.includes(actual) && e.message.includes(hello.sha256), e.message);
    assert.match(e.hint ?? '', /delete/);
  });
  cleanup(path);
});

test('fetch: a version the archive no longer has is an error that suggests kiln track', async () => {
  const apt = await AptState.open(aptRoot);
  await rejects(fetchPackages(apt, [{ package: 'hello', version: '0.0-kiln-gone', sha256: 'e'.repeat(64) }], join(tc.root, 'gone')), (e) => {
    assert.is(e.code, 'deb-version-gone');
    assert.match(e.message, /hello 0\.0-kiln-gone/);
    assert.match(e.hint ?? '', /kiln track/);
  });
});

function text(tree: FileTree, path: string): string {
  return Buffer.from(readContent(tree.get(path)!.content!)).toString();
}

test('deb source: track → ref, fetch, stage a root that runs hello, busybox, awk and /bin/sh in bwrap', async () => {
  const dir = throwawayDir('kiln-src-');
  const project = makeProject(dir);
  const packages = ['hello', 'busybox-static', 'mawk', 'dash', 'base-passwd'];
  const el = makeElement(project, 'base.bst', [{ kind: 'deb', config: { packages, essential: 'false' } }]);
  const src = configureSource(el.sources[0]!, el);
  assert.is(src.isCached(tc.ctx), false);
  const ref = await src.track(tc.ctx);
  assert.ok(Array.isArray(ref));
  const entries = ref as YamlMap[];
  for (const e of entries) {
    assert.equal(Object.keys(e).sort(), ['filename', 'package', 'sha256', 'tracked', 'version']);
    // the archive path is the one apt-cache show gives (Filename:), for mirrors and the snapshot archive
    assert.is(e['filename'], (/^Filename: (.*)$/m.exec(run('apt-cache', ['show', `${e['package'] as string}=${e['version'] as string}`]).stdout) ?? [])[1]);
    assert.match(e['tracked'] as string, /^\d{8}T\d{6}Z$/);
  }
  assert.ok(entries.some((e) => e['package'] === 'busybox-static'));
  src.setRef(ref);
  assert.equal(src.uniqueKey(), src.uniqueKey());
  await src.fetch(tc.ctx);
  assert.ok(src.isCached(tc.ctx));

  const tree = await stageSources([src], tc.ctx);
  // merged /usr and the fix-ups
  assert.is(tree.get('bin')?.target, 'usr/bin');
  assert.is(tree.get('lib')?.target, 'usr/lib');
  assert.is(tree.get('usr/bin/awk')?.target, '/etc/alternatives/awk');
  assert.is(tree.get('etc/alternatives/awk')?.target, '/usr/bin/mawk');
  assert.is(tree.get('usr/bin/sh')?.type, 'symlink');
  assert.match(text(tree, 'etc/passwd'), /^root:x?:?\*?:?0:0:/m);
  assert.match(text(tree, 'etc/group'), /^root:/m);
  assert.match(text(tree, 'var/lib/dpkg/status'), /^Package: hello\nStatus: install ok installed$/m);
  assert.is(tree.get('tmp')?.mode, 0o1777);
  assert.is(tree.has('usr/bin/busybox'), true);

  // staging is deterministic
  const again = await stageSources([src], tc.ctx);
  const listing = (t: FileTree): string =>
    [...t.walk()].map(([p, i]) => `${p} ${i.type} ${i.mode.toString(8)} ${i.target ?? ''} ${i.content?.size ?? ''}`).join('\n');
  assert.is(listing(again), listing(tree));

  const root = join(dir, 'root');
  materialize(tree, root);
  const out = run('bwrap', [
    '--bind',
    root,
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--unshare-all',
    '--uid',
    '0',
    '--gid',
    '0',
    '--clearenv',
    '--setenv',
    'PATH',
    '/usr/bin:/bin:/usr/sbin:/sbin',
    '/bin/sh',
    '-c',
    'hello; /bin/busybox --help 2>&1 | busybox head -n 1; echo 3 4 | awk "{print \\$1 * \\$2}"; busybox id -un',
  ]).stdout;
  assert.match(out, /^Hello, world!$/m);
  assert.match(out, /^BusyBox v1\.\d+/m);
  assert.match(out, /^12$/m);
  assert.match(out, /^root$/m);
  cleanup(dir);
});

test('deb source: a bad ref and a bad package list are refused with file:line:col', () => {
  const project = makeProject(throwawayDir('kiln-src-'));
  const bad = (config: YamlMap, ref: unknown, re: RegExp): void => {
    const el = makeElement(project, 'b.bst', [{ kind: 'deb', config, ...(ref === undefined ? {} : { ref: ref as YamlMap }) }]);
    assert.throws(
      () => configureSource(el.sources[0]!, el),
      (e: KilnError) => re.test(e.message) && /b\.bst:\d+:\d+/.test(e.message),
    );
  };
  bad({}, undefined, /'packages' is required/);
  bad({ packages: 'hello' }, undefined, /list of Debian package names/);
  bad({ packages: ['Hello World'] }, undefined, /list of Debian package names/);
  bad({ packages: ['hello'] }, [{ package: 'hello', version: '1' }], /has no 'sha256'/);
  bad({ packages: ['hello'] }, [{ package: 'hello', version: '1', sha256: 'xyz' }], /not 64 lowercase hex/);
  bad({ packages: ['hello'], colour: 'red' }, undefined, /unknown key 'colour'/);
});

test.after(() => cleanup(tc.root));
test.run();
