import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../../src/errors.js';
import { MemoryTarget } from '../../../src/fs/memory-target.js';
import { SubSource } from '../../../src/fs/block-target.js';
import { assembleDiskToMemory } from '../../../src/partition/assemble.js';
import { nodeDiskHost } from '../../../src/partition/disk-file.js';
import { openFilesystem, readPartitions } from '../../../src/partition/image.js';
import { readLayoutFile } from '../../../src/partition/layout.js';
import { writeUki } from '../../../src/partition/uefi/uki.js';
import { fakeKernel, makeStub, systemdStub, systemdStubPath } from '../../helpers/uefi.js';

/**
 * A layout's `uki:` block: the image built while the disk is planned lands where firmware
 * looks (or at `path`), byte for byte what writeUki makes of the same parts; the partition
 * defaults to an EFI system partition on GPT; bad blocks are refused at their file:line:col.
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-uki-layout-'));
const kernel = fakeKernel(new Uint8Array(4000).fill(0x33));
writeFileSync(join(dir, 'bzImage'), kernel);
writeFileSync(join(dir, 'initrd.gz'), new Uint8Array(999).fill(5));
writeFileSync(join(dir, 'os-release'), 'ID=kiln\n');

const ESP = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const BASIC_DATA = 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7';

function layout(name: string, uki: string[], extra: string[] = []): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'table: gpt',
      'partitions:',
      '  - filesystem: fat',
      '    size: 40M',
      '    fat: 32',
      ...extra,
      '    uki:',
      ...uki.map((l) => `      ${l}`),
      '  - { filesystem: swap, size: 1M }',
      '',
    ].join('\n'),
  );
  return file;
}

/** The file at `path` in the disk's partition `n`, read by kiln's FAT reader. */
function fileIn(bytes: Uint8Array, n: number, path: string): Uint8Array {
  const disk = new MemoryTarget(bytes.length);
  disk.bytes.set(bytes);
  const p = readPartitions(disk)!.find((q) => q.number === n)!;
  return openFilesystem(new SubSource(disk, p.offset, p.size)).readFile(path);
}

function refused(file: string, pattern: RegExp): void {
  try {
    readLayoutFile(file);
  } catch (e) {
    assert.instance(e, KilnError);
    assert.match((e as KilnError).message, pattern);
    return;
  }
  assert.unreachable('accepted');
}

test('a YAML uki block puts writeUki of the same files at \\EFI\\BOOT\\BOOTX64.EFI of an ESP', async () => {
  const file = layout('esp.yaml', [
    `stub: ${systemdStubPath()}`,
    'linux: bzImage',
    'initrd: initrd.gz',
    'cmdline: root=/dev/sda2 console=ttyS0',
    'os-release: os-release',
    'uname: 6.1.0-kiln',
  ]);
  const { bytes, result } = await assembleDiskToMemory(readLayoutFile(file), { host: nodeDiskHost, sourceDateEpoch: 1700000000 });
  assert.is(result.partitions[0]!.type, ESP, 'a FAT with a UKI is an EFI system partition by default');
  const expected = writeUki({
    stub: systemdStub(),
    linux: kernel,
    initrd: new Uint8Array(999).fill(5),
    cmdline: 'root=/dev/sda2 console=ttyS0',
    osRelease: 'ID=kiln\n',
    uname: '6.1.0-kiln',
  });
  assert.equal(fileIn(bytes, 1, 'EFI/BOOT/BOOTX64.EFI'), expected);
});

test('path: places the image elsewhere; type: still overrides the ESP default', async () => {
  const file = layout('path.yaml', [`stub: ${systemdStubPath()}`, 'linux: bzImage', 'path: /EFI/Linux/kiln.efi'], ['    type: basic-data']);
  const { bytes, result } = await assembleDiskToMemory(readLayoutFile(file), { host: nodeDiskHost });
  assert.is(result.partitions[0]!.type, BASIC_DATA);
  assert.equal(fileIn(bytes, 1, 'EFI/Linux/kiln.efi'), writeUki({ stub: systemdStub(), linux: kernel }));
});

test('in code, without a host: the parts as bytes (browsers)', async () => {
  const stub = makeStub();
  const { bytes } = await assembleDiskToMemory({
    table: 'gpt',
    size: 'auto',
    partitions: [{ filesystem: 'fat', size: 'auto', uki: { stub, linux: kernel, cmdline: 'quiet' } }],
  });
  assert.equal(fileIn(bytes, 1, 'EFI/BOOT/BOOTX64.EFI'), writeUki({ stub, linux: kernel, cmdline: 'quiet' }));
  try {
    await assembleDiskToMemory({ table: 'gpt', size: 'auto', partitions: [{ filesystem: 'fat', size: 'auto', uki: { stub: '/some/stub', linux: kernel } }] });
    assert.unreachable('a host path without a host');
  } catch (e) {
    assert.is((e as KilnError).code, 'needs-host');
  }
});

test('bad uki blocks are refused at their file:line:col', async () => {
  refused(layout('no-stub.yaml', ['linux: bzImage']), /no-stub\.yaml:\d+:\d+: uki needs 'stub'/);
  refused(layout('missing.yaml', [`stub: ${systemdStubPath()}`, 'linux: nope']), /missing\.yaml:\d+:\d+: .*uki linux .*nope/);
  refused(
    layout('path.yaml', [`stub: ${systemdStubPath()}`, 'linux: bzImage', 'path: EFI/x.efi']),
    /path\.yaml:\d+:\d+: uki path 'EFI\/x\.efi' is not a file path/,
  );
  refused(layout('cmd.yaml', [`stub: ${systemdStubPath()}`, 'linux: bzImage', 'cmdline: "a\\nb"']), /cmd\.yaml:\d+:\d+: uki cmdline contains a line break/);
  refused(layout('key.yaml', [`stub: ${systemdStubPath()}`, 'linux: bzImage', 'kernel: bzImage']), /key\.yaml:\d+:\d+: .*kernel/);
  writeFileSync(
    join(dir, 'ext4.yaml'),
    `table: gpt\npartitions:\n  - filesystem: ext4\n    size: 8M\n    uki: { stub: ${systemdStubPath()}, linux: bzImage }\n`,
  );
  refused(join(dir, 'ext4.yaml'), /ext4\.yaml:5:\d+: .*uki/);
  // a stub that is no PE image is refused when the disk is planned, naming the file and the partition
  const bad = layout('bad-stub.yaml', ['stub: os-release', 'linux: bzImage']);
  try {
    await assembleDiskToMemory(readLayoutFile(bad), { host: nodeDiskHost });
    assert.unreachable('accepted');
  } catch (e) {
    assert.is((e as KilnError).code, 'bad-pe');
    assert.match((e as KilnError).message, /bad-stub\.yaml:\d+:\d+: partition 1: uki stub '.*os-release': is not a PE image/);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
