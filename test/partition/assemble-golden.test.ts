import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BytesContent } from '../../src/fs/bytes-content.js';
import { FileTree } from '../../src/fs/tree.js';
import { assembleDiskToMemory, type DiskResult } from '../../src/partition/assemble.js';
import { nodeDiskHost } from '../../src/partition/disk-file.js';
import type { DiskLayout } from '../../src/partition/disk-layout.js';
import { parseLayout } from '../../src/partition/layout.js';
import type { SyslinuxBinaries } from '../../src/partition/syslinux/install.js';
import { run } from '../helpers/tools.js';

/**
 * Disk assembly's output bytes for fixed layouts, pinned by SHA-256: a change to how assembly is
 * organised must not change one byte of a disk (the hashes were recorded before the filesystem
 * handler table replaced assemble.ts's switches). The SYSLINUX binaries are made up here (the
 * smallest files the installer accepts), so the hashes do not move with the Debian package.
 */

const SDE = 1_700_000_000;
const MiB = 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What a disk assembly gives: the image bytes and the result it reports. */
async function fingerprint(layout: DiskLayout, host = false): Promise<{ image: string; result: DiskResult }> {
  const { bytes, result } = await assembleDiskToMemory(layout, { sourceDateEpoch: SDE, ...(host && { host: nodeDiskHost }) });
  return { image: sha256(bytes), result };
}

/** ldlinux.bss/.sys/.c32 and mbr.bin with just the structure the installer checks and patches. */
function fakeSyslinux(): SyslinuxBinaries {
  const bss = new Uint8Array(512).map((_, i) => (i * 7) & 0xff);
  const bv = new DataView(bss.buffer);
  bv.setUint32(0x1f8, 0x3eb202fe, true);
  bss[0x1fe] = 0x55;
  bss[0x1ff] = 0xaa;
  const sys = new Uint8Array(6000).map((_, i) => (i * 13) & 0xff);
  const sv = new DataView(sys.buffer);
  sv.setUint32(0x40, 0x3eb202fe, true); // patch area
  sv.setUint16(0x40 + 22, 0x80, true); // → extended patch area at 0x80
  const epa = [0x100, 0x120, 64, 0, 0, 0x200, 8, 0x10, 0x14, 0];
  epa.forEach((v, i) => sv.setUint16(0x80 + i * 2, v, true));
  const c32 = new Uint8Array(3000).map((_, i) => (i * 5) & 0xff);
  c32.set([0x7f, 0x45, 0x4c, 0x46]);
  const mbr = new Uint8Array(440).map((_, i) => (i * 3) & 0xff);
  return { bss, sys, c32, mbr };
}

function bootTree(): FileTree {
  const t = new FileTree();
  t.file('vmlinuz', new Uint8Array(300_000).fill(7), { mtime: { sec: 1_600_000_000, nsec: 0 } });
  t.mkdir('docs', { mtime: { sec: 1_600_000_100, nsec: 0 } });
  t.file('docs/README.TXT', 'boot partition\n');
  t.file('docs/A long file name.text', 'lfn\n');
  return t;
}

function rootTree(): FileTree {
  const t = new FileTree();
  t.mkdir('etc');
  t.file('etc/hostname', 'kiln\n', { mtime: { sec: 1_650_000_000, nsec: 0 } });
  t.mkdir('bin');
  t.file(
    'bin/tool',
    new Uint8Array(70_000).map((_, i) => i & 0xff),
    { mode: 0o755, uid: 1000, gid: 1000 },
  );
  t.symlink('bin/sh', 'tool');
  t.link('bin/tool2', 'bin/tool');
  t.file('big', new Uint8Array(2 * MiB).fill(0x5a));
  return t;
}

const layouts: Record<string, () => DiskLayout> = {
  'MBR: FAT (auto, SYSLINUX, bootable) + ext4 + swap + raw + a logical swap': () => ({
    table: 'mbr',
    size: 'auto',
    partitions: [
      {
        filesystem: 'fat',
        size: 'auto',
        label: 'BOOT',
        bootable: true,
        tree: bootTree(),
        syslinux: { binaries: fakeSyslinux(), directory: '/syslinux', kernel: '/vmlinuz', cmdline: 'console=ttyS0', serial: 115200 },
      },
      { filesystem: 'ext4', size: 'auto', label: 'rootfs', uuid: '11111111-2222-4333-8444-555555555555', inodeRatio: 8192, tree: rootTree() },
      { filesystem: 'swap', size: 8 * MiB, label: 'swp' },
      { filesystem: 'raw', size: MiB, content: new BytesContent(new Uint8Array(5000).fill(1)) },
      { filesystem: 'swap', size: 4 * MiB, label: 'logical6', uuid: '0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b' },
    ],
  }),
  'GPT: FAT32 + ext4 + swap + raw with a type GUID, names, a sized disk and rest': () => ({
    table: 'gpt',
    size: 128 * MiB,
    seed: 'golden',
    partitions: [
      {
        filesystem: 'fat',
        size: 40 * MiB,
        fatType: 32,
        name: 'esp',
        label: 'EFI',
        uuid: 'ABCD-0123',
        tree: bootTree(),
        type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
      },
      { filesystem: 'ext4', size: 32 * MiB, name: 'root', label: 'r', tree: rootTree(), bootable: true },
      { filesystem: 'swap', size: 8 * MiB, name: 'swap' },
      { filesystem: 'raw', size: 'rest', name: 'data', content: new BytesContent(new Uint8Array(1000).fill(9)), type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' },
    ],
  }),
  'MBR: FAT12 by size, FAT16 by size with 4K clusters, a forced type byte, 64K alignment': () => ({
    table: 'mbr',
    size: 'auto',
    alignment: 64 * 1024,
    diskSignature: 0x12345678,
    partitions: [
      { filesystem: 'fat', size: 'auto', tree: bootTree() },
      { filesystem: 'fat', size: 20 * MiB, clusterSize: 4096, label: 'DATA', tree: bootTree() },
      { filesystem: 'ext4', size: 'auto', tree: rootTree(), type: 0x8e },
    ],
  }),
  'MBR: FAT root directories of more than 512 entries (at 16432 sectors they make FAT12 of what would be FAT16)': () => {
    const lfn = new FileTree();
    for (let i = 0; i < 700; i++) lfn.file(`file number ${i}.txt`, `${i}\n`);
    const short = new FileTree();
    for (let i = 0; i < 4000; i++) short.file(`F${String(i).padStart(4, '0')}.TXT`, '');
    return {
      table: 'mbr',
      size: 'auto',
      partitions: [
        { filesystem: 'fat', size: 6 * MiB, tree: lfn },
        { filesystem: 'fat', size: 'auto', tree: lfn },
        { filesystem: 'fat', size: 16432 * 512, tree: short },
      ],
    };
  },
};

/** SHA-256 of the image, and the reported result, for each layout (recorded before the refactor). */
const GOLDEN: Record<string, { image: string; result: DiskResult }> = {
  'MBR: FAT (auto, SYSLINUX, bootable) + ext4 + swap + raw + a logical swap': {
    image: 'd2f6d0e9619091d11332831bb9239e311c99f867e17d3441f1629dd3962d918f',
    result: {
      size: 23068672,
      table: 'mbr',
      id: '0xfec2a875',
      partitions: [
        { number: 1, start: 1048576, size: 2097152, filesystem: 'fat', type: '0x01', label: 'BOOT', fatType: 12, uuid: '16CE-0486' },
        { number: 2, start: 3145728, size: 4194304, filesystem: 'ext4', type: '0x83', label: 'rootfs', uuid: '11111111-2222-4333-8444-555555555555' },
        { number: 3, start: 7340032, size: 8388608, filesystem: 'swap', type: '0x82', label: 'swp', uuid: '99fa1d07-8448-42ef-ac8d-7e6043dac7ec' },
        { number: 5, start: 16777216, size: 1048576, filesystem: 'raw', type: '0x83' },
        { number: 6, start: 18874368, size: 4194304, filesystem: 'swap', type: '0x82', label: 'logical6', uuid: '0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b' },
      ],
    },
  },
  'GPT: FAT32 + ext4 + swap + raw with a type GUID, names, a sized disk and rest': {
    image: '4094024404aa21145817b401bcc01939b3a517c1ee9880e7a149f800272d9262',
    result: {
      size: 134217728,
      table: 'gpt',
      id: '798411EB-3523-4CBE-B6B6-E4C0DBE36360',
      partitions: [
        {
          number: 1,
          start: 1048576,
          size: 41943040,
          filesystem: 'fat',
          type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
          label: 'EFI',
          fatType: 32,
          uuid: 'ABCD-0123',
          guid: 'D3B76364-1EC6-4C0A-BB32-387FEC370F96',
        },
        {
          number: 2,
          start: 42991616,
          size: 33554432,
          filesystem: 'ext4',
          type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
          label: 'r',
          uuid: 'f9dbd58e-8150-5aa0-a71e-05bf2d32d4c9',
          guid: '11CC8FA3-3185-46B8-B798-6B521C356E4F',
        },
        {
          number: 3,
          start: 76546048,
          size: 8388608,
          filesystem: 'swap',
          type: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
          uuid: '5536d27b-823a-4fe7-83ae-2cbc6bf6c2e9',
          guid: '3D318477-DB3E-460E-B202-6DEE63E7C495',
        },
        {
          number: 4,
          start: 84934656,
          size: 49266176,
          filesystem: 'raw',
          type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
          guid: 'D385F56F-807A-449E-9B5F-38C271F15115',
        },
      ],
    },
  },
  'MBR: FAT12 by size, FAT16 by size with 4K clusters, a forced type byte, 64K alignment': {
    image: 'ff0f8dc8c47535af5d1b1496d50bd2f9d569386692975ac10a4d3b44dae2bea2',
    result: {
      size: 26083328,
      table: 'mbr',
      id: '0x12345678',
      partitions: [
        { number: 1, start: 65536, size: 1441792, filesystem: 'fat', type: '0x01', fatType: 12, uuid: '6A4A-F5E2' },
        { number: 2, start: 1507328, size: 20971520, filesystem: 'fat', type: '0x0e', label: 'DATA', fatType: 16, uuid: 'DF0F-07B5' },
        { number: 3, start: 22478848, size: 3604480, filesystem: 'ext4', type: '0x8e', uuid: '8fbc548d-eba5-5ac6-be2e-ef2723107b63' },
      ],
    },
  },
  'MBR: FAT root directories of more than 512 entries (at 16432 sectors they make FAT12 of what would be FAT16)': {
    image: '6b30167ff0a7f8595e3d2b1b09d503b52ca21be2c228538e659a1acd6e1d0519',
    result: {
      size: 19922944,
      table: 'mbr',
      id: '0xb5328433',
      partitions: [
        { number: 1, start: 1048576, size: 6291456, filesystem: 'fat', type: '0x01', fatType: 12, uuid: '7B95-B17D' },
        { number: 2, start: 7340032, size: 3145728, filesystem: 'fat', type: '0x01', fatType: 12, uuid: '96FB-D6CB' },
        { number: 3, start: 10485760, size: 8413184, filesystem: 'fat', type: '0x01', fatType: 12, uuid: '6FA9-DD57' },
      ],
    },
  },
  yaml: {
    image: '2f02d5a9629096db907ca4f4d291aff6e8f724980c65968b8593415f9e6209a5',
    result: {
      size: 31457280,
      table: 'mbr',
      id: '0x0badcafe',
      partitions: [
        { number: 1, start: 1048576, size: 10485760, filesystem: 'fat', type: '0x0e', label: 'BOOT', fatType: 16, uuid: '1234-ABCD' },
        { number: 2, start: 11534336, size: 16777216, filesystem: 'ext4', type: '0x83', label: 'root', uuid: '1ba45f92-ef99-5bda-8844-a5b1f37e9449' },
        { number: 3, start: 28311552, size: 2097152, filesystem: 'raw', type: '0x83' },
        { number: 4, start: 30408704, size: 1048576, filesystem: 'swap', type: '0x82', uuid: '5cd1fa6d-63c2-4190-8407-aca938881a14' },
      ],
    },
  },
};

for (const [name, layout] of Object.entries(layouts)) {
  test(`golden: ${name}`, async () => {
    const { image, result } = await fingerprint(layout());
    const want = GOLDEN[name];
    assert.ok(want, `no golden hash for this layout: ${image} ${JSON.stringify(result)}`);
    assert.is(image, want.image, 'image bytes changed');
    assert.equal(result, want.result, 'result changed');
  });
}

test('golden: a YAML layout with host directory, tar archive, files and a raw image (nodeDiskHost)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-golden-'));
  try {
    const boot = join(dir, 'boot');
    mkdirSync(join(boot, 'sub'), { recursive: true });
    writeFileSync(join(boot, 'vmlinuz'), Buffer.alloc(100_000, 3));
    writeFileSync(join(boot, 'sub', 'cfg.txt'), 'x=1\n');
    writeFileSync(join(dir, 'extra.bin'), Buffer.alloc(4000, 2));
    writeFileSync(join(dir, 'raw.img'), Buffer.concat([Buffer.from('RAWDATA!'), Buffer.alloc(3000, 1)]));
    mkdirSync(join(dir, 'root', 'etc'), { recursive: true });
    writeFileSync(join(dir, 'root', 'etc', 'hostname'), 'golden\n');
    for (const p of ['boot/vmlinuz', 'boot/sub/cfg.txt', 'extra.bin', 'raw.img', 'root/etc/hostname']) chmodSync(join(dir, p), 0o644);
    for (const p of ['boot/sub', 'boot', 'root/etc', 'root']) chmodSync(join(dir, p), 0o755);
    for (const p of ['boot/vmlinuz', 'boot/sub/cfg.txt', 'extra.bin', 'raw.img', 'root/etc/hostname', 'boot/sub', 'boot', 'root/etc', 'root'])
      utimesSync(join(dir, p), 1_600_000_000, 1_600_000_000);
    run('tar', [
      '--sort=name',
      '--mtime=@1600000000',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--format=gnu',
      '-cf',
      join(dir, 'root.tar'),
      '-C',
      join(dir, 'root'),
      '.',
    ]);
    const yaml = `
table: mbr
disk-signature: 0x0badcafe
partitions:
  - { filesystem: fat, size: auto, label: BOOT, uuid: 1234-abcd, bootable: true, source: boot, files: { /extra/blob.bin: extra.bin }, fat: 16 }
  - { filesystem: ext4, size: 16M, label: root, source: root.tar, root-owner: true, inode-ratio: 4096 }
  - { filesystem: raw, size: auto, source: raw.img, type: linux }
  - { filesystem: swap, size: 1M, type: swap }
`;
    const { image, result } = await fingerprint(parseLayout(yaml, join(dir, 'disk.yaml')), true);
    const want = GOLDEN.yaml;
    assert.ok(want, `no golden hash for the YAML layout: ${image} ${JSON.stringify(result)}`);
    assert.is(image, want.image, 'image bytes changed');
    assert.equal(result, want.result, 'result changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
