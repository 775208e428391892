import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { writeSkippingZeros } from '../../../src/fs/block-target.js';
import { join } from 'node:path';
import {
  FileTree,
  KilnError,
  MemoryTarget,
  SparseFileTarget,
  installSyslinux,
  loadSyslinuxBinaries,
  readFat,
  writeFat,
  type FatType,
} from '../../../src/index.js';
import { parseFatBootSector } from '../../../src/fs/fat/boot-sector.js';
import { decodeFat } from '../../../src/fs/fat/fat-table.js';
import { generateExtents } from '../../../src/partition/syslinux/install.js';
import { ReadBackTarget } from '../../../src/partition/syslinux/read-back.js';
import { requireTool, run } from '../../helpers/tools.js';
import { syslinuxBinariesDir } from '../../helpers/syslinux-binaries.js';
import { fsckClean, MTOOLS_ENV } from '../../fs/fat/fat-helpers.js';
import { withoutControls } from '../../../scripts/qemu-console.js';
import { throwawayDir } from '../../helpers/temp.js';

const work = throwawayDir('syslinux');
const bins = loadSyslinuxBinaries(syslinuxBinariesDir());

function sampleTree(): FileTree {
  const t = new FileTree({ mtime: { sec: 1_700_000_000, nsec: 0 } });
  t.mkdir('boot', { mtime: { sec: 1_700_000_000, nsec: 0 } });
  t.file('boot/syslinux.cfg', 'SERIAL 0 115200\nPROMPT 1\nTIMEOUT 0\nSAY kiln says hello\n');
  t.file('boot/a kernel with a long name', new Uint8Array(70_000).fill(0x5a));
  t.file('README.txt', 'readme');
  return t;
}

/** Saves an in-memory image as a sparse file (zero runs stay holes). */
function writeFileSync(path: string, bytes: Uint8Array): void {
  rmSync(path, { force: true });
  const t = SparseFileTarget.create(path, bytes.length);
  writeSkippingZeros(t, 0, bytes);
  t.commit();
}

const SIZES: Record<FatType, number> = { 12: 3 << 20, 16: 24 << 20, 32: 40 << 20 };

function writeImage(path: string, type: FatType): void {
  const t = new MemoryTarget(SIZES[type]);
  writeFat(sampleTree(), t, { fatType: type, label: 'KILNBOOT', hiddenSectors: 0 });
  writeFileSync(path, t.bytes);
}

/** The 32-byte short entries of a directory, by name, with the time fields blanked (mtools uses the clock). */
function entriesOf(image: Uint8Array, dirCluster: number): Map<string, Uint8Array> {
  const vol = parseFatBootSector(image.subarray(0, 512));
  const fat = decodeFat(vol.fatType, image.subarray(vol.reservedSectors * 512, (vol.reservedSectors + vol.fatSectors) * 512), vol.clusterCount + 2);
  const out = new Map<string, Uint8Array>();
  const cb = vol.sectorsPerCluster * 512;
  for (let c = dirCluster; c >= 2 && c < vol.clusterCount + 2; c = fat[c]!) {
    const at = (vol.firstDataSector + (c - 2) * vol.sectorsPerCluster) * 512;
    for (let i = 0; i < cb; i += 32) {
      const e = image.slice(at + i, at + i + 32);
      if (e[0] === 0) return out;
      if (e[0] === 0xe5 || (e[11]! & 0x3f) === 0x0f) continue;
      for (const off of [13, 14, 15, 16, 17, 18, 19, 22, 23, 24, 25]) e[off] = 0;
      out.set(String.fromCharCode(...e.subarray(0, 11)), e);
    }
  }
  return out;
}

function hex(a: Uint8Array): string {
  return Buffer.from(a).toString('hex');
}

for (const type of [12, 16, 32] as const) {
  test(`FAT${type}: kiln's install matches syslinux --install byte for byte where it must`, () => {
    requireTool('syslinux');
    const base = join(work, `fat${type}.img`);
    const ref = join(work, `fat${type}.ref.img`);
    writeImage(base, type);
    copyFileSync(base, ref);
    run('syslinux', ['--install', '-d', '/boot', ref]);
    const target = new MemoryTarget(new Uint8Array(readFileSync(base)));
    const result = installSyslinux(target, { ...bins, directory: '/boot' });
    const ours = target.bytes;
    const theirs = new Uint8Array(readFileSync(ref));
    const vol = parseFatBootSector(ours.subarray(0, 512));

    // The same boot sector (sector 0).
    assert.is(hex(ours.subarray(0, 512)), hex(theirs.subarray(0, 512)), 'boot sector');
    // The same FATs (both copies) and, on FAT32, the same FSInfo.
    const fats = [vol.reservedSectors * 512, (vol.reservedSectors + vol.numFats * vol.fatSectors) * 512] as const;
    assert.ok(Buffer.from(ours.subarray(...fats)).equals(Buffer.from(theirs.subarray(...fats))), 'FATs');
    if (type === 32) assert.is(hex(ours.subarray(512, 1024)), hex(theirs.subarray(512, 1024)), 'FSInfo');
    // LDLINUX.SYS on the same clusters with the same (patched) bytes, and LDLINUX.C32's bytes.
    const boot = readFat(new MemoryTarget(ours)).stat('boot');
    const oursEntries = entriesOf(ours, boot.ino);
    const theirEntries = entriesOf(theirs, boot.ino);
    for (const name of ['LDLINUX SYS', 'LDLINUX C32']) {
      assert.ok(theirEntries.has(name), `syslinux created ${name}`);
      assert.is(hex(oursEntries.get(name)!), hex(theirEntries.get(name)!), `directory entry ${name} (times aside)`);
    }
    const sysFirst = result.sysSectors[0]! * 512;
    const sysLen = result.sysSectors.length * 512;
    assert.ok(Buffer.from(ours.subarray(sysFirst, sysFirst + sysLen)).equals(Buffer.from(theirs.subarray(sysFirst, sysFirst + sysLen))), 'patched ldlinux.sys');
    const readOurs = readFat(new MemoryTarget(ours));
    const readTheirs = readFat(new MemoryTarget(theirs));
    assert.ok(Buffer.from(readOurs.readFile('boot/ldlinux.c32')).equals(Buffer.from(readTheirs.readFile('boot/ldlinux.c32'))), 'ldlinux.c32');
    assert.ok(Buffer.from(readOurs.readFile('boot/ldlinux.c32')).equals(Buffer.from(bins.c32)));
    assert.is(readOurs.stat('boot/ldlinux.sys').attributes, 0x27);
    // Everything else in the volume is untouched (except the backup boot sector, which kiln refreshes).
    const image = join(work, `fat${type}.kiln.img`);
    writeFileSync(image, ours);
    assert.is(fsckClean(image), undefined);
  });
}

test('SYSLINUX creates a missing install directory and replaces a previous installation in place', () => {
  const t = new MemoryTarget(SIZES[32]);
  writeFat(sampleTree(), t, { fatType: 32 });
  installSyslinux(t, { ...bins, directory: '/boot/syslinux' });
  const first = readFat(new MemoryTarget(t.bytes.slice()));
  const free1 = first.volume.clusterCount;
  installSyslinux(t, { ...bins, directory: '/boot/syslinux' });
  const r = readFat(t);
  assert.equal(
    r
      .list('boot/syslinux')
      .map((e) => e.name)
      .sort(),
    ['ldlinux.c32', 'ldlinux.sys'],
  );
  assert.is(r.stat('boot/syslinux/ldlinux.sys').size, Math.ceil(bins.sys.length / 512) * 512 + 1024);
  assert.ok(free1 > 0);
  const image = join(work, 'reinstall.img');
  writeFileSync(image, t.bytes);
  assert.is(fsckClean(image), undefined);
  const mdir = run('mdir', ['-/', '-a', '-b', '-i', image, '::/boot/syslinux'], { env: MTOOLS_ENV });
  assert.match(mdir.stdout, /ldlinux\.sys/);
});

test('writing and installing through a ReadBackTarget gives the same image, reading back from memory within its budget', () => {
  for (const type of [12, 16, 32] as const) {
    const direct = new MemoryTarget(SIZES[type]);
    writeFat(sampleTree(), direct, { fatType: type });
    installSyslinux(direct, { ...bins, directory: '/boot/syslinux' });
    for (const [budget, fromTarget] of [
      [1 << 20, false],
      [0, true],
    ] as const) {
      const under = new MemoryTarget(SIZES[type]);
      let reads = 0;
      const counted = Object.assign(Object.create(under) as MemoryTarget, {
        read: (offset: number, length: number) => {
          reads++;
          return under.read(offset, length);
        },
      });
      const t = ReadBackTarget.over(counted, budget);
      assert.ok(t instanceof ReadBackTarget, 'a fresh target is wrapped');
      writeFat(sampleTree(), t, { fatType: type });
      installSyslinux(t, { ...bins, directory: '/boot/syslinux' });
      assert.ok(Buffer.from(under.bytes).equals(Buffer.from(direct.bytes)), `FAT${type}, budget ${budget}: same image`);
      assert.is(reads > 0, fromTarget, `FAT${type}, budget ${budget}: reads of the target`);
    }
  }
  const used = new MemoryTarget(new Uint8Array(4096));
  assert.is(ReadBackTarget.over(used, 1 << 20), used, 'a target holding bytes is not wrapped');
});

test('SYSLINUX refuses a volume without room before writing, and bad binaries', () => {
  const t = new MemoryTarget(1 << 20);
  const tree = new FileTree();
  tree.file('fill', new Uint8Array(900_000).fill(1));
  writeFat(tree, t);
  const before = t.bytes.slice();
  assert.throws(
    () => installSyslinux(t, { ...bins, directory: '/syslinux' }),
    (e: unknown) => e instanceof KilnError && /needs about/.test(e.message),
  );
  assert.ok(Buffer.from(before).equals(Buffer.from(t.bytes)), 'nothing written');
  assert.throws(() => installSyslinux(t, { ...bins, bss: new Uint8Array(512), directory: '/' }), /ldlinux\.bss/);
  assert.throws(() => installSyslinux(t, { ...bins, sys: new Uint8Array(4096), directory: '/' }), /patch area/);
});

test('sector extents merge consecutive sectors up to 127 and break at gaps', () => {
  const run200 = Array.from({ length: 200 }, (_, i) => 1000 + i);
  assert.equal(generateExtents(run200), [
    { lba: 1000, length: 127 },
    { lba: 1127, length: 73 },
  ]);
  assert.equal(generateExtents([5, 6, 9, 10, 11]), [
    { lba: 5, length: 2 },
    { lba: 9, length: 3 },
  ]);
});

test('a FAT32 superfloppy with kiln SYSLINUX boots in qemu to the SYSLINUX banner and config', async () => {
  const qemu = requireTool('qemu-system-x86_64');
  const image = join(work, 'boot.img');
  const t = new MemoryTarget(SIZES[32]);
  writeFat(sampleTree(), t, { fatType: 32 });
  installSyslinux(t, { ...bins, directory: '/boot' });
  writeFileSync(image, t.bytes);
  const output = await new Promise<string>((resolve) => {
    const child = spawn(qemu, ['-nographic', '-m', '256', '-drive', `file=${image},format=raw`, '-no-reboot', '-net', 'none'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const done = (): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(out);
    };
    const timer = setTimeout(done, 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (/kiln says hello/.test(withoutControls(out))) done();
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
  const plain = withoutControls(output);
  assert.match(plain, /SYSLINUX 6\.\d+/);
  assert.match(plain, /kiln says hello/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
