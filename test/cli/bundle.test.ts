import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/**
 * The built CLI (`npm run build`: scripts/bundle-cli.ts bundles it into dist/cli/main.js, which
 * package.json's bin names) runs as the source does: its version, a project's keys and kinds'
 * defaults (read from YAML files the bundle must find beside tsc's modules), and a writer with
 * its worker threads.
 */

const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/main.js');
const TSX = join(repo, 'node_modules/tsx/dist/esm/index.mjs');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

function run(args: string[], fromSource = false): { status: number | null; stdout: string; stderr: string } {
  const argv = fromSource ? ['--import', TSX, join(repo, 'src/cli/main.ts'), ...args] : [bin, ...args];
  return spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
}

test('bin is the bundle: it imports only its own chunks, Node built-ins and dependencies, not the modules tsc emitted', () => {
  assert.is(join(repo, pkg.bin['kiln']!), bin);
  const text = readFileSync(bin, 'utf8');
  const imported = [...text.matchAll(/^import\s[^'"]*["']([^'"]+)["']/gm), ...text.matchAll(/\bimport\(["']([^'"]+)["']\)/g)].map((m) => m[1]!);
  assert.ok(imported.length > 0, 'the bundle imports something (node:module at least)');
  for (const spec of imported)
    assert.ok(/^node:|^\.\/kiln-[A-Z0-9]+\.js$/.test(spec) || spec in pkg.dependencies, `dist/cli/main.js imports '${spec}': run 'npm run build'`);
});

test('--version prints the package version', () => {
  const r = run(['--version']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `${pkg.version}\n`);
});

test("show of the example: the bundle's keys and variables are the source's (kinds' default YAML found)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
  try {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a no-op pipeline command loads neither node:child_process nor node:zlib: they load when a process is started or an archive read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
  try {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mkfs ext4 through the bundle (write-behind worker for a large file): e2fsck finds it clean', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
  try {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mkinitramfs through the bundle: an archive cpio(1) lists, and nothing on stderr (Node warns about a dependency calling the deprecated Buffer() only when the call is outside node_modules)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
  try {
    mkdirSync(join(dir, 'tree/etc'), { recursive: true });
    writeFileSync(join(dir, 'tree/etc/hostname'), 'kiln\n');
    const out = join(dir, 'initrd.cpio');
    const r = run(['mkinitramfs', '--no-compress', join(dir, 'tree'), out]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    const list = spawnSync('cpio', ['-t', '--quiet', '-F', out], { encoding: 'utf8' });
    assert.is(list.error, undefined, 'cpio (Debian package cpio) must be installed');
    assert.ok(list.stdout.split('\n').includes('etc/hostname'), list.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
