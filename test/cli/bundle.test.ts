import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { throwawayDir } from '../helpers/temp.js';

/**
 * The built CLI (`npm run build`: scripts/bundle-cli.ts bundles it into dist/cli/kiln.cjs, which
 * dist/cli/main.js, package.json's bin, loads with V8's code cache) runs as the source does: its
 * version, a project's keys and kinds' defaults (read from YAML files the bundle must find beside
 * tsc's modules), and a writer with its worker threads. The code cache is written once per
 * command, used after, and only ever a speed-up.
 */

const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/main.js');
const TSX = join(repo, 'node_modules/tsx/dist/esm/index.mjs');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

function run(args: string[], fromSource = false, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const argv = fromSource ? ['--import', TSX, join(repo, 'src/cli/main.ts'), ...args] : [bin, ...args];
  return spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 26, env });
}

test('bin loads the bundle: it imports only Node built-ins, and the bundle requires only built-ins and dependencies, not the modules tsc emitted', () => {
  assert.is(join(repo, pkg.bin['kiln']!), bin);
  const loader = readFileSync(bin, 'utf8');
  const imported = [...loader.matchAll(/\bimport\s*\{?[^'"]*\}?\s*from\s*["']([^'"]+)["']/g), ...loader.matchAll(/\bimport\(["']([^'"]+)["']\)/g)].map(
    (m) => m[1]!,
  );
  assert.ok(imported.includes('node:vm'), `the loader compiles the bundle with node:vm (imports: ${imported.join(' ')})`);
  for (const spec of imported) assert.ok(spec.startsWith('node:'), `dist/cli/main.js imports '${spec}': run 'npm run build'`);
  assert.ok(loader.includes('./kiln.cjs'), 'the loader names the bundle beside it');
  const bundle = readFileSync(join(repo, 'dist/cli/kiln.cjs'), 'utf8');
  // the loader reads an ASCII bundle without decoding UTF-8 (code-cache.ts): a character in the source escaped as \u… keeps it so
  const nonAscii = /[^\0-\x7f].{0,40}/.exec(bundle);
  assert.is(nonAscii, null, `the bundle holds text that is not ASCII: ${nonAscii?.[0]}`);
  const required = [...bundle.matchAll(/\brequire\(["']([^'"]+)["']\)/g)].map((m) => m[1]!);
  assert.ok(required.includes('node:fs'), 'the bundle requires built-ins');
  for (const spec of required) assert.ok(/^node:/.test(spec) || spec in pkg.dependencies, `dist/cli/kiln.cjs requires '${spec}': run 'npm run build'`);
});

/** The code cache directory of a run whose XDG_CACHE_HOME is `home`, and the caches in it. */
function codeCaches(home: string): { dir: string; names: string[] } {
  const dir = join(home, 'kiln/code');
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    // none yet
  }
  return { dir, names };
}

test("the code cache: a command's first run writes its own, later runs use it (not written again), a damaged one is replaced", () => {
  const home = throwawayDir('kiln-code-cache-');
  const env = { ...process.env, XDG_CACHE_HOME: home };
  // when this build writes a cache, the caches of the two other builds that wrote theirs last
  // stay, older builds' go, and so does a temporary file a killed run left
  mkdirSync(join(home, 'kiln/code'), { recursive: true });
  const others = ['0123456789abcdef', '1123456789abcdef', '2123456789abcdef'].map((build, age) => {
    const path = join(home, `kiln/code/${build}-v20.0.0-x64-build.bin`);
    writeFileSync(path, 'another build');
    const written = Date.now() / 1000 - 3000 + age * 1000;
    utimesSync(path, written, written);
    return path;
  });
  writeFileSync(join(home, 'kiln/code/x.bin.99.tmp'), 'left');
  const first = run(['--version'], false, env);
  assert.is(first.status, 0, first.stderr);
  assert.is(first.stdout, `${pkg.version}\n`);
  assert.equal(
    others.map((p) => existsSync(p)),
    [false, true, true],
  );
  for (const p of others) rmSync(p, { force: true });
  const { dir, names } = codeCaches(home);
  assert.is(names.length, 1, names.join(' '));
  assert.match(names[0]!, new RegExp(`^[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}-none\\.bin$`));
  const cache = join(dir, names[0]!);
  const written = statSync(cache);
  assert.ok(written.size > 10_000, `a cache of ${written.size} bytes`);

  // used: the same output, and the file is not written again (it is, when V8 rejects it)
  const second = run(['--version'], false, env);
  assert.is(second.stdout, first.stdout);
  const after = statSync(cache);
  assert.is(after.ino, written.ino, 'the cache was written again: V8 rejected it');
  assert.is(after.mtimeMs, written.mtimeMs);

  // another command keeps a cache of its own (named by its word, not by a global option's value)
  const help = run(['-C', 'project', 'mkfs', '--help'], false, env);
  assert.is(help.status, 0, help.stderr);
  assert.equal(codeCaches(home).names.length, 2, codeCaches(home).names.join(' '));
  assert.ok(codeCaches(home).names.some((n) => n.endsWith('-mkfs.bin')));
  // a writer command's thread keeps one too
  mkdirSync(join(home, 'tree'));
  writeFileSync(join(home, 'tree/a.txt'), 'a\n');
  const mkfs = run(['mkfs', 'fat', '--size', 'auto', join(home, 'tree'), join(home, 'fat.img')], false, env);
  assert.is(mkfs.status, 0, mkfs.stderr);
  assert.ok(
    codeCaches(home).names.some((n) => n.endsWith('-mkfs-thread.bin')),
    codeCaches(home).names.join(' '),
  );

  // damaged: rejected, the run is the same, and a good cache replaces it
  writeFileSync(cache, Buffer.alloc(written.size, 0x5a));
  const damaged = run(['--version'], false, env);
  assert.is(damaged.status, 0, damaged.stderr);
  assert.is(damaged.stdout, first.stdout);
  assert.is(damaged.stderr, '');
  assert.not.ok(
    readFileSync(cache).every((b) => b === 0x5a),
    'the damaged cache was replaced',
  );
});

test('build writes its code cache at its checkpoint, once its plan is made, not at exit: the code of the work that follows stays out', () => {
  const home = throwawayDir('kiln-code-cache-');
  const proj = join(home, 'proj');
  mkdirSync(join(proj, 'elements'), { recursive: true });
  mkdirSync(join(proj, 'files'));
  writeFileSync(join(proj, 'files/hello'), 'hello\n');
  writeFileSync(join(proj, 'project.conf'), 'name: demo\nelement-path: elements\n');
  writeFileSync(join(proj, 'elements/hello.bst'), 'kind: import\nsources:\n- kind: local\n  path: files\n');
  const r = run(['--cache-dir', join(home, 'cache'), '-C', proj, 'build', 'hello.bst'], false, { ...process.env, XDG_CACHE_HOME: join(home, 'xdg') });
  assert.is(r.status, 0, r.stderr);
  const { dir, names } = codeCaches(join(home, 'xdg'));
  assert.ok(names.length === 1 && names[0]!.endsWith('-build.bin'), names.join(' '));
  const artifacts = join(home, 'cache/artifacts/demo/hello');
  const artifact = readdirSync(artifacts).find((n) => /^[0-9a-f]{64}$/.test(n));
  assert.ok(artifact, readdirSync(artifacts).join(' '));
  const cacheWritten = statSync(join(dir, names[0]!)).mtimeMs;
  const built = statSync(join(artifacts, artifact)).mtimeMs;
  assert.ok(cacheWritten < built, `the code cache was written at ${cacheWritten}, after the artifact (${built})`);
});

test('the code cache is only a speed-up: where it cannot be written, the run is the same and says nothing of it', () => {
  const home = throwawayDir('kiln-code-cache-');
  // XDG_CACHE_HOME under a regular file: no directory can be made there (even as root)
  writeFileSync(join(home, 'file'), '');
  const r = run(['--version'], false, { ...process.env, XDG_CACHE_HOME: join(home, 'file') });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `${pkg.version}\n`);
  assert.is(r.stderr, '');
});

test('--version prints the package version', () => {
  const r = run(['--version']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `${pkg.version}\n`);
});

test("show of the example: the bundle's keys and variables are the source's (kinds' default YAML found)", () => {
  const dir = throwawayDir('kiln-bundle-');
  const args = (cache: string): string[] => [
    '--cache-dir',
    join(dir, cache),
    '-C',
    join(repo, 'examples/image'),
    'show',
    '--deps',
    'all',
    '--format',
    '%{name} %{full-key} %{vars}',
    'image-x86_64.bst',
  ];
  const built = run(args('built'));
  assert.is(built.status, 0, built.stderr);
  const source = run(args('source'), true);
  assert.is(source.status, 0, source.stderr);
  assert.ok(built.stdout.split('\n').length > 10, built.stdout);
  assert.is(built.stdout, source.stdout);
  // the second run answers from the load cache (the entry is not written again), with the same keys
  const loads = join(dir, 'built/loads');
  const entries = readdirSync(loads);
  assert.is(entries.length, 1, entries.join(' '));
  const stored = statSync(join(loads, entries[0]!)).mtimeMs;
  const again = run(args('built'));
  assert.is(again.stdout, built.stdout);
  assert.is(statSync(join(loads, entries[0]!)).mtimeMs, stored, 'the load cache entry was written again: the bundle missed it');
});

test('a no-op pipeline command loads neither node:child_process nor node:zlib: they load when a process is started or an archive read', () => {
  const dir = throwawayDir('kiln-bundle-');
  // the built-ins this process loaded, printed as it exits
  const hook = `data:text/javascript,process.on('exit', () => process.stderr.write('builtins:' + JSON.stringify(process.moduleLoadList)))`;
  const show = (): string[] => {
    const r = spawnSync(process.execPath, ['--import', hook, bin, '--cache-dir', dir, '-C', join(repo, 'examples/image'), 'show', 'image-x86_64.bst'], {
      encoding: 'utf8',
    });
    assert.is(r.status, 0, r.stderr);
    const loaded = JSON.parse(r.stderr.slice(r.stderr.indexOf('builtins:') + 'builtins:'.length)) as string[];
    assert.ok(loaded.includes('NativeModule fs'), loaded.join(' '));
    return loaded;
  };
  // a full load, then one from the load cache
  for (const loaded of [show(), show()]) {
    for (const builtin of ['child_process', 'zlib']) assert.not.ok(loaded.includes(`NativeModule ${builtin}`), `${builtin} was loaded`);
  }
});

test('mkfs ext4 through the bundle (write-behind worker for a large file): e2fsck finds it clean', () => {
  const dir = throwawayDir('kiln-bundle-');
  mkdirSync(join(dir, 'tree/sub'), { recursive: true });
  const big = Buffer.alloc(40 << 20);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  writeFileSync(join(dir, 'tree/big'), big);
  writeFileSync(join(dir, 'tree/sub/small'), 'small\n');
  const img = join(dir, 'out.img');
  const r = run(['mkfs', 'ext4', '--size', 'auto', join(dir, 'tree'), img]);
  assert.is(r.status, 0, r.stderr);
  const fsck = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
  assert.is(fsck.error, undefined, 'e2fsck (Debian package e2fsprogs) must be installed');
  assert.is(fsck.status, 0, fsck.stdout + fsck.stderr);
  const cat = spawnSync('debugfs', ['-R', 'cat /big', img], { maxBuffer: 1 << 26 });
  assert.ok(Buffer.compare(cat.stdout, big) === 0, 'debugfs reads /big back as written');
});

test('mkinitramfs through the bundle: an archive cpio(1) lists, and nothing on stderr (Node warns about a dependency calling the deprecated Buffer() only when the call is outside node_modules)', () => {
  const dir = throwawayDir('kiln-bundle-');
  mkdirSync(join(dir, 'tree/etc'), { recursive: true });
  writeFileSync(join(dir, 'tree/etc/hostname'), 'kiln\n');
  const out = join(dir, 'initrd.cpio');
  const r = run(['mkinitramfs', '--no-compress', join(dir, 'tree'), out]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  const list = spawnSync('cpio', ['-t', '--quiet', '-F', out], { encoding: 'utf8' });
  assert.is(list.error, undefined, 'cpio (Debian package cpio) must be installed');
  assert.ok(list.stdout.split('\n').includes('etc/hostname'), list.stdout);
});

test.run();
