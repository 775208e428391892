import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What a user sees of kiln's command line (issue 11): usage errors exit 2 with `kiln: error:`
 * and a hint (never the whole help), runtime errors exit 1, outputs are not replaced without
 * --force, progress appears on a terminal only, --json parses with the documented keys.
 */

const repo = new URL('../../', import.meta.url).pathname;
const MAIN = join(repo, 'src/cli/main.ts');
const TSX = join(repo, 'node_modules/tsx/dist/esm/index.mjs');
const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-conv-'));

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

/** Runs kiln in a pseudo-terminal (util-linux script): stdout and stderr both go to the terminal. */
function kilnTty(args: string[]): Run {
  const cmd = [process.execPath, '--import', TSX, MAIN, ...args].map(shq).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: dir, encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const src = join(dir, 'src');
mkdirSync(join(src, 'etc'), { recursive: true });
writeFileSync(join(src, 'etc', 'hostname'), 'kiln\n');
// enough content that the live line is drawn at least once
for (let i = 0; i < 12; i++) writeFileSync(join(src, `blob${i}`), Buffer.alloc(2 << 20, i + 1));
const layout = join(dir, 'disk.yaml');
writeFileSync(
  layout,
  `table: gpt\npartitions:\n  - filesystem: fat\n    type: esp\n    size: 40M\n    label: EFI\n    source: ${src}\n  - filesystem: swap\n    size: 8M\n`,
);

const USAGE: [string, string[]][] = [
  ['unknown option', ['mkfs', 'ext4', '--bogus', 'a', 'b']],
  ['unknown command', ['mkfsx']],
  ['missing argument', ['mkfs', 'swap', '--size', '1M']],
  ['missing required option', ['mkfs', 'swap', 'out.swap']],
  ['too many arguments', ['image', 'ls', 'a', 'b', 'c']],
  ['missing output file', ['mkfs', 'ext4', 'src']],
  ['bad block size', ['mkfs', 'ext4', '-b', '2048', 'src', 'x.img']],
  ['bad size', ['mkfs', 'ext4', '--size', 'lots', 'src', 'x.img']],
  ['margin without auto', ['mkfs', 'fat', '--size', '8M', '--margin', '1M', 'src', 'x.img']],
  ['bad FAT type', ['mkfs', 'fat', '--fat', '13', 'src', 'x.img']],
  ['bad gzip level', ['mkinitramfs', '--level', '11', 'src', 'x.cpio']],
  ['bad --deps (checkout)', ['checkout', '--deps', 'bogus', 'x.bst', 'out']],
  ['bad --deps (fetch)', ['fetch', '--deps', 'bogus', 'x.bst']],
  ['bad --fetchers', ['fetch', '--fetchers', '0', 'x.bst']],
  ['global option after the command', ['checkout', 'x.bst', '-C', 'dir']],
  ['mkimage without output', ['mkimage', 'disk.yaml']],
  ['mkimage --dry-run with output', ['mkimage', '--dry-run', 'disk.yaml', 'x.img']],
  ['help of no command', ['help', 'nope']],
];

for (const [name, args] of USAGE) {
  test(`usage error exits 2 with kiln: error: and a hint: ${name}`, () => {
    const r = kiln(args);
    assert.is(r.status, 2, `${args.join(' ')}\n${r.stderr}`);
    assert.match(r.stderr, /^kiln: error: /);
    assert.match(r.stderr, /\n {2}hint: /);
    assert.not.match(r.stderr, /Usage:/, 'no help dump');
    assert.is(r.stdout, '');
  });
}

const RUNTIME: [string, string[]][] = [
  ['missing source directory', ['mkfs', 'ext4', 'no-such-dir', 'x.img']],
  ['tree does not fit', ['mkfs', 'ext4', '--size', '64K', 'src', 'x.img']],
  ['no FAT12 volume leaves the margin free', ['mkfs', 'fat', '--fat', '12', '--margin', '400M', 'src', 'x.img']],
  ['missing layout', ['mkimage', 'no-such.yaml', 'x.img']],
  ['missing image', ['image', 'ls', 'no-such.img']],
  ['no project', ['show', 'x.bst']],
  ['output is a directory', ['mkfs', 'ext4', 'src', 'src']],
];

for (const [name, args] of RUNTIME) {
  test(`runtime error exits 1: ${name}`, () => {
    const r = kiln(args);
    assert.is(r.status, 1, `${args.join(' ')}\n${r.stderr}`);
    assert.match(r.stderr, /^kiln: error: /);
    assert.not.match(r.stderr, /\.kiln-\d+\.tmp/, 'no temp file names');
  });
}

test('kiln help mkfs ext4 shows the help of mkfs ext4', () => {
  const r = kiln(['help', 'mkfs', 'ext4']);
  assert.is(r.status, 0);
  assert.match(r.stdout, /^Usage: kiln mkfs ext4 /);
  assert.match(kiln(['help', 'mkimage']).stdout, /Layout \(YAML\):/);
});

test('no option of a command shadows an option of a command above it (global options: only --directory, kept apart by positional parsing)', () => {
  // program.ts builds the program without running it (main.ts runs it)
  const script = `
    const { buildProgram } = await import(${JSON.stringify(join(repo, 'src/cli/program.ts'))});
    const { allCommands } = await import(${JSON.stringify(join(repo, 'src/cli/conventions.ts'))});
    const program = await buildProgram();
    const flags = (c) => c.options.flatMap((o) => [o.short, o.long].filter(Boolean));
    const globals = new Set(flags(program));
    const found = [];
    for (const cmd of allCommands(program)) {
      if (cmd === program) continue;
      const above = new Set();
      for (let p = cmd.parent; p && p.parent; p = p.parent) for (const f of flags(p)) above.add(f);
      for (const f of flags(cmd)) if (above.has(f) || (globals.has(f) && f !== '--directory')) found.push(cmd.name() + ' ' + f);
    }
    console.log(JSON.stringify(found));`;
  const r = spawnSync(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim().split('\n').pop()!), []);
});

test('a second mkfs without --force is refused and the first image is intact; --force replaces it', () => {
  const img = join(dir, 'safe.img');
  assert.is(kiln(['mkfs', 'ext4', '-q', '--label', 'first', 'src', img]).status, 0);
  const before = readFileSync(img);
  const r = kiln(['mkfs', 'ext4', '--label', 'second', 'src', img]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /kiln: error: '.*safe\.img' exists\n {2}hint: pass --force/);
  assert.ok(readFileSync(img).equals(before), 'the first image is unchanged');
  for (const args of [
    ['mkfs', 'fat', 'src', img],
    ['mkfs', 'swap', '-s', '1M', img],
    ['mkinitramfs', 'src', img],
    ['mkimage', 'disk.yaml', img],
  ]) {
    const again = kiln(args);
    assert.is(again.status, 1, `${args.join(' ')}: ${again.stderr}`);
    assert.match(again.stderr, /exists/);
  }
  assert.ok(readFileSync(img).equals(before));
  assert.is(kiln(['mkfs', 'ext4', '-q', '--force', '--label', 'second', 'src', img]).status, 0);
  assert.not.ok(readFileSync(img).equals(before), 'replaced with --force');
  assert.equal(
    readdirSync(dir).filter((n) => n.includes('.kiln-')),
    [],
    'no temp files left',
  );
});

test('--json on mkfs ext4/fat/swap, mkinitramfs and mkimage has the documented keys', () => {
  const ext4 = JSON.parse(kiln(['mkfs', 'ext4', '--json', 'src', 'j.ext4']).stdout) as Record<string, unknown>;
  for (const k of ['output', 'type', 'size', 'uuid', 'label', 'blockSize', 'blocks', 'freeBlocks', 'inodes', 'freeInodes', 'journalBlocks'])
    assert.ok(k in ext4, `ext4: ${k}`);
  assert.is(ext4.type, 'ext4');
  const fat = JSON.parse(kiln(['mkfs', 'fat', '--json', '--label', 'BOOT', 'src', 'j.fat']).stdout) as Record<string, unknown>;
  for (const k of ['output', 'type', 'size', 'uuid', 'label', 'fatType', 'clusterSize', 'clusters', 'freeClusters', 'files', 'directories'])
    assert.ok(k in fat, `fat: ${k}`);
  assert.is(fat.label, 'BOOT');
  const swap = JSON.parse(kiln(['mkfs', 'swap', '--json', '-s', '1M', 'j.swap']).stdout) as Record<string, unknown>;
  for (const k of ['output', 'type', 'size', 'uuid', 'label', 'pageSize', 'pages']) assert.ok(k in swap, `swap: ${k}`);
  const initramfs = JSON.parse(kiln(['mkinitramfs', '--json', 'src', 'j.cpio.gz']).stdout) as Record<string, unknown>;
  for (const k of ['output', 'type', 'size', 'entries', 'cpioBytes', 'compressed']) assert.ok(k in initramfs, `initramfs: ${k}`);
  const disk = JSON.parse(kiln(['mkimage', '--json', 'disk.yaml', 'j.img']).stdout) as { table: string; partitions: Record<string, unknown>[] };
  assert.is(disk.table, 'gpt');
  assert.is(disk.partitions.length, 2);
  for (const k of ['number', 'start', 'size', 'type', 'typeName', 'filesystem', 'label', 'uuid', 'partuuid'])
    assert.ok(k in disk.partitions[0]!, `mkimage: ${k}`);
  assert.is(disk.partitions[0]!.typeName, 'esp');
  assert.is(disk.partitions[1]!.typeName, 'swap');
});

test('--size auto leaves the default margin free (10%, at least 16 MiB); --margin 0 the smallest', () => {
  const auto = JSON.parse(kiln(['mkfs', 'ext4', '--json', 'src', 'm.ext4']).stdout) as { freeBlocks: number; blockSize: number };
  assert.ok(auto.freeBlocks * auto.blockSize >= 16 << 20, `free ${auto.freeBlocks * auto.blockSize}`);
  const tight = JSON.parse(kiln(['mkfs', 'ext4', '--json', '--margin', '0', 'src', 'm0.ext4']).stdout) as { freeBlocks: number; blockSize: number };
  assert.ok(tight.freeBlocks * tight.blockSize < 4 << 20);
  const fat = JSON.parse(kiln(['mkfs', 'fat', '--json', '--margin', '8M', 'src', 'm.fat']).stdout) as { freeClusters: number; clusterSize: number };
  assert.ok(fat.freeClusters * fat.clusterSize >= 8 << 20, `fat free ${fat.freeClusters * fat.clusterSize}`);
});

test('progress: a live line on a terminal, nothing in a pipe; -q prints nothing', () => {
  const tty = kilnTty(['mkfs', 'fat', 'src', 'p.fat']);
  assert.is(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /\r\x1b\[Kwriting p\.fat: \d+\/13 files, .* of 24\.0 MiB \(\d+%\)/);
  assert.match(tty.stdout, /\r\x1b\[Kfat: p\.fat: FAT/, 'the line is cleared before the result');
  const ext4 = kilnTty(['mkfs', 'ext4', 'src', 'p.ext4']);
  assert.is(ext4.status, 0, ext4.stdout);
  assert.match(ext4.stdout, /\r\x1b\[Kwriting p\.ext4: \d+\/13 files, .* of 24\.0 MiB \(\d+%\)/);
  assert.match(ext4.stdout, /\r\x1b\[Kext4: p\.ext4: /, 'the line is cleared before the result');
  const piped = kiln(['mkfs', 'fat', 'src', 'p2.fat']);
  assert.is(piped.status, 0);
  assert.is(piped.stderr, '', 'nothing on stderr without a terminal');
  assert.match(piped.stdout, /^fat: p2\.fat: FAT\d+, [^\n]*\n$/);
  const quiet = kilnTty(['mkfs', 'fat', '-q', 'src', 'p3.fat']);
  assert.is(quiet.stdout, '');
  const disk = kilnTty(['mkimage', 'disk.yaml', 'p.img']);
  assert.match(disk.stdout, /writing p\.img: \d+\/13 files/);
});

test('mkimage --dry-run prints the planned layout and writes nothing', () => {
  const r = kiln(['mkimage', '--dry-run', 'disk.yaml']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /disk\.yaml: .* GPT /);
  assert.match(r.stdout, /\n\s*1\s+2048\s+83967\s+40 MiB\s+esp\s+fat\s+EFI/);
  const j = JSON.parse(kiln(['mkimage', '--dry-run', '--json', 'disk.yaml']).stdout) as { partitions: { start: number; size: number }[] };
  assert.equal(
    j.partitions.map((p) => [p.start, p.size]),
    [
      [1 << 20, 40 << 20],
      [41 << 20, 8 << 20],
    ],
  );
  const tty = kilnTty(['mkimage', '--dry-run', 'disk.yaml']);
  assert.match(tty.stdout, /\[.*1 fat.*\]/, 'a picture of the disk on a terminal');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
