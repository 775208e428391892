import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../src/errors.js';
import type { BlobContent } from '../../src/pipeline/cache/blobs.js';
import { PLUGIN_FSTAB, pluginSyslinuxConfig } from '../../src/pipeline/kinds/x86image.js';
import { writeUki } from '../../src/partition/uefi/uki.js';
import { requireTool, run } from '../helpers/tools.js';
import { syslinuxBinariesDir } from '../helpers/syslinux-binaries.js';
import { fakeKernel, systemdStub, systemdStubPath } from '../helpers/uefi.js';
import { writeBusyboxProject } from './fixtures/busybox-base/base.js';
import { build } from './build/chain-project.js';

/**
 * x86image with `boot: uefi` and `boot: hybrid` on a small hand-made system: a GPT disk whose
 * EFI system partition (FAT32) holds /boot and the unified kernel image kiln builds from the
 * stub (a build input, here systemd's own stub imported into the project), /boot/vmlinuz,
 * /boot/initramfs.gz and kernel-args; ext4 root and swap of the Discoverable Partitions types.
 * Checked with sfdisk, blkid, fsck.fat, mtools and debugfs; `boot: bios` keeps its cache key.
 */

const GPTMBR = '/usr/lib/syslinux/mbr/gptmbr.bin';
const ARGS = 'root=/dev/sda2 rootfstype=ext4 init=/sbin/init console=ttyS0';
const KERNEL = fakeKernel(new Uint8Array(3000).fill(0x4b));

const ROOTFS = `kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/boot %{install-root}/etc %{install-root}/bin %{install-root}/usr/bin
  - printf 'not really an initramfs\\n' > %{install-root}/boot/initramfs.gz
  - printf 'NAME=kiln\\nID=kiln\\n' > %{install-root}/etc/os-release
  - cp /bin/busybox %{install-root}/bin/busybox
  - printf '#!/bin/ash\\necho Hello World!\\n' > %{install-root}/usr/bin/hello
  - chmod 755 %{install-root}/usr/bin/hello
`;

const importOf = (path: string, target: string): string => `kind: import\nsources:\n- kind: local\n  path: ${path}\nconfig:\n  target: ${target}\n`;

/** The 2.x form: the input marked, everything else (the base and the stub) staged as the base. */
function image(boot: string, extra = ''): string {
  return `kind: x86image
build-depends:
- base.bst
- stub.bst
- filename: system.bst
  config:
    input: true
variables:
  boot-size: 40M
  rootfs-size: 8M
  swap-size: 40K
  kernel-args: ${ARGS}
config:
  boot: ${boot}
${extra}`;
}

const PLUGINS =
  'plugins:\n- origin: pip\n  package-name: BuildStream-external\n  elements:\n    x86image: 0\nenvironment:\n  SOURCE_DATE_EPOCH: "1700000000"\n';

function project(imageBst: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-x86image-uefi-'));
  const p = join(dir, 'p');
  writeBusyboxProject(
    p,
    {
      'rootfs.bst': ROOTFS,
      'kernel.bst': importOf('files/kernel', '/boot'),
      'syslinux.bst': importOf('files/syslinux', '/usr/share/syslinux'),
      'stub.bst': importOf('files/stub', '/usr/lib/systemd/boot/efi'),
      'system.bst': 'kind: compose\nbuild-depends:\n- rootfs.bst\n- kernel.bst\n- syslinux.bst\n',
      'image.bst': imageBst,
    },
    PLUGINS,
  );
  for (const d of ['kernel', 'syslinux', 'stub']) mkdirSync(join(p, 'files', d), { recursive: true });
  writeFileSync(join(p, 'files/kernel/vmlinuz'), KERNEL);
  const bins = syslinuxBinariesDir();
  for (const f of ['ldlinux.bss', 'ldlinux.sys', 'ldlinux.c32', 'mbr.bin']) copyFileSync(join(bins, f), join(p, 'files/syslinux', f));
  copyFileSync(GPTMBR, join(p, 'files/syslinux/gptmbr.bin'));
  copyFileSync(systemdStubPath(), join(p, 'files/stub/linuxx64.efi.stub'));
  return dir;
}

interface Gpt {
  partitiontable: { label: string; partitions: { start: number; size: number; type: string; name?: string; attrs?: string }[] };
}

/** Builds image.bst and checks the disk; returns its digest. */
async function buildAndCheck(boot: 'uefi' | 'hybrid'): Promise<string> {
  for (const t of ['sfdisk', 'fsck.fat', 'e2fsck', 'blkid', 'debugfs', 'mcopy', 'mdir']) requireTool(t);
  const dir = project(image(boot));
  try {
    const { p, summary } = await build(join(dir, 'p'), join(dir, 'cache'), ['image.bst']);
    assert.is(summary.failed.length, 0, 'nothing failed');
    const content = p.session.artifact(p.targets[0]!).get('sda.img')!.content as BlobContent;
    const img = content.path;
    const t = (JSON.parse(run('sfdisk', ['--json', img]).stdout) as Gpt).partitiontable;
    assert.is(t.label, 'gpt');
    assert.equal(
      t.partitions.map((x) => [x.type, x.name, x.attrs ?? '']),
      [
        ['C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'esp', boot === 'hybrid' ? 'LegacyBIOSBootable' : ''],
        ['4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', 'root', ''],
        ['0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', 'swap', ''],
      ],
    );
    assert.ok(
      t.partitions.every((x) => x.start % 2048 === 0),
      'partitions on 1 MiB boundaries',
    );
    const bytes = readFileSync(img);
    const part = (i: number): string => {
      const out = join(dir, `p${i + 1}`);
      writeFileSync(out, bytes.subarray(t.partitions[i]!.start * 512, (t.partitions[i]!.start + t.partitions[i]!.size) * 512));
      return out;
    };
    const [esp, root, swap] = [part(0), part(1), part(2)];
    assert.match(run('fsck.fat', ['-n', '-v', esp]).stdout, /32 bit entries/);
    assert.match(run('blkid', ['-o', 'export', esp]).stdout, /LABEL=ESP[\s\S]*TYPE=vfat/);
    assert.match(run('blkid', ['-o', 'export', root]).stdout, /LABEL=root[\s\S]*TYPE=ext4/);
    assert.match(run('blkid', ['-o', 'export', swap]).stdout, /LABEL=swap[\s\S]*TYPE=swap/);
    run('e2fsck', ['-fn', root]);
    assert.is(run('debugfs', ['-R', 'cat /etc/fstab', root]).stdout, PLUGIN_FSTAB);
    assert.not.match(run('debugfs', ['-R', 'ls -p /usr/lib', root]).stdout, /systemd/, 'the stub, a build input, is not in the root');
    run('mcopy', ['-n', '-i', esp, '::/EFI/BOOT/BOOTX64.EFI', join(dir, 'uki.efi')]);
    const expected = writeUki({
      stub: systemdStub(),
      linux: KERNEL,
      initrd: new TextEncoder().encode('not really an initramfs\n'),
      cmdline: ARGS,
      osRelease: 'NAME=kiln\nID=kiln\n',
    });
    assert.equal(new Uint8Array(readFileSync(join(dir, 'uki.efi'))), expected, 'the UKI of /boot/vmlinuz, /boot/initramfs.gz, kernel-args and /etc/os-release');
    const listing = run('mdir', ['-/', '-a', '-b', '-i', esp, '::/']).stdout;
    assert.ok(listing.includes('::/vmlinuz') && listing.includes('::/initramfs.gz'), `the ESP is /boot too: ${listing}`);
    const mbr = bytes.subarray(0, 512);
    assert.is(mbr[450], 0xee);
    if (boot === 'hybrid') {
      assert.equal(new Uint8Array(mbr.subarray(0, 440)), new Uint8Array(readFileSync(GPTMBR).subarray(0, 440)), 'gptmbr.bin in the protective MBR');
      assert.is(run('mtype', ['-i', esp, '::/syslinux/syslinux.cfg']).stdout, pluginSyslinuxConfig('vmlinuz', ARGS));
      assert.ok(listing.includes('::/syslinux/ldlinux.sys'));
    } else {
      assert.ok(
        mbr.subarray(0, 440).every((b) => b === 0),
        'no boot code',
      );
      assert.not.ok(listing.includes('syslinux'));
    }
    const st = statSync(img);
    assert.ok(st.blocks * 512 < st.size / 2, 'sparse');
    return content.digest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('boot: uefi writes a GPT disk: FAT32 ESP with /boot and the UKI at \\EFI\\BOOT\\BOOTX64.EFI, root and swap typed; the same bytes from another build', async () => {
  const first = await buildAndCheck('uefi');
  assert.is(await buildAndCheck('uefi'), first, 'the same sha256 from a second project and cache');
});

test('boot: hybrid adds SYSLINUX on the legacy-BIOS-bootable ESP and gptmbr.bin', async () => {
  await buildAndCheck('hybrid');
});

test('boot: bios keeps the key it had, and bad boot values, a missing stub or a small ESP are refused by name', async () => {
  const keyOf = async (imageBst: string): Promise<string> => {
    const dir = project(imageBst);
    try {
      const { openPipeline } = await import('../../src/pipeline/pipeline.js');
      const p = openPipeline({ projectDir: join(dir, 'p'), cacheDir: join(dir, 'cache'), targets: ['image.bst'] });
      const key = p.session.keys(p.targets[0]!).strong;
      p.session.close();
      assert.ok(key, 'every ref is there');
      return key!;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  assert.is(await keyOf(image('bios')), await keyOf(image('bios').replace('  boot: bios\n', '')), 'boot: bios is the default and adds nothing to the key');
  assert.is.not(await keyOf(image('uefi')), await keyOf(image('bios')));
  const fails = async (imageBst: string, code: string, pattern: RegExp): Promise<void> => {
    const dir = project(imageBst);
    try {
      const { summary } = await build(join(dir, 'p'), join(dir, 'cache'), ['image.bst'], { onError: 'continue' }).catch((e: unknown) => {
        assert.instance(e, KilnError);
        assert.is((e as KilnError).code, code);
        assert.match((e as KilnError).message, pattern);
        return { summary: undefined };
      });
      if (summary) {
        assert.is(summary.failed.length, 1);
        assert.match(JSON.stringify(summary.failed), pattern);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  await fails(image('efi'), 'x86image-boot', /config boot 'efi' is not one of bios, uefi, hybrid/);
  await fails(
    image('uefi').replace('  swap-size: 40K\n', '  swap-size: 40K\n  uefi-stub: /nowhere/stub.efi\n'),
    'x86image-no-uefi-stub',
    /the UEFI stub \/nowhere\/stub\.efi is not in the input or the base/,
  );
  await fails(image('uefi').replace('boot-size: 40M', 'boot-size: 20M'), 'x86image-esp-size', /boot-size 20M is too small for the FAT32 EFI system partition/);
});

test.run();
