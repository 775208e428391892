import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KilnError } from '../../../src/errors.js';
import { hostArchitecture } from '../../../src/pipeline/debian/apt-state.js';
import { openPipeline } from '../../../src/pipeline/pipeline.js';
import { authorizationFor, netrcEntry, parseRemotes, pushSourceFiles, Remotes, sourceRemote, effectiveRemotes } from '../../../src/pipeline/remote/index.js';
import { parseYaml } from '../../../src/pipeline/load/yaml.js';
import { LocalArchive } from '../../helpers/debian-archive.js';
import { Nginx } from '../../helpers/nginx.js';
import { requireTool } from '../../helpers/tools.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * Pinned source files through the shared cache (a real nginx): a machine that fetched a `tar`
 * source or a `deb` pin pushes it; once upstream no longer has it, another machine with an empty
 * cache still fetches it — from the remote, accepted by its sha256. Plus the configuration and
 * credentials, which never appear in what kiln prints.
 */

requireTool('nginx');
const root = throwawayDir('kiln-remote-src-');
const server = new Nginx(join(root, 'nginx'));
const repo = new URL('../../../', import.meta.url).pathname;
let caches = 0;
const newCache = (): string => join(root, `cache-${++caches}`);

function kiln(args: string[], cacheDir: string, dir: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), '--cache-dir', cacheDir, '-C', dir, ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: join(root, 'no-config'), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

test.before(async () => {
  await server.start();
});

test.after(async () => {
  await server.stop();
});

test('tar: pushed once, fetched from the remote after upstream lost it; without the remote the fetch fails', () => {
  const upstream = join(root, 'upstream');
  mkdirSync(join(upstream, 'src'), { recursive: true });
  writeFileSync(join(upstream, 'src', 'a.txt'), 'pinned contents\n');
  const tar = join(upstream, 'a.tar.gz');
  assert.is(spawnSync('tar', ['-czf', tar, '-C', upstream, 'src']).status, 0);
  const sha = createHash('sha256').update(readFileSync(tar)).digest('hex');
  const dir = join(root, 'tar-project');
  mkdirSync(join(dir, 'elements'), { recursive: true });
  writeFileSync(join(dir, 'project.conf'), `name: src\nelement-path: elements\naliases:\n  up: ${pathToFileURL(upstream).href}/\n`);
  writeFileSync(join(dir, 'elements', 'x.bst'), `kind: import\nsources:\n- kind: tar\n  url: up:a.tar.gz\n  ref: ${sha}\n`);

  const a = newCache();
  const fetched = kiln(['fetch', 'x.bst'], a, dir);
  assert.is(fetched.status, 0, fetched.all);
  const pushed = kiln(['--remote', server.url, 'source', 'push', 'x.bst'], a, dir);
  assert.is(pushed.status, 0, pushed.all);
  assert.match(pushed.stdout, /x\.bst: sources: .*sent 1 file\(s\)/);
  assert.is(
    createHash('sha256')
      .update(readFileSync(join(server.data, 'cas', sha)))
      .digest('hex'),
    sha,
  );

  rmSync(tar);
  const without = kiln(['fetch', 'x.bst'], newCache(), dir);
  assert.is(without.status, 1, without.all);
  const b = newCache();
  const withRemote = kiln(['--remote', server.url, 'fetch', 'x.bst'], b, dir);
  assert.is(withRemote.status, 0, withRemote.all);
  assert.match(withRemote.stdout, /source #1 \(tar\): fetched/);
  // a damaged copy on the server is refused by its digest
  writeFileSync(join(server.data, 'cas', sha), 'not the tarball\n');
  const damaged = kiln(['--remote', server.url, 'fetch', 'x.bst'], newCache(), dir);
  assert.is(damaged.status, 1, damaged.all);
  assert.match(damaged.all, /its copy is damaged/);
});

test('deb: a pin the archive dropped comes from the shared cache that a machine pushed it to', async () => {
  const archive = new LocalArchive(join(root, 'archive'));
  const arch = await hostArchitecture();
  archive.addBinary({ name: 'kiln-hello', version: '1.0-1', architecture: arch, files: { 'usr/bin/kiln-hello': '#!/bin/sh\necho one\n' } });
  archive.publish();
  const saved = process.env.APT_CONFIG;
  process.env.APT_CONFIG = archive.aptConfig(join(root, 'apt'));
  try {
    const dir = join(root, 'deb-project');
    mkdirSync(join(dir, 'elements'), { recursive: true });
    writeFileSync(join(dir, 'project.conf'), "name: debs\nelement-path: elements\naliases:\n  debian-snapshot: ''\n");
    writeFileSync(join(dir, 'elements', 'base.bst'), 'kind: import\nsources:\n- kind: deb\n  packages: [kiln-hello]\n  essential: false\n');
    const open = (cache: string) => openPipeline({ projectDir: dir, cacheDir: cache, targets: ['base.bst'], warn: () => undefined });
    const warnings: string[] = [];
    const remotes = new Remotes([{ url: server.url, push: true, from: 'test' }], { warn: (m) => warnings.push(m) });
    try {
      const a = open(newCache());
      await a.track(a.targets, 'track');
      for (const s of a.session.sources(a.targets[0]!)) await s.fetch(a.session.sourceContext);
      const pushed = await pushSourceFiles(remotes, a.session.sources(a.targets[0]!), a.session.sourceContext);
      assert.is(pushed[0]!.sent, 1);
      a.session.close();

      // Debian supersedes the version: the archive no longer has the pinned file
      archive.removeBinary('kiln-hello', '1.0-1');
      archive.addBinary({ name: 'kiln-hello', version: '1.0-2', architecture: arch, files: { 'usr/bin/kiln-hello': '#!/bin/sh\necho two\n' } });
      archive.publish();

      const b = open(newCache());
      const gone = await b.session
        .sources(b.targets[0]!)[0]!
        .fetch(b.session.sourceContext)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.instance(gone, KilnError);
      b.session.close();

      const c = open(newCache());
      c.session.sourceContext.remote = sourceRemote(remotes);
      for (const s of c.session.sources(c.targets[0]!)) await s.fetch(c.session.sourceContext);
      assert.ok(c.session.sourcesCached(c.targets[0]!), 'fetched from the shared cache');
      c.session.close();
      assert.equal(warnings, []);
    } finally {
      remotes.close();
    }
  } finally {
    if (saved === undefined) delete process.env.APT_CONFIG;
    else process.env.APT_CONFIG = saved;
  }
});

test('configuration: artifacts as a mapping or a list, user before project, --remote alone; credentials in URLs refused', () => {
  const user = parseRemotes(
    parseYaml('artifacts:\n- url: https://a.example/c\n  push: true\n- url: http://b.example/\n', 'kiln.conf').entries.get('artifacts')!,
    'kiln.conf',
  );
  const project = parseRemotes(parseYaml('artifacts:\n  url: http://b.example/\n  push: True\n', 'project.conf').entries.get('artifacts')!, 'project.conf');
  assert.equal(
    effectiveRemotes(undefined, user, project).map((r) => [r.url, r.push]),
    [
      ['https://a.example/c/', true],
      ['http://b.example/', true],
    ],
  );
  assert.equal(
    effectiveRemotes('http://x.example:8080/cache', user, project).map((r) => [r.url, r.push, r.from]),
    [['http://x.example:8080/cache/', true, '--remote']],
  );
  assert.throws(
    () => parseRemotes(parseYaml('artifacts:\n  url: https://me:secret@a.example/\n', 'kiln.conf').entries.get('artifacts')!, 'kiln.conf'),
    (e: KilnError) => e.code === 'remote-credentials-in-url' && !e.message.includes('secret'),
  );
  assert.throws(
    () => parseRemotes(parseYaml('artifacts:\n  url: https://a.example/\n  pushh: true\n', 'kiln.conf').entries.get('artifacts')!, 'kiln.conf'),
    (e: KilnError) => e.code === 'unknown-key',
  );
});

test('credentials: environment first, then netrc by host; never in what kiln prints', () => {
  const netrc = join(root, 'netrc');
  writeFileSync(netrc, '# team cache\nmachine cache.example login ci password s3cret-netrc\ndefault login anon password x\n');
  assert.equal(netrcEntry(netrc, 'cache.example'), { login: 'ci', password: 's3cret-netrc' });
  assert.equal(netrcEntry(netrc, 'other.example'), { login: 'anon', password: 'x' });
  assert.is(authorizationFor('https://cache.example/', { NETRC: netrc }), `Basic ${Buffer.from('ci:s3cret-netrc').toString('base64')}`);
  assert.is(authorizationFor('https://cache.example/', { NETRC: netrc, KILN_REMOTE_TOKEN: 'tok' }), 'Bearer tok');
  assert.is(
    authorizationFor('https://cache.example/', { NETRC: netrc, KILN_REMOTE_USER: 'u', KILN_REMOTE_PASSWORD: 'p' }),
    `Basic ${Buffer.from('u:p').toString('base64')}`,
  );
  // a remote that is down: the warning names the URL, never the secret
  const dir = join(root, 'tar-project');
  const r = kiln(['--remote', 'http://127.0.0.1:9/', 'artifact', 'pull', 'x.bst'], newCache(), dir, {
    KILN_REMOTE_PASSWORD: 's3cret-env',
    KILN_REMOTE_USER: 'ci',
  });
  assert.is(r.status, 1, r.all);
  assert.match(r.all, /remote cache http:\/\/127\.0\.0\.1:9\/ is unreachable/);
  assert.not.match(r.all, /s3cret|Basic /);
});

test.run();
