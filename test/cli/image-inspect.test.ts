import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool, run } from '../helpers/tools.js';
import type { DiskView } from '../../src/cli/disk-view.js';
import { inspectImage } from '../../src/cli/inspect.js';

/**
 * `kiln image inspect` (issue 11): on disks made by kiln mkimage and by sfdisk + mkfs.fat /
 * mkfs.ext4 / mkswap written into the partitions, the --json facts equal sfdisk --json (start,
 * size, type, disk id), sfdisk -F (gaps) and blkid -p at the partition's offset (TYPE, LABEL,
 * UUID, FAT VERSION); ext4 free space equals dumpe2fs's. Plain output has no escape codes on a
 * pipe; on a terminal the to-scale bar appears, coloured unless NO_COLOR. Fixtures are built
 * once; the kiln spawns are few (each costs seconds on a loaded machine).
 */

const repo = new URL('../../', import.meta.url).pathname;
const MAIN = join(repo, 'src/cli/main.ts');
const TSX = join(repo, 'node_modules/tsx/dist/esm/index.mjs');
const dir = mkdtempSync(join(tmpdir(), 'kiln-inspect-'));
for (const t of ['sfdisk', 'blkid', 'mkfs.fat', 'mkfs.ext4', 'mkswap', 'dumpe2fs']) requireTool(t);

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function kiln(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const shq = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

function kilnTty(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const cmd = [process.execPath, '--import', TSX, MAIN, ...args].map(shq).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: dir, encoding: 'utf8', env: { ...process.env, COLUMNS: '100', ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// The JSON shape is the view the CLI documents (README: `kiln image inspect --json`).
type View = DiskView;

function inspect(image: string): View {
  const r = kiln(['image', 'inspect', '--json', image]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as View;
}

// --- fixtures ---

const src = join(dir, 'src');
mkdirSync(join(src, 'etc'), { recursive: true });
writeFileSync(join(src, 'etc', 'hostname'), 'kiln\n');
// a name that is not UTF-8 and a symlink, for image ls --json (ext4 only: FAT refuses such names)
writeFileSync(Buffer.concat([Buffer.from(`${src}/name-`), Buffer.from([0xff])]), 'bytes\n');
symlinkSync('etc/hostname', join(src, 'link'));
const boot = join(dir, 'boot');
mkdirSync(boot);
writeFileSync(join(boot, 'vmlinuz'), 'kernel\n');

const layout = (table: string): string =>
  `table: ${table}\npartitions:\n  - filesystem: fat\n    size: 34M\n    label: KILNBOOT123\n    source: ${boot}\n${table === 'mbr' ? '    bootable: true\n' : '    type: esp\n    name: EFI system\n'}  - filesystem: ext4\n    size: 20M\n    label: root\n    source: ${src}\n  - filesystem: swap\n    size: 8M\n    label: sw\n`;
writeFileSync(join(dir, 'mbr.yaml'), layout('mbr'));
writeFileSync(join(dir, 'gpt.yaml'), layout('gpt'));
for (const t of ['mbr', 'gpt']) {
  const r = kiln(['mkimage', '-q', `${t}.yaml`, `kiln-${t}.img`]);
  assert.ok(r.status === 0, `mkimage ${t}: ${r.stderr}`);
}

// The same kinds of disks made by the standard tools: each filesystem in its own file, written
// into the partition with dd. The GPT disk has a gap between partitions 1 and 2 and at its end;
// the MBR disk has logical partitions in an extended one.
const script = `set -e
cd ${shq(dir)}
truncate -s 34M fat32.img; mkfs.fat -F 32 -s 1 -n SDFAT32 -i 1234ABCD fat32.img >/dev/null
truncate -s 4M fat12.img; mkfs.fat -F 12 -i 0BADF00D fat12.img >/dev/null
mkfs.ext4 -q -F -L rootfs -U 0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b -d src ext4.img 16M
truncate -s 8M swap.img; mkswap -q -L swp -U 11111111-2222-4333-8444-555555555555 swap.img >/dev/null
truncate -s 80M sd-gpt.img
printf 'label: gpt\\nlabel-id: 01234567-89AB-CDEF-0123-456789ABCDEF\\nstart=2048, size=69632, type=U, name="EFI system"\\nstart=88064, size=32768, type=L, name=rootfs\\nstart=120832, size=16384, type=S\\n' | sfdisk -q sd-gpt.img
dd if=fat32.img of=sd-gpt.img bs=512 seek=2048 conv=notrunc status=none
dd if=ext4.img of=sd-gpt.img bs=512 seek=88064 conv=notrunc status=none
dd if=swap.img of=sd-gpt.img bs=512 seek=120832 conv=notrunc status=none
truncate -s 48M sd-mbr.img
printf 'label: dos\\nlabel-id: 0xdeadbeef\\nstart=2048, size=8192, type=c, bootable\\nstart=12288, size=81920, type=5\\nstart=14336, size=32768, type=83\\nstart=49152, size=16384, type=82\\n' | sfdisk -q sd-mbr.img
dd if=fat12.img of=sd-mbr.img bs=512 seek=2048 conv=notrunc status=none
dd if=ext4.img of=sd-mbr.img bs=512 seek=14336 conv=notrunc status=none
dd if=swap.img of=sd-mbr.img bs=512 seek=49152 conv=notrunc status=none
yes 'not an image, only text' | head -c 8192 > notes.txt; echo 'too short' > tiny.txt
`;
run('bash', ['-c', script]);

// --- the oracles ---

interface SfdiskPart {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid?: string;
  name?: string;
  bootable?: boolean;
}

function sfdisk(image: string): { label: string; id: string; partitions: SfdiskPart[] } {
  return (JSON.parse(run('sfdisk', ['--json', join(dir, image)]).stdout) as { partitiontable: { label: string; id: string; partitions: SfdiskPart[] } })
    .partitiontable;
}

/** sfdisk -F: the free regions, as byte ranges. */
function sfdiskFree(image: string): { start: number; size: number }[] {
  const out: { start: number; size: number }[] = [];
  for (const line of run('sfdisk', ['-F', join(dir, image)]).stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s/.exec(line);
    if (m) out.push({ start: Number(m[1]) * 512, size: Number(m[3]) * 512 });
  }
  return out;
}

function blkid(image: string, offset: number, size: number): Record<string, string> {
  const r = run('blkid', ['-p', '-o', 'export', '-O', String(offset), '-S', String(size), join(dir, image)], { allowFail: true });
  const tags: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) tags[line.slice(0, i)] = line.slice(i + 1);
  }
  return tags;
}

const BLKID_TYPE: Record<string, string> = { vfat: 'fat', ext4: 'ext4', ext3: 'ext3', ext2: 'ext2', swap: 'swap' };

function compareWithOracles(image: string, view: View, table: 'mbr' | 'gpt'): void {
  const sf = sfdisk(image);
  assert.is(view.table, table);
  assert.is(sf.label, table === 'mbr' ? 'dos' : 'gpt');
  assert.is(view.size, readFileSync(join(dir, image)).length);
  if (table === 'mbr') assert.is(`0x${view.id}`, sf.id);
  else assert.is(view.id, sf.id);
  assert.equal(
    view.partitions.map((p) => p.number),
    sf.partitions.map((p) => Number(/(\d+)$/.exec(p.node)![1])),
    'the same partitions',
  );
  sf.partitions.forEach((s, i) => {
    const p = view.partitions[i]!;
    const what = `${image} partition ${p.number}`;
    assert.is(p.start, s.start * 512, `${what}: start`);
    assert.is(p.size, s.size * 512, `${what}: size`);
    if (table === 'mbr') assert.is(parseInt(p.type!, 16), parseInt(s.type, 16), `${what}: type`);
    else {
      assert.is(p.type, s.type, `${what}: type`);
      assert.is(p.partuuid, s.uuid, `${what}: partuuid`);
      assert.is(p.name, s.name ?? null, `${what}: name`);
    }
    assert.is(p.bootable, s.bootable === true, `${what}: bootable`);
    if (p.typeName === 'extended') {
      assert.is(p.filesystem, null);
      return;
    }
    const b = blkid(image, p.start, p.size);
    assert.is(p.filesystem, b.TYPE ? (BLKID_TYPE[b.TYPE] ?? b.TYPE) : null, `${what}: TYPE`);
    assert.is(p.label, b.LABEL ?? null, `${what}: LABEL`);
    assert.is(p.uuid, b.UUID ?? null, `${what}: UUID`);
    if (b.TYPE === 'vfat') assert.is(`FAT${p.fatType}`, b.VERSION, `${what}: FAT version`);
    if (p.filesystem !== 'swap') {
      assert.ok(p.used !== null && p.free !== null && p.used >= 0 && p.free > 0, `${what}: used/free`);
    }
  });
  const free = sfdiskFree(image);
  const inExtended = (g: { start: number }): boolean =>
    view.partitions.some((p) => p.typeName === 'extended' && g.start >= p.start && g.start < p.start + p.size);
  assert.equal(
    view.gaps,
    free.filter((g) => !inExtended(g)),
    `${image}: gaps as sfdisk -F lists them (outside an extended partition)`,
  );
}

const views = new Map<string, View>();
for (const image of ['kiln-mbr.img', 'kiln-gpt.img', 'sd-gpt.img', 'sd-mbr.img']) views.set(image, inspect(image));

test('a disk made by kiln mkimage (MBR): the facts equal sfdisk --json and blkid', () => {
  const v = views.get('kiln-mbr.img')!;
  compareWithOracles('kiln-mbr.img', v, 'mbr');
  assert.equal(
    v.partitions.map((p) => p.filesystem),
    ['fat', 'ext4', 'swap'],
  );
  assert.is(v.partitions[0]!.label, 'KILNBOOT123');
  assert.is(v.partitions[0]!.partuuid, `${v.id}-01`);
});

test('a disk made by kiln mkimage (GPT): the facts equal sfdisk --json and blkid', () => {
  const v = views.get('kiln-gpt.img')!;
  compareWithOracles('kiln-gpt.img', v, 'gpt');
  assert.equal(
    v.partitions.map((p) => p.typeName),
    ['esp', 'linux', 'swap'],
  );
});

test('a GPT disk made by sfdisk + mkfs.fat -F 32 / mkfs.ext4 / mkswap: the facts and the gaps equal sfdisk and blkid', () => {
  const v = views.get('sd-gpt.img')!;
  compareWithOracles('sd-gpt.img', v, 'gpt');
  assert.is(v.id, '01234567-89AB-CDEF-0123-456789ABCDEF');
  assert.is(v.partitions[0]!.fatType, 32);
  assert.is(v.partitions[0]!.uuid, '1234-ABCD');
  assert.is(v.gaps.length, 2);
  // ext4's free space as dumpe2fs reports it
  const d = run('dumpe2fs', ['-h', join(dir, 'ext4.img')], { allowFail: true }).stdout;
  const free = Number(/^Free blocks:\s+(\d+)/m.exec(d)![1]) * Number(/^Block size:\s+(\d+)/m.exec(d)![1]);
  assert.is(v.partitions[1]!.free, free);
});

test('an MBR disk made by sfdisk with logical partitions: the extended one is listed as sfdisk lists it', () => {
  const v = views.get('sd-mbr.img')!;
  compareWithOracles('sd-mbr.img', v, 'mbr');
  assert.equal(
    v.partitions.map((p) => [p.number, p.typeName, p.filesystem]),
    [
      [1, 'fat32', 'fat'],
      [2, 'extended', null],
      [5, 'linux', 'ext4'],
      [6, 'swap', 'swap'],
    ],
  );
  assert.is(v.partitions[0]!.fatType, 12);
  assert.is(v.partitions[0]!.label, null, 'mkfs.fat without -n: NO NAME is no label');
});

test('a bare filesystem image is one partition covering the file, with no table', () => {
  const v = inspect('ext4.img');
  assert.is(v.table, null);
  assert.is(v.id, null);
  assert.is(v.partitions.length, 1);
  const p = v.partitions[0]!;
  assert.equal([p.start, p.size, p.type, p.filesystem, p.label, p.uuid], [0, 16 << 20, null, 'ext4', 'rootfs', '0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b']);
});

test('plain output on a pipe: a table, no escape codes, no bar; gaps are rows', () => {
  const r = kiln(['image', 'inspect', 'sd-gpt.img']);
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stdout, /\x1b/);
  assert.not.match(r.stdout, /█|▓/);
  assert.match(r.stdout, /^sd-gpt\.img: 80 MiB .*GPT 01234567-89AB-CDEF-0123-456789ABCDEF/);
  assert.match(r.stdout, /\n1 +2048 +71679 +34 MiB +esp +fat32 +SDFAT32 +1234-ABCD /);
  assert.match(r.stdout, /\n- +71680 +88063 +8 MiB +free space/);
});

test('on a terminal the to-scale bar appears, coloured; NO_COLOR=1 draws it without colour', () => {
  const tty = kilnTty(['image', 'inspect', 'sd-gpt.img']);
  assert.is(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /\x1b\[48;5;\d+m/, 'coloured partitions');
  assert.match(tty.stdout, /\[.*·.*\]/, 'the gap drawn as ·');
  const plain = kilnTty(['image', 'inspect', 'sd-gpt.img'], { NO_COLOR: '1' });
  assert.is(plain.status, 0, plain.stdout);
  assert.not.match(plain.stdout, /\x1b/);
  assert.match(plain.stdout, /\[[█▓·0-9a-z MiB]+\]/);
});

test('errors: not an image, less than a sector, a damaged GPT, a directory → kiln: error:, exit 1', () => {
  // both GPT headers damaged (the primary and the backup)
  const bad = readFileSync(join(dir, 'sd-gpt.img'));
  bad[512 + 16] ^= 0xff;
  bad[bad.length - 512 + 16] ^= 0xff;
  writeFileSync(join(dir, 'bad-gpt.img'), bad);
  for (const [image, message] of [
    ['notes.txt', /holds no partition table and no filesystem/],
    ['tiny.txt', /is 10 bytes, smaller than one sector/],
    ['bad-gpt.img', /GPT header at sector 1 has a wrong CRC32/],
    ['src', /is a directory/],
  ] as const) {
    const r = kiln(['image', 'inspect', image]);
    assert.is(r.status, 1, `${image}: ${r.stderr}`);
    assert.match(r.stderr, /^kiln: error: /);
    assert.match(r.stderr, message);
    assert.is(r.stdout, '');
  }
});

test('a damaged filesystem or a partition past the end is a warning; the rest is shown (in-process)', () => {
  const disk = readFileSync(join(dir, 'sd-gpt.img'));
  disk[88064 * 512 + 1024 + 0x18] = 99; // ext4 s_log_block_size out of range
  writeFileSync(join(dir, 'bad-ext4.img'), disk);
  const warnings: string[] = [];
  const v = inspectImage(join(dir, 'bad-ext4.img'), (m) => warnings.push(m));
  assert.equal(
    v.partitions.map((p) => [p.filesystem, p.label]),
    [
      ['fat', 'SDFAT32'],
      ['ext4', null],
      ['swap', 'swp'],
    ],
  );
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /^partition 2: ext4 filesystem, but .*block size/);

  writeFileSync(join(dir, 'short-mbr.img'), readFileSync(join(dir, 'sd-mbr.img')).subarray(0, 30 << 20));
  warnings.length = 0;
  const t = inspectImage(join(dir, 'short-mbr.img'), (m) => warnings.push(m));
  assert.equal(
    t.partitions.map((p) => p.filesystem),
    ['fat', null, 'ext4', null],
  );
  assert.match(warnings.join('\n'), /partition 6 ends at byte 33554432, past the end of the 31457280-byte image/);
});

test('image ls --json: entries with type, mode, owner, size, mtime, target; byte names in the lossless encoding', () => {
  const r = kiln(['image', 'ls', '--json', '-R', 'sd-gpt.img:2']);
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { image: string; path: string; entries: Record<string, unknown>[] };
  assert.is(j.image, 'sd-gpt.img:2');
  const byName = new Map(j.entries.map((e) => [e.name as string, e]));
  const host = byName.get('etc/hostname')!;
  assert.equal(Object.keys(host).sort(), ['gid', 'mode', 'mtime', 'mtimeNsec', 'name', 'nlink', 'rdev', 'size', 'target', 'type', 'uid'].sort());
  assert.equal([host.type, host.size, host.target], ['file', 5, null]);
  assert.is(byName.get('etc')!.type, 'dir');
  assert.equal([byName.get('link')!.type, byName.get('link')!.target], ['symlink', 'etc/hostname']);
  // the raw byte 0xff is U+DCFF, written by JSON as the escape \udcff
  assert.ok(byName.has('name-\udcff'), [...byName.keys()].join(','));
  assert.match(r.stdout, /"name-\\udcff"/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
