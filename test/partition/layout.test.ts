import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../src/index.js';
import { parseLayout } from '../../src/partition/layout.js';
import { assembleDiskToMemory } from '../../src/partition/assemble.js';
import { nodeDiskHost } from '../../src/partition/disk-file.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-layout-'));
mkdirSync(join(dir, 'root'));
writeFileSync(join(dir, 'root', 'f'), 'x'.repeat(100_000));
const file = join(dir, 'disk.yaml');

function fails(yaml: string, where: string, message: RegExp): void {
  try {
    parseLayout(yaml, file);
  } catch (e) {
    assert.ok(e instanceof KilnError, String(e));
    assert.ok(e.message.startsWith(`${file}:${where}: `), `expected position ${where} in: ${e.message}`);
    assert.match(e.message, message);
    return;
  }
  assert.unreachable(`layout was accepted, expected ${message}`);
}

async function planFails(yaml: string, where: string, message: RegExp): Promise<void> {
  const layout = parseLayout(yaml, file);
  try {
    await assembleDiskToMemory(layout, { host: nodeDiskHost });
  } catch (e) {
    assert.ok(e instanceof KilnError, String(e));
    assert.ok(e.message.startsWith(`${file}:${where}: `), `expected position ${where} in: ${e.message}`);
    assert.match(e.message, message);
    return;
  }
  assert.unreachable(`layout was planned, expected ${message}`);
}

test('a full layout parses with defaults and resolved paths', () => {
  const l = parseLayout(
    [
      'table: gpt',
      'size: 1G',
      'partitions:',
      '  - { filesystem: ext4, size: auto, source: root, label: r, inode-ratio: 8192, name: rootfs }',
      '  - filesystem: swap',
      '    size: 64M',
      '',
    ].join('\n'),
    file,
  );
  assert.is(l.table, 'gpt');
  assert.is(l.size, 1024 ** 3);
  assert.is(l.alignment, 1024 * 1024);
  assert.is(l.partitions[0]!.source, join(dir, 'root'));
  assert.is(l.partitions[0]!.inodeRatio, 8192);
  assert.is(l.partitions[1]!.size, 64 * 1024 * 1024);
  assert.equal(l.partitions[1]!.positions!.keys.size, { file, line: 6, col: 11 });
});

test('errors name file:line:col', () => {
  fails('table: mbr\nsizee: 1G\npartitions: []\n', '2:1', /unknown key 'sizee'/);
  fails('table: dos\npartitions: [{filesystem: ext4, size: 1M}]\n', '1:8', /unknown table type 'dos'/);
  fails('partitions:\n  - filesystem: ext4\n    size: 1M\n    colour: red\n', '4:5', /unknown key 'colour' in partition 1/);
  fails('partitions:\n  - filesystem: xfs\n    size: 1M\n', '2:17', /unknown filesystem 'xfs'/);
  fails('partitions:\n  - filesystem: ext4\n    size: lots\n', '3:11', /invalid partition 1 size 'lots'/);
  fails('partitions:\n  - filesystem: ext4\n    size: 1M\n    source: nowhere\n', '4:13', /source 'nowhere' does not exist/);
  fails(
    'partitions:\n  - {filesystem: fat, size: 40M, bootable: true}\n  - {filesystem: ext4, size: 1M, bootable: true}\n',
    '3:44',
    /more than one partition is bootable/,
  );
  fails('partitions:\n  - {filesystem: swap, size: auto}\n', '2:30', /explicit size/);
  fails('partitions:\n  - {filesystem: fat, size: 40M, inode-ratio: 4096}\n', '2:47', /does not apply to a fat/);
  fails('partitions:\n  - {filesystem: fat, size: 40M, label: WAY_TOO_LONG_LABEL}\n', '2:41', /longer than 11/);
  fails('size: 1G\npartitions:\n  - {filesystem: ext4, size: rest}\n  - {filesystem: swap, size: 1M}\n', '3:30', /only the last/);
  fails('partitions:\n  - {filesystem: ext4, size: [1]}\n', '2:30', /single value/);
  fails('partitions: [\n', '2:1', /YAML syntax error/);
  fails('table: mbr\n', '1:1', /needs 'partitions'/);
  fails('partitions:\n  - {filesystem: fat, size: 40M, syslinux: {directory: /s}}\n', '2:44', /needs 'binaries'/);
});

test('planning and writing errors keep positions: content too large, overlaps, disk too small', async () => {
  await planFails(
    'partitions:\n  - filesystem: ext4\n    size: 64K\n    source: root\n',
    '3:11',
    /partition 1 \(ext4\): the tree needs an ext4 filesystem of at least/,
  );
  await planFails('partitions:\n  - filesystem: fat\n    size: 1M\n    fat: 32\n', '3:11', /partition 1 \(fat\)/);
  await planFails('partitions:\n  - {filesystem: swap, size: 4M}\n  - {filesystem: swap, size: 4M, start: 2M}\n', '3:41', /inside partition 1/);
  await planFails('size: 8M\npartitions:\n  - {filesystem: swap, size: 4M}\n  - {filesystem: swap, size: 4M}\n', '1:7', /the partitions need 9 MiB/);
  // one partition larger than the disk is named with both sizes (issue 11: was "no room is left for partition 2")
  await planFails(
    'size: 64M\npartitions:\n  - {filesystem: swap, size: 200M}\n  - {filesystem: swap, size: rest}\n',
    '3:30',
    /partition 1 \(swap\) is 200 MiB but the disk is 64 MiB: the partition does not fit the disk/,
  );
  // partitions that together overrun the disk before a `rest` one: the total, not "no room"
  await planFails(
    'size: 64M\npartitions:\n  - {filesystem: swap, size: 40M}\n  - {filesystem: swap, size: 40M}\n  - {filesystem: swap, size: rest}\n',
    '1:7',
    /the partitions before partition 3 need 81 MiB/,
  );
  await planFails('table: gpt\nsize: 9M\npartitions:\n  - {filesystem: swap, size: 4M}\n  - {filesystem: swap, size: 4M}\n', '2:7', /need/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
