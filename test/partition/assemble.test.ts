import { test } from 'uvu';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BytesContent, FileSource, FileTree, readExt4, readFat, SubSource } from '../../src/index.js';
import { assembleDiskToMemory } from '../../src/partition/assemble.js';
import { assembleDisk, nodeDiskHost } from '../../src/partition/disk-file.js';
import type { DiskLayout } from '../../src/partition/disk-layout.js';
import { parseLayout, readLayoutFile } from '../../src/partition/layout.js';
import { decodeMbr } from '../../src/partition/mbr.js';
import { readSwap } from '../../src/fs/swap.js';
import { syslinuxBinariesDir } from '../helpers/syslinux-binaries.js';
import { propertyRuns, run } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-assemble-'));
const repo = new URL('../..', import.meta.url).pathname;
mkdirSync(join(dir, 'boot'));
writeFileSync(join(dir, 'boot', 'vmlinuz'), Buffer.alloc(300_000, 7));
writeFileSync(join(dir, 'boot', 'README.TXT'), 'boot partition\n');
mkdirSync(join(dir, 'root', 'etc'), { recursive: true });
writeFileSync(join(dir, 'root', 'etc', 'hostname'), 'kiln\n');
run('tar', ['--owner=0', '--group=0', '-cf', join(dir, 'root.tar'), '-C', join(dir, 'root'), '.']);
writeFileSync(join(dir, 'blob.bin'), Buffer.concat([Buffer.from('RAWDATA!'), Buffer.alloc(5000, 1)]));

interface SfdiskJson {
  partitiontable: {
    label: string;
    id: string;
    partitions: { node: string; start: number; size: number; type: string; uuid?: string; name?: string; bootable?: boolean }[];
  };
}

function blkid(disk: string, start: number, size: number): Record<string, string> {
  const out = run('blkid', ['-p', '-o', 'export', '-O', String(start * 512), '-S', String(size * 512), disk]).stdout;
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

/** Copies one partition out (for fsck tools that take no offset). */
function extract(disk: string, start: number, size: number, out: string): string {
  const src = new FileSource(disk);
  writeFileSync(out, new SubSource(src, start * 512, size * 512).read(0, size * 512));
  src.close();
  return out;
}

const mbrYaml = (syslinux: string) => `
table: mbr
disk-signature: 0x0badcafe
partitions:
  - filesystem: fat
    fat: 32
    size: auto
    label: BOOT
    uuid: ABCD-0123
    bootable: true
    source: boot
    files:
      /extra/blob.bin: blob.bin
    syslinux:
      binaries: ${syslinux}
      kernel: /vmlinuz
      cmdline: console=ttyS0
      serial: 115200
  - filesystem: ext4
    size: auto
    label: rootfs
    uuid: 11111111-2222-4333-8444-555555555555
    source: root.tar
  - filesystem: swap
    size: 8M
    label: swp
  - filesystem: raw
    size: 1M
    source: blob.bin
  - filesystem: swap
    size: 4M
    label: logical6
`;

test('MBR disk with five partitions: sfdisk, blkid, fsck.fat, e2fsck and our readers agree with the layout', async () => {
  const layoutPath = join(dir, 'mbr.yaml');
  writeFileSync(layoutPath, mbrYaml(syslinuxBinariesDir()));
  const disk = join(dir, 'mbr.img');
  const result = await assembleDisk(readLayoutFile(layoutPath), disk, { sourceDateEpoch: 1_700_000_000 });
  const t = JSON.parse(run('sfdisk', ['--json', disk]).stdout) as SfdiskJson;
  assert.is(t.partitiontable.id, '0x0badcafe');
  const ps = t.partitiontable.partitions;
  assert.equal(
    ps.map((p) => p.type),
    ['c', '83', '82', '5', '83', '82'],
  );
  assert.ok(ps[0]!.bootable && !ps.slice(1).some((p) => p.bootable));
  assert.ok(
    ps.every((p) => p.type === '5' || p.start % 2048 === 0),
    'data partitions are 1 MiB-aligned',
  );
  assert.equal(
    result.partitions.map((p) => p.number),
    [1, 2, 3, 5, 6],
  );
  const [fat, ext4, swap, , raw, logical] = ps;
  const b1 = blkid(disk, fat!.start, fat!.size);
  assert.equal([b1.TYPE, b1.LABEL, b1.UUID, b1.VERSION], ['vfat', 'BOOT', 'ABCD-0123', 'FAT32']);
  const b2 = blkid(disk, ext4!.start, ext4!.size);
  assert.equal([b2.TYPE, b2.LABEL, b2.UUID], ['ext4', 'rootfs', '11111111-2222-4333-8444-555555555555']);
  const b3 = blkid(disk, swap!.start, swap!.size);
  assert.equal([b3.TYPE, b3.LABEL], ['swap', 'swp']);
  const b6 = blkid(disk, logical!.start, logical!.size);
  assert.equal([b6.TYPE, b6.LABEL], ['swap', 'logical6']);
  // fsck tools on copies of the partitions
  run('fsck.fat', ['-n', extract(disk, fat!.start, fat!.size, join(dir, 'p1.img'))]);
  run('e2fsck', ['-fn', extract(disk, ext4!.start, ext4!.size, join(dir, 'p2.img'))]);
  const mdir = run('mdir', ['-a', '-i', join(dir, 'p1.img'), '-/', '::'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } }).stdout;
  assert.match(mdir, /vmlinuz/i);
  assert.match(mdir, /syslinux\s*\.?cfg/i);
  assert.match(mdir, /ldlinux\s*\.?sys/i);
  // our readers, through the disk
  const src = new FileSource(disk);
  try {
    const mbr = decodeMbr(src);
    assert.equal(
      mbr.partitions.map((p) => [p.number, p.start, p.sectors]),
      [fat, ext4, swap, raw, logical].map((p, i) => [[1, 2, 3, 5, 6][i], p!.start, p!.size]),
    );
    const fatFs = readFat(new SubSource(src, fat!.start * 512, fat!.size * 512));
    assert.is(
      new TextDecoder().decode(fatFs.readFile('/syslinux/syslinux.cfg')),
      'SERIAL 0 115200\nDEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL /vmlinuz\n  APPEND console=ttyS0\n',
    );
    assert.is(fatFs.readFile('/extra/blob.bin').length, 5008);
    const extFs = readExt4(new SubSource(src, ext4!.start * 512, ext4!.size * 512));
    assert.is(new TextDecoder().decode(extFs.readFile('/etc/hostname')), 'kiln\n');
    assert.is(Buffer.from(src.read(raw!.start * 512, 8)).toString(), 'RAWDATA!');
    assert.is(readSwap(new SubSource(src, swap!.start * 512, swap!.size * 512)).label, 'swp');
    // boot code is SYSLINUX's mbr.bin
    assert.equal(src.read(0, 440), new Uint8Array(readFileSync(join(syslinuxBinariesDir(), 'mbr.bin'))).subarray(0, 440));
  } finally {
    src.close();
  }
  const st = statSync(disk);
  assert.ok(st.blocks * 512 < st.size, 'the image is sparse');
});

test('GPT disk: types, names, unique GUIDs from the seed; sfdisk and blkid read them back; deterministic', async () => {
  const yaml = `
table: gpt
seed: test-seed
size: 64M
partitions:
  - { filesystem: ext4, size: 24M, name: root, label: r, source: root }
  - { filesystem: swap, size: 8M, name: swap, uuid: 0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b }
  - { filesystem: fat, size: rest, name: data, label: DATA, source: boot }
`;
  const layout = parseLayout(yaml, join(dir, 'gpt.yaml'));
  const disk = join(dir, 'gpt.img');
  const r = await assembleDisk(layout, disk);
  const t = JSON.parse(run('sfdisk', ['--json', disk]).stdout) as SfdiskJson;
  assert.is(t.partitiontable.label, 'gpt');
  const ps = t.partitiontable.partitions;
  assert.equal(
    ps.map((p) => [p.type, p.name]),
    [
      ['0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'root'],
      ['0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', 'swap'],
      ['EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', 'data'],
    ],
  );
  assert.equal(
    ps.map((p) => p.uuid),
    r.partitions.map((p) => p.guid),
  );
  assert.is(new Set(ps.map((p) => p.uuid)).size, 3);
  assert.is(ps[2]!.start + ps[2]!.size, 64 * 2048 - 33, "'rest' runs to the last usable sector");
  assert.is(blkid(disk, ps[0]!.start, ps[0]!.size).TYPE, 'ext4');
  assert.is(blkid(disk, ps[1]!.start, ps[1]!.size).UUID, '0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b');
  assert.is(blkid(disk, ps[2]!.start, ps[2]!.size).LABEL, 'DATA');
  const whole = run('blkid', ['-p', '-o', 'export', disk]).stdout;
  assert.match(whole, /PTTYPE=gpt/);
  // same layout, same bytes; a different seed changes the GUIDs
  const a = await assembleDiskToMemory(layout, { host: nodeDiskHost });
  const b = await assembleDiskToMemory(parseLayout(yaml, join(dir, 'gpt.yaml')), { host: nodeDiskHost });
  assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)), 'two assemblies differ');
  assert.ok(Buffer.from(a.bytes).equals(readFileSync(disk)), 'the file and memory assemblies differ');
  const c = await assembleDiskToMemory(parseLayout(yaml.replace('test-seed', 'other'), join(dir, 'gpt.yaml')), { host: nodeDiskHost });
  assert.is.not(c.result.partitions[0]!.guid, a.result.partitions[0]!.guid);
});

test('property: random layouts (mbr/gpt, 1-7 partitions) land where sfdisk and blkid find them, aligned and disjoint', async () => {
  const part = fc.record({
    fs: fc.constantFrom('swap', 'raw', 'ext4', 'fat') as fc.Arbitrary<'swap' | 'raw' | 'ext4' | 'fat'>,
    mib: fc.integer({ min: 1, max: 6 }),
    auto: fc.boolean(),
    label: fc.stringMatching(/^[A-Z0-9]{1,11}$/),
    data: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('mbr', 'gpt') as fc.Arbitrary<'mbr' | 'gpt'>,
      fc.array(part, { minLength: 1, maxLength: 7 }),
      fc.integer({ min: 0, max: 3 }),
      async (table, parts, alignPow) => {
        const alignment = (1024 * 1024) >> (alignPow * 2); // 1 MiB, 256 KiB, 64 KiB, 16 KiB
        const layout: DiskLayout = {
          table,
          size: 'auto',
          alignment,
          partitions: parts.map((p, i) => {
            const tree = new FileTree();
            tree.file('data.bin', p.data);
            if (p.fs === 'raw') return { filesystem: 'raw', size: p.mib * 1024 * 1024, content: new BytesContent(p.data), name: `raw${i}` };
            if (p.fs === 'swap') return { filesystem: 'swap', size: p.mib * 1024 * 1024, label: p.label };
            return { filesystem: p.fs, size: p.auto ? 'auto' : 40 * 1024 * 1024, label: p.label, tree };
          }),
        };
        const disk = join(dir, 'prop.img');
        const result = await assembleDisk(layout, disk);
        const t = JSON.parse(run('sfdisk', ['--json', disk]).stdout) as SfdiskJson;
        const data = t.partitiontable.partitions.filter((p) => p.type !== '5');
        assert.equal(
          data.map((p) => [p.start * 512, p.size * 512]),
          result.partitions.map((p) => [p.start, p.size]),
        );
        const sorted = [...result.partitions].sort((a, b) => a.start - b.start);
        sorted.forEach((p, i) => {
          assert.is(p.start % alignment, 0, 'aligned start');
          if (i > 0) assert.ok(p.start >= sorted[i - 1]!.start + sorted[i - 1]!.size, 'disjoint');
        });
        assert.ok(result.size >= sorted[sorted.length - 1]!.start + sorted[sorted.length - 1]!.size);
        const src = new FileSource(disk);
        try {
          result.partitions.forEach((r, i) => {
            const p = parts[i]!;
            if (p.fs === 'raw') {
              assert.equal(src.read(r.start, p.data.length), p.data);
              return;
            }
            const b = blkid(disk, r.start / 512, r.size / 512);
            assert.is(b.TYPE, p.fs === 'fat' ? 'vfat' : p.fs);
            assert.is(b.LABEL, p.label);
            assert.is(b.UUID, r.uuid);
            if (p.fs === 'ext4') assert.equal(readExt4(new SubSource(src, r.start, r.size)).readFile('/data.bin'), p.data);
            if (p.fs === 'fat') assert.equal(readFat(new SubSource(src, r.start, r.size)).readFile('/data.bin'), p.data);
          });
        } finally {
          src.close();
        }
      },
    ),
    { numRuns: propertyRuns(15), includeErrorInReport: true },
  );
});

test('a layout built in code with a FileTree; the tree is not changed', async () => {
  const tree = new FileTree();
  tree.file('hello', 'world');
  const layout: DiskLayout = {
    table: 'mbr',
    size: 'auto',
    alignment: 1024 * 1024,
    partitions: [{ filesystem: 'ext4', size: 'auto', tree, files: { '/x': join(dir, 'blob.bin') } }],
  };
  const { bytes, result } = await assembleDiskToMemory(layout, { host: nodeDiskHost });
  assert.is(bytes.length, result.size);
  assert.not.ok(tree.has('x'));
  assert.is(result.partitions[0]!.type, '0x83');
});

test('kiln mkimage: errors with file:line:col and no output left behind', () => {
  const layoutPath = join(dir, 'bad.yaml');
  writeFileSync(layoutPath, 'partitions:\n  - filesystem: ext4\n    size: 64K\n    source: root\n');
  const out = join(dir, 'bad.img');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'mkimage', layoutPath, out], { encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.match(r.stderr, `${layoutPath}:3:11: partition 1 (ext4): the tree needs an ext4 filesystem of at least`);
  assert.not.ok(existsSync(out));
  assert.equal(
    readdirSync(dir).filter((n) => n.includes('.tmp')),
    [],
  );
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'partitions:\n  - {filesystem: swap, size: 1M, label: s}\n');
  const o = execFileSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'mkimage', good, join(dir, 'good.img')], { encoding: 'utf8' });
  assert.match(o, /1: swap/);
  assert.is(statSync(join(dir, 'good.img')).size, 2 * 1024 * 1024);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
