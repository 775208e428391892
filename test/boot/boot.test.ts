import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyDiskModules, debianKernel } from '../helpers/boot-kernel.js';
import { syslinuxBinariesDir } from '../helpers/syslinux-binaries.js';
import { requireTool, run } from '../helpers/tools.js';

/**
 * The end of the line: `kiln mkinitramfs` and `kiln mkimage` (the CLI) build a disk with a
 * FAT32 /boot (SYSLINUX, Debian's kernel, an initramfs of Debian's busybox-static), an ext4
 * root and swap; qemu (software emulation) must boot it to `Hello World!`. The initramfs also
 * loads the disk and ext4 modules, mounts /dev/sda2 and lists a file from it.
 */

const repo = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kiln-boot-'));
const TIMEOUT_MS = 120_000;

function kiln(args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    stdio: 'pipe',
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
  });
}

function bootQemu(disk: string): Promise<{ transcript: string; timedOut: boolean }> {
  requireTool('qemu-system-x86_64');
  return new Promise((resolve, reject) => {
    const q = spawn('qemu-system-x86_64', ['-nographic', '-m', '256', '-drive', `file=${disk},format=raw`, '-no-reboot', '-accel', 'tcg'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let transcript = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      q.kill('SIGKILL');
    }, TIMEOUT_MS);
    q.stdout.on('data', (d: Buffer) => (transcript += d.toString('latin1')));
    q.stderr.on('data', (d: Buffer) => (transcript += d.toString('latin1')));
    q.on('error', reject);
    q.on('close', () => {
      clearTimeout(timer);
      resolve({ transcript, timedOut });
    });
  });
}

test('kiln mkimage builds a disk that boots to Hello World! in qemu and mounts its ext4 root', async () => {
  const { vmlinuz, modules } = debianKernel();
  const busybox = requireTool('busybox');
  const binaries = syslinuxBinariesDir();

  // The initramfs: busybox-static, the disk and ext4 modules, and an /init script.
  const initSrc = join(work, 'initramfs');
  mkdirSync(join(initSrc, 'bin'), { recursive: true });
  mkdirSync(join(initSrc, 'lib/modules'), { recursive: true });
  for (const d of ['dev', 'proc', 'sys', 'mnt']) mkdirSync(join(initSrc, d));
  copyFileSync(busybox, join(initSrc, 'bin/busybox'));
  chmodSync(join(initSrc, 'bin/busybox'), 0o755);
  const mods = copyDiskModules(modules, join(initSrc, 'lib/modules'));
  writeFileSync(
    join(initSrc, 'init'),
    [
      '#!/bin/busybox sh',
      'B=/bin/busybox',
      '$B mount -t devtmpfs devtmpfs /dev',
      // The archive holds no /dev/console: take the console from devtmpfs.
      'exec </dev/console >/dev/console 2>&1',
      '$B mount -t proc proc /proc',
      'echo "Hello World!"',
      ...mods.map((m) => `$B insmod /lib/modules/${m} || echo "insmod ${m} failed"`),
      'i=0; while [ ! -b /dev/sda2 ] && [ $i -lt 100 ]; do $B sleep 0.1; i=$((i+1)); done',
      'if $B mount -t ext4 -o ro /dev/sda2 /mnt; then echo "ext4 root:"; $B ls /mnt; $B cat /mnt/etc/kiln-release; fi',
      '$B poweroff -f',
      '',
    ].join('\n'),
  );
  chmodSync(join(initSrc, 'init'), 0o755);
  const initrd = join(work, 'initrd.img');
  kiln(['mkinitramfs', initSrc, initrd]);
  run('gzip', ['-t', initrd]);

  // The ext4 root.
  const rootSrc = join(work, 'rootfs');
  mkdirSync(join(rootSrc, 'etc'), { recursive: true });
  writeFileSync(join(rootSrc, 'etc/kiln-release'), 'kiln ext4 root: written without mke2fs\n');
  writeFileSync(join(rootSrc, 'hello-from-ext4.txt'), 'hi\n');

  const layout = join(work, 'disk.yaml');
  writeFileSync(
    layout,
    [
      'table: mbr',
      'disk-signature: 0x4b494c4e',
      'partitions:',
      '  - filesystem: fat',
      '    fat: 32',
      '    size: auto',
      '    label: BOOT',
      '    uuid: 1234-ABCD',
      '    bootable: true',
      '    files:',
      `      /vmlinuz: ${vmlinuz}`,
      '      /initrd.img: initrd.img',
      '    syslinux:',
      `      binaries: ${binaries}`,
      '      directory: /syslinux',
      '      kernel: /vmlinuz',
      '      initrd: /initrd.img',
      '      cmdline: console=ttyS0 panic=-1 quiet',
      '      serial: 115200',
      '  - filesystem: ext4',
      '    size: auto',
      '    label: root',
      '    uuid: 5f8a1c2e-3b4d-4e6f-8a9b-0c1d2e3f4a5b',
      '    source: rootfs',
      '  - filesystem: swap',
      '    size: 16M',
      '    label: swap',
      '    uuid: 0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b',
      '',
    ].join('\n'),
  );
  const disk = join(work, 'disk.img');
  kiln(['mkimage', layout, disk]);

  // The table and filesystems read back as asked.
  const table = JSON.parse(run('sfdisk', ['--json', disk]).stdout) as {
    partitiontable: { id: string; partitions: { start: number; size: number; type: string; bootable?: boolean }[] };
  };
  assert.is(table.partitiontable.id, '0x4b494c4e');
  const parts = table.partitiontable.partitions;
  assert.equal(
    parts.map((p) => [p.type, !!p.bootable]),
    [
      ['c', true],
      ['83', false],
      ['82', false],
    ],
  );
  assert.ok(
    parts.every((p) => p.start % 2048 === 0),
    'partitions are 1 MiB-aligned',
  );
  const probe = (i: number): string =>
    run('blkid', ['-p', '-o', 'export', '-O', String(parts[i]!.start * 512), '-S', String(parts[i]!.size * 512), disk]).stdout;
  assert.match(probe(0), /TYPE=vfat/);
  assert.match(probe(0), /VERSION=FAT32/);
  assert.match(probe(0), /LABEL=BOOT/);
  assert.match(probe(0), /UUID=1234-ABCD/);
  assert.match(probe(1), /TYPE=ext4/);
  assert.match(probe(1), /LABEL=root/);
  assert.match(probe(1), /UUID=5f8a1c2e-3b4d-4e6f-8a9b-0c1d2e3f4a5b/);
  assert.match(probe(2), /TYPE=swap/);
  assert.match(probe(2), /UUID=0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b/);
  const st = statSync(disk);
  assert.ok(st.blocks * 512 < st.size / 2, `the disk image is not sparse (${st.blocks * 512} of ${st.size} bytes allocated)`);

  const { transcript, timedOut } = await bootQemu(disk);
  const tail = transcript.slice(-6000);
  if (process.env.KILN_SHOW_CONSOLE) process.stderr.write(transcript);
  assert.ok(
    transcript.includes('Hello World!'),
    `no 'Hello World!' from the booted disk${timedOut ? ` within ${TIMEOUT_MS / 1000} s` : ''}; console transcript:\n${tail}`,
  );
  assert.ok(
    transcript.includes('hello-from-ext4.txt') && transcript.includes('written without mke2fs'),
    `the initramfs did not list the ext4 root; console transcript:\n${tail}`,
  );
  assert.not.ok(timedOut, `qemu did not power off within ${TIMEOUT_MS / 1000} s; transcript:\n${tail}`);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
