import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kiln, mountTmpfs, requireRoot, umount, writeNoise } from './helpers.js';

/**
 * A full disk: every writer command, run into an 8 MiB tmpfs with a larger image, exits 1 with
 * `kiln: error:` saying the disk is full, and leaves neither the output nor a temp file.
 */

const work = mkdtempSync(join(tmpdir(), 'kiln-enospc-'));
chmodSync(work, 0o755);
const src = join(work, 'src');
const full = join(work, 'full');
mkdirSync(src);
mkdirSync(full);
writeNoise(join(src, 'a.bin'), 20);
writeNoise(join(src, 'b.bin'), 12);
writeFileSync(join(src, 'small.txt'), 'hello\n');
const layout = join(work, 'disk.yaml');
writeFileSync(layout, `table: gpt\npartitions:\n  - { filesystem: fat, size: auto, source: src }\n  - { filesystem: ext4, size: auto, source: src }\n`);

let mounted = false;
test.before(() => {
  requireRoot('the full-disk test');
  mountTmpfs(full, '8m');
  mounted = true;
});

const commands: [string, string[]][] = [
  ['mkfs ext4', ['mkfs', 'ext4', src, join(full, 'out.img')]],
  ['mkfs fat', ['mkfs', 'fat', src, join(full, 'out.img')]],
  ['mkinitramfs', ['mkinitramfs', src, join(full, 'out.img')]],
  ['mkinitramfs --no-compress', ['mkinitramfs', '--no-compress', src, join(full, 'out.img')]],
  ['mkimage', ['mkimage', layout, join(full, 'out.img')]],
];

for (const [name, args] of commands) {
  test(`${name} into a full disk: kiln: error naming the full disk, exit 1, nothing left`, () => {
    const r = kiln(args);
    assert.is(r.status, 1, r.all);
    assert.match(r.stderr, /^kiln: error: the disk is full: no space left on the device holding '.*full' while writing '.*out\.img'/m, r.stderr);
    assert.not.match(r.all, /internal error|\n\s+at /, 'no stack trace');
    assert.equal(readdirSync(full), [], 'neither the output nor a temp file is left');
  });
}

test('the disk is usable again afterwards: a small image fits', () => {
  const r = kiln(['mkfs', 'swap', '--size', '1M', join(full, 'swap.img')]);
  assert.is(r.status, 0, r.all);
  assert.ok(existsSync(join(full, 'swap.img')));
  assert.equal(readdirSync(full), ['swap.img']);
});

test.after(() => {
  if (mounted) umount(full);
  rmSync(work, { recursive: true, force: true });
});

test.run();
