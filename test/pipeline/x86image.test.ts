import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContent } from '../../src/fs/file-content.js';
import { HostFileContent } from '../../src/fs/content.js';
import { KilnError } from '../../src/errors.js';
import { BlobContent } from '../../src/pipeline/cache/blobs.js';
import { PLUGIN_FSTAB, pluginSyslinuxConfig } from '../../src/pipeline/kinds/x86image.js';
import { requireTool, run } from '../helpers/tools.js';
import { syslinuxBinariesDir } from '../helpers/syslinux-binaries.js';
import { writeBusyboxProject } from './fixtures/busybox-base/base.js';
import { build } from './build/chain-project.js';

/**
 * The x86image kind end to end on a small hand-made system: staged input → /boot on FAT32 with
 * SYSLINUX, ext4 root, swap and an MBR, written by kiln; checked with the real tools.
 */

const SYSTEM = `kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/boot %{install-root}/etc %{install-root}/bin %{install-root}/usr/bin
  - printf 'not really a kernel\\n' > %{install-root}/boot/vmlinuz
  - printf 'not really an initramfs\\n' > %{install-root}/boot/initramfs.gz
  - printf 'old fstab\\n' > %{install-root}/etc/fstab
  - cp /bin/busybox %{install-root}/bin/busybox
  - chmod 6755 %{install-root}/bin/busybox
  - printf '#!/bin/ash\\necho Hello World!\\n' > %{install-root}/usr/bin/hello
  - chmod 755 %{install-root}/usr/bin/hello
`;

const SYSLINUX = `kind: import
sources:
- kind: local
  path: files/syslinux
config:
  target: /usr/share/syslinux
`;

const COMPOSED = `kind: compose
build-depends:
- rootfs.bst
- syslinux.bst
`;

function image(extra = ''): string {
  return `kind: x86image
build-depends:
- base.bst
- system.bst
variables:
  boot-size: 40M
  rootfs-size: 8M
  swap-size: 40K
  kernel-args: root=/dev/sda2 rootfstype=ext4 init=/sbin/init console=ttyS0
config:
  base: base.bst
  input: system.bst
  final-commands:
    (>):
    - |
      cat > %{install-root}/run-in-qemu.sh << EOF
      #!/bin/sh
      qemu-system-x86_64 -drive file=sda.img,format=raw -nographic
      EOF
      chmod +x %{install-root}/run-in-qemu.sh
${extra}`;
}

/** x86image comes from bst-external in BuildStream: the project declares it as the example does. */
const PLUGINS =
  'plugins:\n- origin: pip\n  package-name: BuildStream-external\n  elements:\n    x86image: 0\nenvironment:\n  SOURCE_DATE_EPOCH: "1700000000"\n';

function project(imageBst: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-x86image-'));
  writeBusyboxProject(join(dir, 'p'), { 'rootfs.bst': SYSTEM, 'syslinux.bst': SYSLINUX, 'system.bst': COMPOSED, 'image.bst': imageBst }, PLUGINS);
  const bins = syslinuxBinariesDir();
  mkdirSync(join(dir, 'p/files/syslinux'), { recursive: true });
  for (const f of ['ldlinux.bss', 'ldlinux.sys', 'ldlinux.c32', 'mbr.bin']) copyFileSync(join(bins, f), join(dir, 'p/files/syslinux', f));
  return dir;
}

/** Copies bytes [start, start+size) of `img` into a new file (what `dd skip= count=` does). */
function carve(img: string, start: number, size: number, out: string): string {
  const content = new HostFileContent(img, statSync(img).size);
  const reader = content.open();
  const buf = new Uint8Array(size);
  reader.read(start, buf);
  reader.close();
  writeFileSync(out, buf);
  return out;
}

/** The first image's sha256, to compare with the same system built in another project and cache. */
let firstDigest = '';

test('x86image writes a bootable MBR disk with FAT32+SYSLINUX /boot, ext4 root and swap', async () => {
  for (const t of ['sfdisk', 'fsck.fat', 'e2fsck', 'blkid', 'debugfs', 'mtype', 'mdir']) requireTool(t);
  const dir = project(image());
  try {
    const { p, summary } = await build(join(dir, 'p'), join(dir, 'cache'), ['image.bst']);
    assert.is(summary.failed.length, 0, 'nothing failed');
    const art = p.session.artifact(p.targets[0]!);
    assert.equal(art.children(''), ['run-in-qemu.sh', 'sda.img']);
    assert.ok(readContent(art.get('run-in-qemu.sh')!.content!).length > 0);
    const img = (art.get('sda.img')!.content as BlobContent).path;
    firstDigest = (art.get('sda.img')!.content as BlobContent).digest;
    const st = statSync(img);
    assert.ok(st.blocks * 512 < st.size / 2, `the image is sparse (${st.blocks * 512} bytes allocated of ${st.size})`);

    // Partition table: three partitions one after the other from sector 1, p1 active.
    const dump = run('sfdisk', ['--dump', img]).stdout;
    const parts = [...dump.matchAll(/start=\s*(\d+), size=\s*(\d+), type=(\w+)(, bootable)?/g)].map((m) => ({
      start: Number(m[1]),
      size: Number(m[2]),
      type: m[3],
      boot: !!m[4],
    }));
    assert.is(parts.length, 3, dump);
    assert.equal(
      parts.map((x) => x.type),
      ['c', '83', '82'],
      dump,
    );
    assert.equal(
      parts.map((x) => x.boot),
      [true, false, false],
      dump,
    );
    assert.is(parts[0]!.start, 1);
    assert.is(parts[0]!.size, (40 * 1024 * 1024) / 512);
    assert.is(parts[1]!.start, 1 + parts[0]!.size);
    assert.is(parts[2]!.start, parts[1]!.start + (8 * 1024 * 1024) / 512);
    assert.is(parts[2]!.size, 80);
    assert.is(st.size, (parts[2]!.start + 80) * 512);
    const mbr = readFileSync(img).subarray(0, 440);
    assert.equal(
      new Uint8Array(mbr.subarray(0, 64)),
      new Uint8Array(readFileSync(join(syslinuxBinariesDir(), 'mbr.bin')).subarray(0, 64)),
      'MBR boot code is mbr.bin',
    );

    const p1 = carve(img, parts[0]!.start * 512, parts[0]!.size * 512, join(dir, 'p1'));
    const p2 = carve(img, parts[1]!.start * 512, parts[1]!.size * 512, join(dir, 'p2'));
    const p3 = carve(img, parts[2]!.start * 512, parts[2]!.size * 512, join(dir, 'p3'));
    const fat = run('fsck.fat', ['-n', '-v', p1]);
    assert.match(fat.stdout, /32 bit entries/, fat.stdout);
    assert.is(
      run('mtype', ['-i', p1, '::/syslinux/syslinux.cfg']).stdout,
      pluginSyslinuxConfig('vmlinuz', 'root=/dev/sda2 rootfstype=ext4 init=/sbin/init console=ttyS0'),
    );
    const listing = run('mdir', ['-/', '-a', '-b', '-i', p1, '::/']).stdout;
    for (const f of ['::/vmlinuz', '::/initramfs.gz', '::/syslinux/ldlinux.sys', '::/syslinux/ldlinux.c32'])
      assert.ok(listing.includes(f), `${f} in ${listing}`);
    run('e2fsck', ['-fn', p2]);
    assert.match(run('blkid', ['-o', 'export', p2]).stdout, /LABEL=root\nUUID=.*\n.*TYPE=ext4/s);
    assert.match(run('blkid', ['-o', 'export', p3]).stdout, /LABEL=swap[\s\S]*TYPE=swap/);
    const busybox = run('debugfs', ['-R', 'stat /bin/busybox', p2]).stdout;
    assert.match(busybox, /Mode:\s+06755/);
    assert.match(busybox, /User:\s+0\s+Group:\s+0/);
    assert.is(run('debugfs', ['-R', 'cat /etc/fstab', p2]).stdout, PLUGIN_FSTAB);
    assert.is(run('debugfs', ['-R', 'ls -p /boot', p2]).stdout.trim().split('\n').length, 2, '/boot is an empty mount point');
    assert.ok(run('debugfs', ['-R', 'stat /usr/bin/hello', p2]).stdout.includes('Type: regular'));
    const sb = run('dumpe2fs', ['-h', p2]).stdout;
    const inodes = Number(/Inode count:\s+(\d+)/.exec(sb)![1]);
    assert.is(inodes, (8 * 1024 * 1024) / 8192, 'one inode per 8192 bytes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('x86image accepts the 2.x form: the dependency marked input: true is the input', async () => {
  const two = image().replace('- system.bst\n', '- filename: system.bst\n  config:\n    input: true\n').replace('  base: base.bst\n  input: system.bst\n', '');
  assert.ok(!two.includes('input: system.bst'));
  const dir = project(two);
  try {
    const { p, summary } = await build(join(dir, 'p'), join(dir, 'cache'), ['image.bst']);
    assert.is(summary.failed.length, 0);
    const content = p.session.artifact(p.targets[0]!).get('sda.img')!.content as BlobContent;
    const dump = run('sfdisk', ['--dump', content.path]).stdout;
    assert.equal(
      [...dump.matchAll(/type=(\w+)/g)].map((m) => m[1]),
      ['c', '83', '82'],
      dump,
    );
    // same inputs, another directory and cache: the same bytes (no clock, randomness or paths)
    assert.ok(firstDigest !== '');
    assert.is(content.digest, firstDigest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('x86image refuses shell steps it replaces, before building', async () => {
  const dir = project(image('  partition-commands:\n  - parted -s %{install-root}/sda.img mklabel msdos\n'));
  try {
    await build(join(dir, 'p'), join(dir, 'cache'), ['image.bst']).then(
      () => assert.unreachable('should fail'),
      (e: unknown) => {
        assert.instance(e, KilnError);
        assert.match((e as KilnError).message, /partition-commands/);
        assert.match((e as KilnError).message, /image\.bst/);
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('x86image without SYSLINUX binaries in the input fails naming syslinux-dir', async () => {
  const dir = project(image().replace('  swap-size: 40K\n', '  swap-size: 40K\n  syslinux-dir: /nowhere\n'));
  try {
    const { summary } = await build(join(dir, 'p'), join(dir, 'cache'), ['image.bst'], { onError: 'continue' });
    assert.is(summary.failed.length, 1);
    assert.match(JSON.stringify(summary.failed), /image\.bst/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
