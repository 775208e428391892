import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootToHello } from '../../scripts/qemu-console.js';
import { copyDiskModules, debianKernel } from '../helpers/boot-kernel.js';
import { syslinuxBinariesDir } from '../helpers/syslinux-binaries.js';
import { requireTool, run } from '../helpers/tools.js';
import { ovmf, systemdStubPath } from '../helpers/uefi.js';

/**
 * UEFI boot, end to end with the CLI: `kiln mkimage` writes a GPT disk whose EFI system
 * partition (FAT32) gets a unified kernel image at \EFI\BOOT\BOOTX64.EFI, built from the
 * layout's `uki:` block (systemd's stub, Debian's kernel and a busybox initramfs), with an ext4
 * root and swap of the Discoverable Partitions types; it must be the image `kiln mkuki` writes
 * from the same parts. OVMF (pflash: code read-only, a scratch copy of the variables) must boot
 * it to the busybox shell, where `hello` prints Hello World!, then power off. The hybrid disk
 * takes the UKI kiln mkuki wrote as a file, carries SYSLINUX on the ESP and gptmbr.bin in the
 * protective MBR, and must boot the same way under qemu's BIOS (SeaBIOS) and under OVMF.
 */

const repo = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kiln-uefi-boot-'));
const TIMEOUT_MS = 240_000;
const GPTMBR = '/usr/lib/syslinux/mbr/gptmbr.bin';
const CMDLINE = 'console=ttyS0 panic=-1 loglevel=3';

const TYPES = { esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', root: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', swap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F' };

function kiln(args: string[]): string {
  return execFileSync(process.execPath, ['--import', join(repo, 'node_modules/tsx/dist/esm/index.mjs'), join(repo, 'src/cli/main.ts'), ...args], {
    cwd: work,
    encoding: 'utf8',
    stdio: 'pipe',
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
  });
}

/** Inputs shared by the disks: the kernel, an initramfs that ends in a busybox shell with `hello`, the UKI, the root tree. */
function inputs(): void {
  const { vmlinuz, modules } = debianKernel();
  const busybox = requireTool('busybox');
  const init = join(work, 'initramfs');
  for (const d of ['bin', 'lib/modules', 'dev', 'proc', 'sys', 'mnt']) mkdirSync(join(init, d), { recursive: true });
  copyFileSync(busybox, join(init, 'bin/busybox'));
  chmodSync(join(init, 'bin/busybox'), 0o755);
  const mods = copyDiskModules(modules, join(init, 'lib/modules'));
  writeFileSync(
    join(init, 'init'),
    [
      '#!/bin/busybox sh',
      '/bin/busybox mount -t devtmpfs devtmpfs /dev',
      // The archive holds no /dev/console: take the console from devtmpfs.
      'exec </dev/console >/dev/console 2>&1',
      '/bin/busybox --install -s /bin',
      'mount -t proc proc /proc',
      ...mods.map((m) => `insmod /lib/modules/${m} || echo "insmod ${m} failed"`),
      'i=0; while [ ! -b /dev/sda3 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done',
      'echo "partitions: $(cd /dev && echo sda?)"',
      'if mount -t ext4 -o ro /dev/sda2 /mnt; then echo "root holds: $(cat /mnt/etc/kiln-release)"; fi',
      'echo "booted with: $(cat /proc/cmdline)"',
      'exec sh',
      '',
    ].join('\n'),
  );
  chmodSync(join(init, 'init'), 0o755);
  writeFileSync(join(init, 'bin/hello'), '#!/bin/sh\necho "Hello World!"\n');
  chmodSync(join(init, 'bin/hello'), 0o755);
  kiln(['mkinitramfs', init, 'initrd.img']);
  copyFileSync(vmlinuz, join(work, 'vmlinuz'));
  writeFileSync(join(work, 'os-release'), 'ID=kiln\nPRETTY_NAME="kiln UEFI test"\n');
  kiln([
    'mkuki',
    '--stub',
    systemdStubPath(),
    '--linux',
    'vmlinuz',
    '--initrd',
    'initrd.img',
    '--cmdline',
    CMDLINE,
    '--os-release',
    '@os-release',
    'BOOTX64.EFI',
  ]);
  mkdirSync(join(work, 'rootfs/etc'), { recursive: true });
  writeFileSync(join(work, 'rootfs/etc/kiln-release'), 'kiln ext4 root on GPT\n');
}

function layout(hybrid: boolean): string {
  return [
    'table: gpt',
    'disk-guid: 4b494c4e-0000-4000-8000-000000000016',
    ...(hybrid ? [`boot-code: ${GPTMBR}`] : []),
    'partitions:',
    '  - filesystem: fat',
    '    name: esp',
    '    fat: 32',
    '    size: auto',
    '    label: ESP',
    '    uuid: 1234-ABCD',
    ...(hybrid
      ? [
          // the UKI kiln mkuki wrote, and SYSLINUX's kernel and initrd beside it
          '    type: esp',
          '    files:',
          '      /EFI/BOOT/BOOTX64.EFI: BOOTX64.EFI',
          '      /vmlinuz: vmlinuz',
          '      /initrd.img: initrd.img',
          '    bootable: true',
          '    syslinux:',
          `      binaries: ${syslinuxBinariesDir()}`,
          '      directory: /syslinux',
          '      kernel: /vmlinuz',
          '      initrd: /initrd.img',
          `      cmdline: ${CMDLINE}`,
          '      serial: 115200',
        ]
      : [
          // built while the disk is written; an ESP by default
          '    uki:',
          `      stub: ${systemdStubPath()}`,
          '      linux: vmlinuz',
          '      initrd: initrd.img',
          `      cmdline: ${CMDLINE}`,
          '      os-release: os-release',
        ]),
    '  - filesystem: ext4',
    '    type: root-x86-64',
    '    name: root',
    '    size: auto',
    '    label: root',
    '    source: rootfs',
    '  - filesystem: swap',
    '    name: swap',
    '    size: 16M',
    '    label: swap',
    '',
  ].join('\n');
}

interface SfdiskGpt {
  partitiontable: { label: string; id: string; partitions: { node: string; start: number; size: number; type: string; name?: string; attrs?: string }[] };
}

/** The table and filesystems as sfdisk, blkid and fsck.fat read them. */
function checkDisk(disk: string, hybrid: boolean): void {
  const t = (JSON.parse(run('sfdisk', ['--json', disk]).stdout) as SfdiskGpt).partitiontable;
  assert.is(t.label, 'gpt');
  assert.equal(
    t.partitions.map((p) => [p.type, p.name]),
    [
      [TYPES.esp, 'esp'],
      [TYPES.root, 'root'],
      [TYPES.swap, 'swap'],
    ],
  );
  assert.is(
    t.partitions[0]!.attrs ?? '',
    hybrid ? 'LegacyBIOSBootable' : '',
    'the ESP carries the legacy BIOS bootable attribute gptmbr.bin looks for only on the hybrid disk',
  );
  const probe = (i: number): string =>
    run('blkid', ['-p', '-o', 'export', '-O', String(t.partitions[i]!.start * 512), '-S', String(t.partitions[i]!.size * 512), disk]).stdout;
  assert.match(probe(0), /^TYPE=vfat$/m);
  assert.match(probe(0), /^VERSION=FAT32$/m);
  assert.match(probe(0), /^LABEL=ESP$/m);
  assert.match(probe(1), /^TYPE=ext4$/m);
  assert.match(probe(1), /^LABEL=root$/m);
  assert.match(probe(2), /^TYPE=swap$/m);
  assert.match(probe(2), /^LABEL=swap$/m);
  // blkid on the whole disk reads the GPT entries: PARTLABEL and the type GUIDs
  const parts = run('blkid', ['-p', '-o', 'export', '--probe', disk]).stdout;
  assert.match(parts, /^PTTYPE=gpt$/m);
  const esp = join(work, 'esp.img');
  writeFileSync(esp, readFileSync(disk).subarray(t.partitions[0]!.start * 512, (t.partitions[0]!.start + t.partitions[0]!.size) * 512));
  const fsck = run('fsck.fat', ['-n', esp], { allowFail: true });
  assert.is(fsck.status, 0, `fsck.fat -n on the ESP:\n${fsck.stdout}${fsck.stderr}`);
  const listed = run('mdir', ['-i', esp, '-b', '::/EFI/BOOT']).stdout;
  assert.match(listed, /BOOTX64\.EFI/);
  run('mcopy', ['-n', '-i', esp, '::/EFI/BOOT/BOOTX64.EFI', join(work, 'from-esp.efi')]);
  assert.equal(
    readFileSync(join(work, 'from-esp.efi')),
    readFileSync(join(work, 'BOOTX64.EFI')),
    'the UKI on the ESP is the one kiln mkuki writes from the same parts',
  );
  rmSync(esp);
  rmSync(join(work, 'from-esp.efi'));
  const mbr = readFileSync(disk).subarray(0, 512);
  assert.is(mbr[450], 0xee, 'a protective MBR entry');
  if (hybrid) assert.equal(mbr.subarray(0, 440), readFileSync(GPTMBR).subarray(0, 440), 'gptmbr.bin is the boot code');
}

async function boot(disk: string, firmware: 'uefi' | 'bios'): Promise<string> {
  const transcript = await bootToHello(requireTool('qemu-system-x86_64'), disk, {
    timeoutMs: TIMEOUT_MS,
    ...(firmware === 'uefi' && { uefi: ovmf(work, `vars-${Date.now()}.fd`) }),
  });
  if (process.env.KILN_SHOW_CONSOLE) process.stderr.write(transcript);
  assert.match(transcript, /partitions: sda1 sda2 sda3/, 'the kernel reads the GPT');
  assert.match(transcript, /root holds: kiln ext4 root on GPT/);
  // SYSLINUX puts BOOT_IMAGE= and initrd= before its APPEND line; the stub passes .cmdline as it is
  assert.match(transcript, new RegExp(`booted with: ${firmware === 'uefi' ? '' : 'BOOT_IMAGE=/vmlinuz initrd=/initrd.img '}${CMDLINE}\r?\n`));
  return transcript;
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

test.before(() => inputs());

test('a GPT disk with the UKI on its ESP boots under OVMF to the shell, where hello prints Hello World!', async () => {
  writeFileSync(join(work, 'uefi.yaml'), layout(false));
  kiln(['mkimage', 'uefi.yaml', 'uefi.img']);
  kiln(['mkimage', 'uefi.yaml', 'uefi-again.img']);
  assert.is(sha256(join(work, 'uefi-again.img')), sha256(join(work, 'uefi.img')), 'the same bytes from a second build');
  rmSync(join(work, 'uefi-again.img'));
  checkDisk(join(work, 'uefi.img'), false);
  const t = await boot(join(work, 'uefi.img'), 'uefi');
  assert.match(t, /EFI stub: /, "the kernel's EFI stub started");
});

test('the hybrid disk boots under SeaBIOS (gptmbr.bin, SYSLINUX on the ESP) and under OVMF (the UKI)', async () => {
  assert.ok(existsSync(GPTMBR), `${GPTMBR} is missing (Debian package: syslinux-common)`);
  writeFileSync(join(work, 'hybrid.yaml'), layout(true));
  kiln(['mkimage', 'hybrid.yaml', 'hybrid.img']);
  checkDisk(join(work, 'hybrid.img'), true);
  const bios = await boot(join(work, 'hybrid.img'), 'bios');
  assert.match(bios, /SYSLINUX/, 'SYSLINUX started it');
  assert.not.match(bios, /EFI stub: /);
  const uefi = await boot(join(work, 'hybrid.img'), 'uefi');
  assert.match(uefi, /EFI stub: /);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
