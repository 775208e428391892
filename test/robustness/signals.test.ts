import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, kiln, startKiln, temps, waitFor, writeNoise } from './helpers.js';

/**
 * Interrupting a writer mid-write: SIGINT and SIGTERM leave nothing (exit 130 and 143); after
 * kill -9 the temp file stays, and the next run for the same output removes it. The inputs are
 * a few hundred MiB, so the write is still going when the temp file appears and the signal comes.
 */

const work = mkdtempSync(join(tmpdir(), 'kiln-signals-'));
const big = join(work, 'big');
const small = join(work, 'small');
const out = join(work, 'out');
mkdirSync(big);
mkdirSync(small);
mkdirSync(out);
for (let i = 0; i < 4; i++) writeNoise(join(big, `f${i}.bin`), 75);
writeFileSync(join(small, 'hello.txt'), 'hello\n');
const bigLayout = join(work, 'big.yaml');
const smallLayout = join(work, 'small.yaml');
writeFileSync(bigLayout, 'table: mbr\npartitions:\n  - { filesystem: ext4, size: auto, source: big }\n');
writeFileSync(smallLayout, 'table: mbr\npartitions:\n  - { filesystem: ext4, size: auto, source: small }\n');

const writers: [string, (src: string, layout: string, dest: string) => string[]][] = [
  ['mkfs ext4', (src, _l, dest) => ['mkfs', 'ext4', src, dest]],
  ['mkfs fat', (src, _l, dest) => ['mkfs', 'fat', src, dest]],
  ['mkinitramfs', (src, _l, dest) => ['mkinitramfs', src, dest]],
  ['mkimage', (_s, layout, dest) => ['mkimage', layout, dest]],
];

/** Starts the writer on the big input, waits for its temp file, sends `signal`; returns how it ended. */
async function interrupt(args: string[], signal: NodeJS.Signals) {
  const child = startKiln(args);
  const done = exited(child);
  const t0 = Date.now();
  await waitFor(() => temps(out).length > 0 || child.exitCode !== null, 60_000, 'the temp file to appear');
  if (child.exitCode !== null) assert.unreachable(`the writer ended before it could be interrupted: ${(await done).stderr}`);
  const tempName = temps(out)[0]!;
  assert.ok(tempName.endsWith(`.kiln-${child.pid}.tmp`), `the temp file ${tempName} is named by the PID ${child.pid}`);
  child.kill(signal);
  const r = await done;
  return { ...r, tempName, ms: Date.now() - t0 };
}

for (const [name, args] of writers) {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    test(`${name}: ${signal} mid-write removes the temp file, writes nothing, exits ${code}`, async () => {
      const dest = join(out, `${name.replace(' ', '-')}.img`);
      const r = await interrupt(args(big, bigLayout, dest), signal);
      assert.is(r.code, code, r.stderr);
      assert.match(r.stderr, new RegExp(`kiln: interrupted by ${signal}`));
      assert.not.match(r.stderr, /internal error|\n\s+at /);
      assert.equal(readdirSync(out), [], 'no output and no temp file');
      assert.ok(r.ms < 30_000, `stopped promptly (${r.ms} ms)`);
    });
  }

  test(`${name}: after kill -9 mid-write the next run for the same output removes the stale temp`, async () => {
    const dest = join(out, `${name.replace(' ', '-')}.img`);
    const r = await interrupt(args(big, bigLayout, dest), 'SIGKILL');
    assert.is(r.signal, 'SIGKILL');
    assert.equal(temps(out), [r.tempName], 'kill -9 leaves the temp file');
    assert.not.ok(existsSync(dest), 'and nothing under the output name');
    const again = kiln(args(small, smallLayout, dest));
    assert.is(again.status, 0, again.all);
    assert.equal(readdirSync(out), [`${name.replace(' ', '-')}.img`], 'the stale temp is gone, the output is there');
    rmSync(dest);
  });
}

test('a live run’s temp file for the same output is left alone', () => {
  const dest = join(out, 'live.img');
  // PID 1 is always alive: its temp must not be taken for a stale one
  const foreign = join(out, '.live.img.kiln-1.tmp');
  writeFileSync(foreign, 'x');
  const r = kiln(['mkfs', 'fat', small, dest]);
  assert.is(r.status, 0, r.all);
  assert.ok(existsSync(foreign));
  rmSync(foreign);
  rmSync(dest);
});

test('SIGTERM while a compressed tar source is being spooled removes the spool (kiln-tar-PID-*)', async () => {
  const tarball = join(work, 'big.tar.gz');
  const t = spawnSync('tar', ['-czf', tarball, '-C', big, 'f0.bin', 'f1.bin'], { encoding: 'utf8' });
  assert.is(t.status, 0, t.stderr);
  const child = startKiln(['mkfs', 'ext4', '--from-tar', tarball, join(out, 'tar.img')]);
  const done = exited(child);
  const spools = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith(`kiln-tar-${child.pid}-`));
  await waitFor(() => spools().length > 0 || child.exitCode !== null, 60_000, 'the spool directory to appear');
  child.kill('SIGTERM');
  const r = await done;
  assert.is(r.code, 143, r.stderr);
  assert.equal(spools(), [], 'the spool is removed');
  assert.equal(readdirSync(out), [], 'no output and no temp file');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
