import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeUki } from '../../../src/partition/uefi/uki.js';
import { fakeKernel, systemdStub, systemdStubPath } from '../../helpers/uefi.js';
import { run } from '../../helpers/tools.js';

/**
 * `kiln mkuki`: the same bytes as the library writer, ukify's TEXT|@PATH arguments, an existing
 * output refused without --force, nothing left behind by a refused stub, --json's shape.
 */

const repo = new URL('../../../', import.meta.url).pathname;
const MAIN = join(repo, 'src/cli/main.ts');
const TSX = join(repo, 'node_modules/tsx/dist/esm/index.mjs');
const dir = mkdtempSync(join(tmpdir(), 'kiln-mkuki-'));

function kiln(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const kernel = fakeKernel(new Uint8Array(3000).fill(0x42));
writeFileSync(join(dir, 'bzImage'), kernel);
writeFileSync(join(dir, 'initrd'), new Uint8Array(1234).fill(9));
writeFileSync(join(dir, 'os-release'), 'ID=kiln\nPRETTY_NAME="kiln test"\n');

test('kiln mkuki writes what writeUki writes; @file reads a file, other text is the value', () => {
  const r = kiln([
    'mkuki',
    '--stub',
    systemdStubPath(),
    '--linux',
    'bzImage',
    '--initrd',
    'initrd',
    '--cmdline',
    'root=/dev/sda2 quiet',
    '--os-release',
    '@os-release',
    '--uname',
    '6.1.0',
    'BOOTX64.EFI',
  ]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^uki: BOOTX64\.EFI: \d+ bytes \(for \\EFI\\BOOT\\BOOTX64\.EFI on an EFI system partition\)\n {2}\.osrel/);
  const expected = writeUki({
    stub: systemdStub(),
    linux: kernel,
    initrd: new Uint8Array(1234).fill(9),
    cmdline: 'root=/dev/sda2 quiet',
    osRelease: readFileSync(join(dir, 'os-release')),
    uname: '6.1.0',
  });
  assert.equal(new Uint8Array(readFileSync(join(dir, 'BOOTX64.EFI'))), expected);
  assert.match(run('objdump', ['-h', join(dir, 'BOOTX64.EFI')]).stdout, /\.osrel[\s\S]*\.cmdline[\s\S]*\.uname[\s\S]*\.initrd[\s\S]*\.linux/);
});

test('an existing output is refused without --force and replaced with it; --json gives the sections', () => {
  writeFileSync(join(dir, 'old.efi'), 'keep me');
  const refused = kiln(['mkuki', '--stub', systemdStubPath(), '--linux', 'bzImage', 'old.efi']);
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /kiln: error: 'old\.efi' exists\n {2}hint: pass --force/);
  assert.is(readFileSync(join(dir, 'old.efi'), 'utf8'), 'keep me');
  const r = kiln(['mkuki', '--json', '-f', '--stub', systemdStubPath(), '--linux', 'bzImage', '--cmdline', 'x', 'old.efi']);
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    type: string;
    size: number;
    bootPath: string;
    sections: { name: string; size: number; virtualAddress: number; fileOffset: number }[];
  };
  assert.is(j.type, 'uki');
  assert.is(j.bootPath, '/EFI/BOOT/BOOTX64.EFI');
  assert.equal(
    j.sections.map((s) => [s.name, s.size]),
    [
      ['.cmdline', 1],
      ['.linux', kernel.length],
    ],
  );
  assert.is(j.size, readFileSync(join(dir, 'old.efi')).length);
});

test('a stub or kernel that cannot be used is named, and no output or temp file is left', () => {
  const before = readdirSync(dir).sort();
  const badStub = kiln(['mkuki', '--stub', 'os-release', '--linux', 'bzImage', 'a.efi']);
  assert.is(badStub.status, 1);
  assert.match(badStub.stderr, /kiln: error: stub 'os-release': is not a PE image \(no "MZ" at the start\)\n {2}hint: /);
  const badKernel = kiln(['mkuki', '--stub', systemdStubPath(), '--linux', 'initrd', 'a.efi']);
  assert.is(badKernel.status, 1);
  assert.match(badKernel.stderr, /kernel 'initrd' is not an EFI-stub kernel[\s\S]*hint: give the bzImage/);
  const missing = kiln(['mkuki', '--stub', systemdStubPath(), '--linux', 'nope', 'a.efi']);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /kernel 'nope' cannot be read/);
  const usage = kiln(['mkuki', '--linux', 'bzImage', 'a.efi']);
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /required option '--stub <file>' not specified/);
  assert.not.ok(existsSync(join(dir, 'a.efi')));
  assert.equal(readdirSync(dir).sort(), before);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
