import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Messages that name the right thing (issue 11): the cases a new user met. */

const repo = new URL('../../', import.meta.url).pathname;
const MAIN = join(repo, 'src/cli/main.ts');
const TSX = join(repo, 'node_modules/tsx/dist/esm/index.mjs');
const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-msg-'));

function kiln(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('image ls on a swap partition says it holds swap, not "name a partition"', () => {
  writeFileSync(join(dir, 'swap.yaml'), 'table: mbr\npartitions:\n  - {filesystem: raw, size: 1M}\n  - {filesystem: swap, size: 4M, label: SWAPPY}\n');
  const made = kiln(['mkimage', 'swap.yaml', 'disk.img']);
  assert.is(made.status, 0, made.stderr);
  const r = kiln(['image', 'ls', 'disk.img:2']);
  assert.is(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /^kiln: error: partition 2 of 'disk\.img' holds swap \(label SWAPPY, UUID [0-9a-f-]{36}\), not a filesystem: it has no files to list or read/,
  );
  assert.not.match(r.stderr, /name a partition/);
  // a partition holding nothing kiln knows points at image inspect, not at naming a partition
  const raw = kiln(['image', 'ls', 'disk.img:1']);
  assert.is(raw.status, 1, raw.stderr);
  assert.match(
    raw.stderr,
    /partition 1 of 'disk\.img' holds no filesystem kiln can read[\s\S]*hint: kiln image inspect 'disk\.img' shows what each partition holds/,
  );
});

test('a partition larger than the disk is named with both sizes, not "no room is left for partition 2"', () => {
  writeFileSync(join(dir, 'big.yaml'), 'table: gpt\nsize: 64M\npartitions:\n  - {filesystem: swap, size: 200M}\n  - {filesystem: swap, size: rest}\n');
  const r = kiln(['mkimage', '--dry-run', 'big.yaml']);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /big\.yaml:4:\d+.*partition 1 \(swap\) is 200 MiB but the disk is 64 MiB: the partition does not fit the disk/);
  assert.not.match(r.stderr, /no room is left/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
