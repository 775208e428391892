import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource, FileTree, MemoryTarget, readFat, writeFat } from '../../../src/index.js';
import { BootSector, Fat32Bpb } from '../../../src/fs/fat/boot-sector.js';
import { computeGeometry, type FatGeometry } from '../../../src/fs/fat/geometry.js';
import { ShortNameAllocator, decodeShortName, encodeLfnEntries, exactShortName, lfnChecksum, packedToBytes } from '../../../src/fs/fat/names.js';
import { decodeFatTime, encodeFatTime } from '../../../src/fs/fat/time.js';
import { run } from '../../helpers/tools.js';
import { MTOOLS_ENV } from './fat-helpers.js';
import { throwawayDir } from '../../helpers/temp.js';

const work = throwawayDir('kiln-fat-geo-');

test('FAT type, cluster size and layout match mkfs.fat for sizes from 1 MiB to 1 GiB', () => {
  const image = join(work, 'mkfs.img');
  const cases: [number, string[]][] = [];
  for (const mib of [1, 2, 3, 5, 8, 16, 33, 64, 100, 128, 200, 256, 300, 511, 512, 700, 1024]) cases.push([mib, []]);
  for (const mib of [40, 100, 300, 1024]) cases.push([mib, ['-F', '32']]);
  for (const mib of [20, 100]) cases.push([mib, ['-F', '16']]);
  // Like mkfs.fat, no FAT16 below 4085 clusters.
  assert.ok('error' in computeGeometry(3 * 2048, { fatType: 16 }));
  for (const mib of [1, 4, 16]) cases.push([mib, ['-F', '12']]);
  for (const [mib, args] of [
    [64, ['-s', '8']],
    [16, ['-s', '1']],
  ] as [number, string[]][])
    cases.push([mib, args]);
  for (const [mib, args] of cases) {
    rmSync(image, { force: true });
    writeFileSync(image, '');
    run('truncate', ['-s', `${mib}M`, image]);
    run('mkfs.fat', ['--invariant', ...args, image]);
    const fs = new FileSource(image);
    const sector = fs.read(0, 512);
    fs.close();
    const bs = BootSector.decode(sector);
    const total = bs.totalSectors16 || bs.totalSectors32;
    const forced = args[0] === '-F' ? (Number(args[1]) as 12 | 16 | 32) : undefined;
    const spc = args[0] === '-s' ? Number(args[1]) : undefined;
    // mkfs.fat chooses the type from the file size but may round the sector count down to
    // whole cylinders; kiln uses every sector, so compare the layout at mkfs.fat's count.
    const bySize = computeGeometry(mib * 2048, { ...(forced ? { fatType: forced } : {}), ...(spc ? { sectorsPerCluster: spc } : {}) }) as FatGeometry;
    const g = computeGeometry(total, { fatType: bySize.fatType, ...(spc ? { sectorsPerCluster: spc } : {}) }) as FatGeometry;
    if (total === mib * 2048) assert.equal(g, bySize);
    const what = `${mib} MiB ${args.join(' ')}`;
    assert.ok(!('error' in g), what);
    const fatSectors = bs.fatSectors16 || Fat32Bpb.decode(sector).fatSectors32;
    assert.equal(
      { spc: g.sectorsPerCluster, reserved: g.reservedSectors, fat: g.fatSectors, root: g.rootEntries },
      { spc: bs.sectorsPerCluster, reserved: bs.reservedSectors, fat: fatSectors, root: bs.rootEntries },
      what,
    );
    const fsType = String.fromCharCode(...sector.subarray(g.fatType === 32 ? 0x52 : 0x36, (g.fatType === 32 ? 0x52 : 0x36) + 5));
    assert.is(fsType, `FAT${g.fatType}`, what);
  }
});

test('8.3 names: exact names keep their case in the NT bits; others get ~N aliases', () => {
  assert.equal(exactShortName('readme.txt'), { packed: 'README  TXT', ntCase: 0x18 });
  assert.equal(exactShortName('README.txt'), { packed: 'README  TXT', ntCase: 0x10 });
  assert.equal(exactShortName('readme.TXT'), { packed: 'README  TXT', ntCase: 0x08 });
  assert.equal(exactShortName('Makefile'), undefined);
  assert.equal(exactShortName('a.b.c'), undefined);
  assert.equal(exactShortName('toolongname.txt'), undefined);
  assert.equal(exactShortName('ABC.tXt'), undefined);
  assert.equal(exactShortName('a1!.b'), { packed: 'A1!     B  ', ntCase: 0x18 });
  assert.equal(exactShortName('é.txt'), undefined);
  const a = new ShortNameAllocator();
  a.reserve('LONGFI~1TXT');
  assert.is(a.alias('Makefile'), 'MAKEFILE   ');
  assert.is(a.alias('longfilename.txt'), 'LONGFI~2TXT');
  assert.is(a.alias('longfilename2.txt'), 'LONGFI~3TXT');
  assert.is(a.alias('.bashrc'), 'BASHRC~1   ');
  assert.is(a.alias('a+b=c.tar.gz'), 'A_B_CT~1GZ ');
  assert.is(a.alias('文字.txt'), '__~1    TXT');
  // A character outside the BMP (a surrogate pair) is one '_'.
  assert.is(a.alias('\u{1F600}a.txt'), '_A~1    TXT');
  // Names alike in their first six characters share aliases: each takes the next free one
  // (a reserved one skipped), the tail growing into the basis after ~9; thousands stay fast.
  const alike = new ShortNameAllocator();
  alike.reserve('ABCDEF~3TXT');
  const names = Array.from({ length: 5000 }, (_, i) => `abcdef${i.toString(36).padStart(3, '0')}long.txt`);
  const started = performance.now();
  const aliases = names.map((n) => alike.alias(n));
  assert.equal(aliases.slice(0, 10), [
    'ABCDEF~1TXT',
    'ABCDEF~2TXT',
    'ABCDEF~4TXT',
    'ABCDEF~5TXT',
    'ABCDEF~6TXT',
    'ABCDEF~7TXT',
    'ABCDEF~8TXT',
    'ABCDEF~9TXT',
    'ABCDE~10TXT',
    'ABCDE~11TXT',
  ]);
  assert.is(aliases.at(-1), 'ABC~5001TXT');
  assert.is(new Set(aliases).size, names.length);
  assert.ok(performance.now() - started < 2000, `5000 alike names took ${(performance.now() - started).toFixed(0)} ms`);
  for (let i = 0; i < 20; i++) a.alias(`long name ${i}.txt`);
  assert.is(a.alias('long name x.txt'), 'LONGNA~21TXT'.slice(0, 0) + 'LONGN~21TXT');
  assert.is(decodeShortName(packedToBytes('README  TXT'), 0x18), 'readme.txt');
});

test('long-name entries: checksum, order and padding as VFAT stores them', () => {
  const short = packedToBytes('ABCDEF~1TXT');
  const sum = lfnChecksum(short);
  const lfn = new Uint8Array(64);
  assert.is(encodeLfnEntries('abcdefghijklmno.txt', sum, lfn, 0), 64);
  // Written at an offset, the same bytes.
  const placed = new Uint8Array(96);
  assert.is(encodeLfnEntries('abcdefghijklmno.txt', sum, placed, 32), 96);
  assert.equal(placed.subarray(32), lfn);
  assert.is(lfn[0], 0x42);
  assert.is(lfn[32], 0x01);
  assert.is(lfn[11], 0x0f);
  assert.is(lfn[13], sum);
  // The second piece holds 6 characters, a NUL terminator and 0xFFFF padding.
  assert.equal([...lfn.subarray(1, 3)], [0x6e, 0]);
});

test('timestamps: UTC, two-second resolution, clamped to 1980–2107', () => {
  const t = encodeFatTime(1_700_000_001);
  assert.equal(decodeFatTime(t.date, t.time), { sec: 1_700_000_000, nsec: 0 });
  assert.equal(decodeFatTime(t.date, t.time, t.fine), { sec: 1_700_000_001, nsec: 0 });
  const tree = new FileTree();
  tree.file('old', 'x', { mtime: { sec: 0, nsec: 0 } });
  tree.file('new', 'x', { mtime: { sec: 9e9, nsec: 0 } });
  tree.file('sde', 'x', { mtime: { sec: 1_700_000_000, nsec: 0 } });
  const m = new MemoryTarget(1 << 20);
  writeFat(tree, m, { sourceDateEpoch: 1_600_000_000 });
  const r = readFat(m);
  assert.is(r.stat('old').mtime.sec, 315532800);
  assert.is(r.stat('new').mtime.sec, 1_600_000_000);
  assert.is(r.stat('sde').mtime.sec, 1_600_000_000);
  const m2 = new MemoryTarget(1 << 20);
  writeFat(tree, m2);
  assert.is(readFat(m2).stat('new').mtime.sec, 4354819198);
});

test('the reader reads what mkfs.fat and mcopy wrote (FAT12, FAT16, FAT32)', () => {
  const src = join(work, 'src');
  mkdirSync(join(src, 'Sub Dir'), { recursive: true });
  writeFileSync(join(src, 'Sub Dir', 'A file with a long name.txt'), 'long');
  writeFileSync(join(src, 'short.TXT'), 'short');
  writeFileSync(join(src, 'big.bin'), Buffer.alloc(100_000, 7));
  for (const [type, mib] of [
    [12, 2],
    [16, 20],
    [32, 40],
  ] as const) {
    const image = join(work, `peer${type}.img`);
    rmSync(image, { force: true });
    writeFileSync(image, '');
    run('truncate', ['-s', `${mib}M`, image]);
    run('mkfs.fat', ['--invariant', '-F', String(type), '-n', 'PEER', image]);
    run('mcopy', ['-s', '-i', image, join(src, 'Sub Dir'), join(src, 'short.TXT'), join(src, 'big.bin'), '::'], { env: MTOOLS_ENV });
    const source = new FileSource(image);
    const r = readFat(source);
    assert.is(r.volume.fatType, type);
    assert.is(r.label, 'PEER');
    assert.equal(
      r
        .list('')
        .map((e) => e.name)
        .sort(),
      ['Sub Dir', 'big.bin', 'short.TXT'],
    );
    assert.is(new TextDecoder().decode(r.readFile('Sub Dir/A file with a long name.txt')), 'long');
    assert.is(new TextDecoder().decode(r.readFile('short.TXT')), 'short');
    assert.ok(Buffer.from(r.readFile('big.bin')).equals(Buffer.alloc(100_000, 7)));
    source.close();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
