import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../src/index.js';
import type { DiskLayout } from '../../src/partition/disk-layout.js';
import { parseLayout } from '../../src/partition/layout.js';
import { planDisk } from '../../src/partition/assemble.js';
import { nodeDiskHost } from '../../src/partition/disk-file.js';
import { syslinuxConfig } from '../../src/partition/boot-config.js';
import { kiln } from './helpers.js';

/**
 * Layout errors name file:line:col of the key at fault and say what is wrong: paths that leave
 * the filesystem, control characters that would become extra syslinux.cfg directives, and
 * sizes beyond what kiln or the partition table can address (refused before any write).
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-layout-errors-'));
mkdirSync(join(dir, 'sys'));
mkdirSync(join(dir, 'root'));
// parsing checks only that the SYSLINUX files exist; planning (not reached here) reads them
for (const f of ['ldlinux.bss', 'ldlinux.sys', 'ldlinux.c32', 'mbr.bin']) writeFileSync(join(dir, 'sys', f), 'x');
writeFileSync(join(dir, 'vmlinuz'), 'kernel');
writeFileSync(join(dir, 'root', 'f'), 'data');
const file = join(dir, 'disk.yaml');

const fat = (lines: string[]): string => ['partitions:', '  - filesystem: fat', '    size: 40M', ...lines, ''].join('\n');

/** [what, yaml, line:col of the key at fault, message] */
const cases: [string, string, string, RegExp][] = [
  [
    "files: a '..' destination",
    fat(['    files: {/../x: vmlinuz}']),
    '4:13',
    /file destination '\/\.\.\/x' has a '\.\.' component, which would leave the filesystem/,
  ],
  ["files: '..' in the middle", fat(['    files:', '      /boot/../../etc/x: vmlinuz']), '5:7', /'\.\.' component/],
  ['files: the root as destination', fat(['    files: {/: vmlinuz}']), '4:13', /names no file/],
  ['files: a newline in a destination', fat(['    files: {"/a\\nb": vmlinuz}']), '4:13', /contains a line break \(\\n\) at character 3/],
  [
    'syslinux directory /../..',
    fat(['    syslinux: {binaries: sys, directory: /../.., kernel: /vmlinuz}']),
    '4:42',
    /syslinux directory '\/\.\.\/\.\.' has a '\.\.' component/,
  ],
  [
    'syslinux cmdline with a newline',
    fat(['    syslinux:', '      binaries: sys', '      kernel: /vmlinuz', '      cmdline: "console=ttyS0\\nDEFAULT evil"']),
    '7:16',
    /syslinux cmdline contains a line break \(\\n\) at character 14; it would break the syslinux\.cfg line/,
  ],
  [
    'syslinux cmdline as a block scalar',
    fat(['    syslinux:', '      binaries: sys', '      kernel: /vmlinuz', '      cmdline: |', '        quiet', '        MENU evil']),
    '7:16',
    /syslinux cmdline contains a line break/,
  ],
  [
    'syslinux kernel with a carriage return',
    fat(['    syslinux: {binaries: sys, kernel: "/vmlinuz\\rX"}']),
    '4:39',
    /syslinux kernel contains a carriage return/,
  ],
  ['syslinux initrd with a tab', fat(['    syslinux: {binaries: sys, kernel: /vmlinuz, initrd: "/i\\tx"}']), '4:57', /syslinux initrd contains a tab/],
  ['syslinux initrd with a space', fat(['    syslinux: {binaries: sys, kernel: /vmlinuz, initrd: /a b}']), '4:57', /contains a space/],
  [
    'MBR disk size: 1e30',
    'table: mbr\nsize: 1e30\npartitions:\n  - {filesystem: swap, size: 1M}\n',
    '2:7',
    /disk size 1e\+30 is beyond what an MBR table can address: at most 2\^32 sectors of 512 bytes \(2 TiB\)/,
  ],
  [
    'MBR (default table) partition size: 1e30',
    'partitions:\n  - {filesystem: swap, size: 1e30}\n',
    '2:30',
    /partition 1 size 1e\+30 is beyond what an MBR table can address/,
  ],
  [
    'MBR disk size: 3T',
    'table: mbr\nsize: 3T\npartitions:\n  - {filesystem: swap, size: 1M}\n',
    '2:7',
    /disk size 3 TiB .* beyond what an MBR can address: an MBR table addresses at most 2\^32 sectors/,
  ],
  ['MBR partition size: 2T', 'table: mbr\npartitions:\n  - {filesystem: swap, size: 2T}\n', '3:30', /partition 1 size 2 TiB .* beyond what an MBR can address/],
  [
    'MBR partition start: 3T',
    'table: mbr\npartitions:\n  - {filesystem: swap, size: 1M, start: 3T}\n',
    '3:41',
    /partition 1 start 3 TiB is beyond what an MBR can address/,
  ],
  [
    'GPT disk size: 1e30',
    'table: gpt\nsize: 1e30\npartitions:\n  - {filesystem: swap, size: 1M}\n',
    '2:7',
    /disk size 1e\+30 is too large: kiln handles disks and partitions up to 8 PiB \(2\^53 bytes\)/,
  ],
  [
    'GPT partition size: 1e30',
    'table: gpt\npartitions:\n  - {filesystem: swap, size: 1e30}\n',
    '3:30',
    /partition 1 size 1e\+30 is too large: kiln handles .* up to 8 PiB/,
  ],
  [
    'GPT disk size: 99999999T',
    'table: gpt\nsize: 99999999T\npartitions:\n  - {filesystem: swap, size: 1M}\n',
    '2:7',
    /disk size '99999999T' is too large: kiln handles .* up to 8 PiB/,
  ],
  ['alignment: 1e30', 'alignment: 1e30\npartitions:\n  - {filesystem: swap, size: 1M}\n', '1:12', /alignment 1e\+30 is beyond what an MBR table can address/],
];

for (const [what, yaml, where, message] of cases) {
  test(`layout: ${what} → ${where}`, () => {
    try {
      parseLayout(yaml, file);
    } catch (e) {
      assert.ok(e instanceof KilnError, String(e));
      assert.ok(e.message.startsWith(`${file}:${where}: `), `expected ${file}:${where} in: ${e.message}`);
      assert.match(e.message, message);
      return;
    }
    assert.unreachable(`accepted: ${yaml}`);
  });
}

/** [what, yaml, line:col, message]: refused when planning, still before any write. */
const planCases: [string, string, string, RegExp][] = [
  [
    'MBR partitions that end beyond 2 TiB blame the partition that crosses',
    'table: mbr\npartitions:\n  - {filesystem: swap, size: 1500G}\n  - {filesystem: swap, size: 1000G}\n',
    '4:30',
    /partition 2 would end at .* beyond what an MBR table can address: at most 2\^32 sectors/,
  ],
  [
    'GPT partitions beyond 8 PiB blame the partition',
    'table: gpt\npartitions:\n  - {filesystem: swap, size: 5000T}\n  - {filesystem: swap, size: 5000T}\n',
    '4:30',
    /partition 2 would end at .* beyond the 8 PiB/,
  ],
  [
    'a files entry whose host file is gone by the time of planning',
    'partitions:\n  - filesystem: fat\n    size: 40M\n    files: {/k: vanishing}\n',
    '4:12',
    /partition 1: source file '.*vanishing' is gone/,
  ],
];

test('planning refusals name the key at fault', async () => {
  for (const [what, yaml, where, message] of planCases) {
    writeFileSync(join(dir, 'vanishing'), 'soon gone');
    let layout: DiskLayout;
    try {
      layout = parseLayout(yaml, file);
    } catch (e) {
      assert.ok(e instanceof KilnError, `${what}: ${String(e)}`);
      assert.ok((e as KilnError).message.startsWith(`${file}:${where}: `), `${what}: expected ${where} in: ${(e as KilnError).message}`);
      assert.match((e as KilnError).message, message);
      continue;
    }
    rmSync(join(dir, 'vanishing'), { force: true });
    try {
      const plan = await planDisk(layout, { host: nodeDiskHost });
      plan.dispose();
    } catch (e) {
      assert.ok(e instanceof KilnError, `${what}: ${String(e)}`);
      assert.ok(e.message.startsWith(`${file}:${where}: `), `${what}: expected ${where} in: ${e.message}`);
      assert.match(e.message, message);
      continue;
    }
    assert.unreachable(`${what}: planned`);
  }
});

test('a layout built in code cannot smuggle a newline into syslinux.cfg either', () => {
  const noFiles = (path: string): Uint8Array => {
    throw new Error(`unexpected read of ${path}`);
  };
  assert.throws(
    () => syslinuxConfig({ binaries: '/x', directory: '/syslinux', kernel: '/vmlinuz', cmdline: 'quiet\nDEFAULT evil' }, noFiles),
    (e: unknown) => e instanceof KilnError && /line break/.test(e.message),
  );
  const ok = new TextDecoder().decode(syslinuxConfig({ binaries: '/x', directory: '/syslinux', kernel: '/vmlinuz', cmdline: 'console=ttyS0 quiet' }, noFiles));
  assert.is(ok.split('\n').filter((l) => /^\s*(DEFAULT|MENU)/.test(l)).length, 1, 'one DEFAULT line');
});

test('kiln mkimage with size: 1e30 (GPT): kiln: error with file:line:col, exit 1, no output, no temp', () => {
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(dir, 'huge.yaml'), 'table: gpt\nsize: 1e30\npartitions:\n  - {filesystem: swap, size: 1M}\n');
  const r = kiln(['mkimage', join(dir, 'huge.yaml'), join(out, 'disk.img')]);
  assert.is(r.status, 1, r.all);
  assert.match(r.stderr, /^kiln: error: .*huge\.yaml:2:7: disk size 1e\+30 is too large/m);
  assert.not.match(r.all, /internal error|\n\s+at /);
  assert.equal(readdirSync(out), []);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
