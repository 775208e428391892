import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Command } from 'commander';
import { commandFamilies } from '../../../src/cli/commands/index.js';
import { KilnError } from '../../../src/errors.js';
import { openPipeline } from '../../../src/pipeline/pipeline.js';
import { requireTool, run } from '../../helpers/tools.js';
import { cleanup, filesUnder } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * track → fetch → build → checkout through the CLI on a small project: a busybox base (for the
 * integration command), a tarball with a setuid file, a local file with an integration command.
 */

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;

/** The real CLI in a child process (slow to start: used once, to cover main.ts). */
function kilnProcess(cache: string, project: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--cache-dir', cache, '-C', project, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The same commands in this process, with stdout/stderr captured. */
async function kiln(cache: string, project: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string; raw: Buffer }> {
  const program = new Command('kiln').option('--cache-dir <dir>').option('-C, --directory <dir>').exitOverride();
  for (const family of commandFamilies) (await family.load())(program);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  const grab = (into: Buffer[]) => ((chunk: string | Uint8Array) => (into.push(Buffer.from(chunk)), true)) as typeof process.stdout.write;
  process.stdout.write = grab(out);
  process.stderr.write = grab(err);
  let status = 0;
  try {
    await program.parseAsync(['node', 'kiln', '--cache-dir', cache, '-C', project, ...args]);
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    err.push(Buffer.from(`kiln: error: ${e.describe()}\n`));
    status = 1;
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
  const raw = Buffer.concat(out);
  return { status, stdout: raw.toString(), stderr: Buffer.concat(err).toString(), raw };
}

function makeProject(dir: string): string {
  const proj = join(dir, 'proj');
  const up = join(dir, 'up');
  mkdirSync(join(up, 'pkg-1.0', 'bin'), { recursive: true });
  writeFileSync(join(up, 'pkg-1.0', 'bin', 'su'), 'SU');
  chmodSync(join(up, 'pkg-1.0', 'bin', 'su'), 0o4755);
  run('tar', ['-C', up, '-czf', join(up, 'pkg.tar.gz'), 'pkg-1.0']);
  mkdirSync(join(proj, 'elements'), { recursive: true });
  mkdirSync(join(proj, 'files', 'base', 'bin'), { recursive: true });
  mkdirSync(join(proj, 'files', 'base', 'etc'), { recursive: true });
  copyFileSync(requireTool('busybox'), join(proj, 'files', 'base', 'bin', 'busybox'));
  chmodSync(join(proj, 'files', 'base', 'bin', 'busybox'), 0o755);
  symlinkSync('busybox', join(proj, 'files', 'base', 'bin', 'sh'));
  mkdirSync(join(proj, 'files', 'hello'), { recursive: true });
  writeFileSync(join(proj, 'files', 'hello', 'hello'), '#!/bin/sh\necho Hello World!\n');
  chmodSync(join(proj, 'files', 'hello', 'hello'), 0o755);
  writeFileSync(join(proj, 'project.conf'), `name: demo\nelement-path: elements\naliases:\n  up: file://${up}/\n`);
  writeFileSync(join(proj, 'elements', 'base.bst'), 'kind: import\nsources:\n- kind: local\n  path: files/base\n');
  writeFileSync(join(proj, 'elements', 'pkg.bst'), 'kind: import\n# upstream package\nsources:\n- kind: tar   # pinned by track\n  url: up:pkg.tar.gz\n');
  writeFileSync(
    join(proj, 'elements', 'hello.bst'),
    'kind: import\ndepends:\n- base.bst\n- pkg.bst\nsources:\n- kind: local\n  path: files/hello\n  directory: usr/bin\npublic:\n  bst:\n    integration-commands:\n    - echo integrated > /etc/integrated\n',
  );
  return proj;
}

test('fetch before track fails naming the element; nothing is downloaded', () => {
  const dir = throwawayDir('kiln-src-');
  const proj = makeProject(dir);
  const cache = join(dir, 'cache');
  const r = kilnProcess(cache, proj, ['fetch', '--deps', 'all', 'hello.bst']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /Exact versions are missing for the following elements:\n  pkg\.bst/);
  assert.match(r.stderr, /kiln track pkg\.bst/);
  assert.equal(filesUnder(join(cache, 'sources')), []);
  assert.equal(filesUnder(join(cache, 'artifacts')), []);
  cleanup(dir);
});

test('track writes the ref keeping comments; fetch, build, checkout (dir, --no-integrate, --tar, artifact checkout)', async () => {
  const dir = throwawayDir('kiln-src-');
  const proj = makeProject(dir);
  const cache = join(dir, 'cache');
  const t = await kiln(cache, proj, ['track', '--deps', 'all', '--json', 'hello.bst']);
  assert.is(t.status, 0, t.stderr);
  const tracked = JSON.parse(t.stdout) as { element: string; ref: string; changed: boolean }[];
  assert.equal(
    tracked.map((x) => [x.element, x.changed]),
    [['pkg.bst', true]],
  );
  const bst = readFileSync(join(proj, 'elements', 'pkg.bst'), 'utf8');
  assert.ok(bst.includes('# upstream package') && bst.includes('# pinned by track'), 'comments kept');
  assert.ok(bst.includes(`ref: ${tracked[0]!.ref}`), bst);
  const again = await kiln(cache, proj, ['track', '--json', 'pkg.bst']);
  assert.equal(
    (JSON.parse(again.stdout) as { changed: boolean }[]).map((x) => x.changed),
    [false],
    'a second track changes nothing',
  );

  const f = await kiln(cache, proj, ['fetch', '--deps', 'all', '--json', 'hello.bst']);
  assert.is(f.status, 0, f.stderr);
  assert.equal(
    (JSON.parse(f.stdout) as { outcome: string }[]).map((x) => x.outcome),
    ['cached', 'cached', 'cached'],
    'track already downloaded',
  );

  const b = await kiln(cache, proj, ['build', 'hello.bst']);
  assert.is(b.status, 0, b.stdout + b.stderr);

  const out = join(dir, 'out');
  const c = await kiln(cache, proj, ['checkout', 'hello.bst', out]);
  assert.is(c.status, 0, c.stderr);
  assert.is(readFileSync(join(out, 'etc', 'integrated'), 'utf8'), 'integrated\n', 'integration ran');
  assert.is(lstatSync(join(out, 'bin', 'su')).mode & 0o7777, 0o4755);
  assert.is(lstatSync(join(out, 'usr', 'bin', 'hello')).mode & 0o777, 0o755);

  const out2 = join(dir, 'out2');
  assert.is((await kiln(cache, proj, ['checkout', '--no-integrate', 'hello.bst', out2])).status, 0);
  assert.not.ok(existsSync(join(out2, 'etc', 'integrated')));
  assert.ok(existsSync(join(out2, 'bin', 'busybox')));

  const busy = await kiln(cache, proj, ['checkout', 'hello.bst', out]);
  assert.is(busy.status, 1);
  assert.match(busy.stderr, /is not empty/);
  assert.is((await kiln(cache, proj, ['checkout', '--force', 'hello.bst', out])).status, 0);

  // Declared ownership and device nodes live in the manifest: add some to hello's artifact.
  const p = openPipeline({ projectDir: proj, cacheDir: cache, targets: ['hello.bst'] });
  const ref = p.session.ref(p.targets[0]!)!;
  const art = p.session.cache.artifacts.load(ref)!;
  art.tree.mkdir('dev');
  art.tree.device('dev/console', 'char', 5, 1, { mode: 0o600 });
  art.tree.mkdir('home');
  art.tree.file('home/owned', 'mine', { uid: 1000, gid: 1000, mode: 0o640 });
  art.tree.file('home/capable', 'cap', { xattrs: { 'user.note': 'kept in --tar only' } });
  await p.session.cache.artifacts.commit(ref, art.tree, art.meta);

  const out3 = join(dir, 'out3');
  const c3 = await kiln(cache, proj, ['checkout', 'hello.bst', out3]);
  assert.is(c3.status, 0, c3.stderr);
  if (process.getuid?.() === 0) {
    assert.is(lstatSync(join(out3, 'home', 'owned')).uid, 1000, 'owners applied when running as root');
    assert.ok(lstatSync(join(out3, 'dev', 'console')).isCharacterDevice());
  } else {
    assert.match(c3.stderr, /could not create 1 special file\(s\) without root \(dev\/console\); use --tar/);
    assert.is(lstatSync(join(out3, 'home', 'owned')).uid, process.getuid?.());
  }
  assert.is(lstatSync(join(out3, 'home', 'owned')).mode & 0o777, 0o640);
  assert.match(
    c3.stderr,
    /WARNING extended attributes of 1 path\(s\) were not written to the directory \(home\/capable\); use --tar to keep them/,
    'xattrs are never dropped silently',
  );

  const tarPath = join(dir, 'out.tar');
  const ct = await kiln(cache, proj, ['checkout', '--tar', tarPath, 'hello.bst']);
  assert.is(ct.status, 0, ct.stderr);
  const listing = run('tar', ['--numeric-owner', '-tvf', tarPath]).stdout;
  assert.match(listing, /^-rwsr-xr-x 0\/0 +2 .* bin\/su$/m);
  assert.match(listing, /^crw------- 0\/0 +5,1 .* dev\/console$/m);
  assert.match(listing, /^-rw-r----- 1000\/1000 +4 .* home\/owned$/m);
  assert.ok(readFileSync(tarPath).includes('SCHILY.xattr.user.note=kept in --tar only'), 'the tarball keeps the xattr (pax record)');
  assert.match(listing, /^-rw-r--r-- 0\/0 +11 .* etc\/integrated$/m, `integration output is in the tarball:\n${listing}`);
  assert.match(listing, /^lrwxrwxrwx 0\/0 +0 .* bin\/sh -> busybox$/m);

  const stdoutTar = await kiln(cache, proj, ['artifact', 'checkout', '--deps', 'none', '--no-integrate', '--tar', '-', 'hello.bst']);
  assert.is(stdoutTar.status, 0, stdoutTar.stderr);
  const names = run('tar', ['-tf', '-'], { input: stdoutTar.raw }).stdout.trim().split('\n');
  assert.equal(
    names,
    ['dev/', 'dev/console', 'home/', 'home/capable', 'home/owned', 'usr/', 'usr/bin/', 'usr/bin/hello'],
    '--deps none: only the element itself',
  );
  p.session.close();
  cleanup(dir);
});

test.run();
