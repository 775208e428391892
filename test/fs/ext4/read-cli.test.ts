/**
 * `kiln image ls/cat` and `openImage`: whole images and partitions of MBR and GPT disk images
 * (tables made by sfdisk), long and recursive listings, streaming large files to stdout, and
 * the errors a user sees.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync, ftruncateSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage, parseImageRef } from '../../../src/index.js';
import { run } from '../../helpers/tools.js';
import { pieceBytes } from './read-helpers.js';

const root = new URL('../../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kiln-image-cli-'));
const src = join(work, 'src');
const fsImage = join(work, 'fs.img');
const mbrDisk = join(work, 'mbr.img');
const gptDisk = join(work, 'gpt.img');
const big = pieceBytes({ offset: 0, length: 3 << 20, seed: 42 });

function kiln(args: string[], shell?: string): { stdout: Buffer; stderr: string; status: number } {
  const cmd = [process.execPath, '--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args];
  const r = shell
    ? spawnSync('sh', ['-c', `${cmd.map((a) => `'${a}'`).join(' ')} ${shell}`], { cwd: root, maxBuffer: 1 << 28 })
    : spawnSync(cmd[0]!, cmd.slice(1), { cwd: root, maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr.toString('utf8'), status: r.status ?? -1 };
}

/** A disk image with the filesystem image copied into partition 2 at sector 4096. */
function makeDisk(path: string, label: 'dos' | 'gpt'): void {
  const fs = readFileSync(fsImage);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, (4096 + 2048) * 512 + fs.length);
  writeSync(fd, fs, 0, fs.length, 4096 * 512);
  closeSync(fd);
  const sectors = fs.length / 512;
  const type = label === 'dos' ? '83' : '0FC63DAF-8483-4772-8E79-3D69D8E47DE4';
  run('sfdisk', ['-q', path], {
    input: `label: ${label}\nstart=2048, size=2048, type=${label === 'dos' ? 'c' : 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7'}\nstart=4096, size=${sectors}, type=${type}\n`,
  });
}

test.before(() => {
  mkdirSync(join(src, 'etc', 'deep'), { recursive: true });
  writeFileSync(join(src, 'etc', 'hostname'), 'kiln\n');
  writeFileSync(join(src, 'etc', 'deep', 'x'), '');
  writeFileSync(join(src, 'big.bin'), big);
  symlinkSync('etc/hostname', join(src, 'link'));
  run('mknod', [join(src, 'null'), 'c', '1', '3']);
  spawnSync('chmod', ['4755', join(src, 'big.bin')]);
  spawnSync('chown', ['1000:100', join(src, 'etc', 'hostname')]);
  spawnSync('touch', ['-h', '-d', '2001-02-03 04:05:06Z', join(src, 'etc', 'hostname')]);
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', src, fsImage, '16M']);
  makeDisk(mbrDisk, 'dos');
  makeDisk(gptDisk, 'gpt');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test('IMAGE:N parsing', () => {
  assert.equal(parseImageRef('disk.img:2'), { path: 'disk.img', partition: 2 });
  assert.equal(parseImageRef('disk.img'), { path: 'disk.img' });
  assert.equal(parseImageRef('a:b'), { path: 'a:b' });
});

test('ls of the root, plain, long and recursive', () => {
  const plain = kiln(['image', 'ls', fsImage]);
  assert.is(plain.status, 0, plain.stderr);
  assert.is(plain.stdout.toString(), 'big.bin\netc\nlink\nlost+found\nnull\n', 'sorted by name');
  const long = kiln(['image', 'ls', '-l', fsImage, '/etc']).stdout.toString().split('\n');
  assert.match(long.find((l) => l.endsWith(' hostname'))!, /^-rw-r--r-- +1 +1000 +100 +5 2001-02-03 04:05:06 hostname$/);
  assert.match(long.find((l) => l.endsWith(' deep'))!, /^drwxr-xr-x +2 /);
  const rootLong = kiln(['image', 'ls', '-l', fsImage]).stdout.toString();
  assert.match(rootLong, /^-rwsr-xr-x +1 +0 +0 +3145728 .* big\.bin$/m);
  assert.match(rootLong, /^lrwxrwxrwx .* link -> etc\/hostname$/m);
  assert.match(rootLong, /^crw-r--r-- .* 1, 3 .* null$/m);
  const rec = kiln(['image', 'ls', '-R', fsImage, 'etc']).stdout.toString();
  assert.is(rec, 'deep\ndeep/x\nhostname\n');
});

test('partitions of MBR and GPT disks; a partitioned disk read whole is refused with the list', () => {
  for (const disk of [mbrDisk, gptDisk]) {
    const r = kiln(['image', 'ls', `${disk}:2`, 'etc']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.toString(), 'deep\nhostname\n');
    const whole = kiln(['image', 'ls', disk]);
    assert.is(whole.status, 1);
    assert.match(whole.stderr, /is a partitioned disk image: partitions 1 .*, 2 /);
    assert.match(whole.stderr, /hint: name one: '.*:1'/);
    const missing = kiln(['image', 'ls', `${disk}:7`]);
    assert.is(missing.status, 1);
    assert.match(missing.stderr, /has no partition 7 \(partitions: 1, 2\)/);
    // Partition 1 is empty space: no filesystem in it.
    assert.match(kiln(['image', 'ls', `${disk}:1`]).stderr, /partition 1 of .* holds no filesystem/);
  }
  const img = openImage(`${mbrDisk}:2`);
  try {
    assert.is(img.reader.kind, 'ext4');
    assert.is(img.source.size, readFileSync(fsImage).length);
    assert.is(new TextDecoder().decode(img.reader.readFile('etc/hostname')), 'kiln\n');
  } finally {
    img.close();
  }
});

test('cat streams a file to stdout, also into a pipe that closes early', () => {
  const r = kiln(['image', 'cat', `${mbrDisk}:2`, 'big.bin']);
  assert.is(r.status, 0, r.stderr);
  assert.ok(Buffer.from(big).equals(r.stdout), 'the bytes');
  const head = kiln(['image', 'cat', fsImage, '/big.bin'], '| head -c 10 >/dev/null; echo "status $?"');
  assert.is(head.stderr, '', 'no error when the reader goes away');
  assert.match(head.stdout.toString(), /status 0/);
});

test('errors: missing image, missing path, not a file, not a filesystem, a directory as image', () => {
  const cases: [string[], RegExp][] = [
    [['image', 'ls', join(work, 'nope.img')], /cannot open image/],
    [['image', 'ls', fsImage, 'etc/nothing'], /no 'etc\/nothing' in the image/],
    [['image', 'cat', fsImage, 'etc'], /'etc' in '.*' is a directory, not a regular file/],
    [['image', 'cat', fsImage, 'link'], /is a symbolic link, not a regular file/],
    [['image', 'ls', src], /is a directory, not an image/],
    [['image', 'ls', `${fsImage}:1`], /has no MBR partition table|no partition table/],
  ];
  const junk = join(work, 'junk.img');
  const fd = openSync(junk, 'w');
  ftruncateSync(fd, 1 << 20);
  closeSync(fd);
  cases.push([['image', 'ls', junk], /holds no filesystem kiln can read/]);
  for (const [args, re] of cases) {
    const r = kiln(args);
    assert.is(r.status, 1, `${args.join(' ')}: exit status`);
    assert.match(r.stderr, /^kiln: error: /, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('FAT images are recognised and read through the same command', () => {
  const fat = join(work, 'fat.img');
  const fd = openSync(fat, 'w');
  ftruncateSync(fd, 8 << 20);
  closeSync(fd);
  run('mkfs.fat', [fat]);
  run('mcopy', ['-i', fat, join(src, 'etc', 'hostname'), '::HOSTNAME']);
  const r = kiln(['image', 'cat', fat, 'HOSTNAME']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.toString(), 'kiln\n');
  // The boot sector is what told them apart.
  const b = new Uint8Array(512);
  const f = openSync(fat, 'r');
  readSync(f, b, 0, 512, 0);
  closeSync(f);
  assert.is(String.fromCharCode(...b.subarray(54, 57)), 'FAT');
});

test.run();
