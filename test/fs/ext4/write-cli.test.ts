import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../helpers/tools.js';
import { e2fsckProblems } from './write-verify.js';

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kiln-ext4-cli-'));

function kiln(args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Nothing but the expected entries in the output directory: no image, no temp file. */
function onlyFiles(d: string, names: string[]): void {
  assert.equal(readdirSync(d).sort(), [...names].sort());
}

const src = join(dir, 'src');
mkdirSync(join(src, 'etc'), { recursive: true });
writeFileSync(join(src, 'etc', 'hostname'), 'kiln\n');
writeFileSync(join(src, 'tool'), 'x'.repeat(10000));
chmodSync(join(src, 'tool'), 0o4755);
linkSync(join(src, 'tool'), join(src, 'tool-link'));
symlinkSync('etc/hostname', join(src, 'name'));

test('kiln mkfs ext4 SRC OUT --size auto --margin, label, root owner, SOURCE_DATE_EPOCH', () => {
  const out = join(dir, 'out');
  mkdirSync(out);
  const img = join(out, 'root.img');
  const r = kiln(['mkfs', 'ext4', '--margin', '16M', '--label', 'root', '--inode-ratio', '8192', '--root-owner', src, img], {
    SOURCE_DATE_EPOCH: '1500000000',
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /ext4: .*root\.img/);
  onlyFiles(out, ['root.img']);
  assert.equal(e2fsckProblems(img), []);
  const dump = run('dumpe2fs', ['-h', img]).stdout;
  assert.match(dump, /Filesystem volume name:\s+root/);
  assert.match(dump, /has_journal/);
  const st = run('debugfs', ['-R', 'stat /tool-link', img]).stdout;
  assert.match(st, /Mode:\s+04755/);
  assert.match(st, /Links: 2/);
  assert.match(st, /User:\s+0\s+Group:\s+0/);
  assert.match(st, /mtime: 0x59682f00/); // clamped to SOURCE_DATE_EPOCH 1500000000
  assert.is(run('debugfs', ['-R', 'cat /etc/hostname', img]).stdout, 'kiln\n');
  // The same command again gives the same bytes.
  const img2 = join(out, 'again.img');
  assert.is(
    kiln(['mkfs', 'ext4', '--margin', '16M', '--label', 'root', '--inode-ratio', '8192', '--root-owner', src, img2], { SOURCE_DATE_EPOCH: '1500000000' })
      .status,
    0,
  );
  assert.is(run('cmp', [img, img2]).status, 0);
  assert.ok(statSync(img).blocks * 512 < statSync(img).size, 'the image is sparse');
  rmSync(out, { recursive: true });
});

test('kiln mkfs ext4 --from-tar OUT', () => {
  const out = join(dir, 'tar-out');
  mkdirSync(out);
  const tar = join(dir, 'src.tar.gz');
  run('tar', ['-czf', tar, '-C', src, '.']);
  const img = join(out, 'root.img');
  const r = kiln(['mkfs', 'ext4', '--size', '32M', '--no-journal', '--from-tar', tar, img]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(e2fsckProblems(img), []);
  assert.not.match(run('dumpe2fs', ['-h', img]).stdout, /has_journal/);
  assert.is(run('debugfs', ['-R', 'stat /tool', img]).stdout.match(/Links: (\d+)/)?.[1], '2');
  rmSync(out, { recursive: true });
});

test('errors exit non-zero and leave no file: missing source, OUT a directory, too small, long name', () => {
  const out = join(dir, 'err');
  mkdirSync(out);
  const img = join(out, 'x.img');
  let r = kiln(['mkfs', 'ext4', join(dir, 'nope'), img]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /does not exist/);
  r = kiln(['mkfs', 'ext4', src, out]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /is a directory/);
  r = kiln(['mkfs', 'ext4', '--size', '64K', src, img]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /at least \d+ bytes .* but --size gives 65536 bytes/);
  const longSrc = join(dir, 'long');
  mkdirSync(longSrc);
  writeFileSync(join(longSrc, 'n'.repeat(255)), 'ok');
  mkdirSync(join(longSrc, 'd'));
  // 255 bytes is the limit on the host too, so a longer name comes from a tar built by hand.
  r = kiln(['mkfs', 'ext4', longSrc, img]);
  assert.is(r.status, 0, r.stderr);
  rmSync(img);
  const tar = join(dir, 'long.tar');
  writeFileSync(tar, longNameTar('m'.repeat(300)));
  r = kiln(['mkfs', 'ext4', '--from-tar', tar, img]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /300 bytes; ext4 allows 255/);
  onlyFiles(out, []);
  assert.not.ok(existsSync(img));
  rmSync(out, { recursive: true });
});

/** A POSIX tar with one file whose pax 'path' record names it `name`. */
function longNameTar(name: string): Uint8Array {
  const block = (): Uint8Array => new Uint8Array(512);
  const header = (path: string, type: string, size: number): Uint8Array => {
    const h = block();
    const put = (s: string, at: number, len: number): void => h.set(new TextEncoder().encode(s).subarray(0, len), at);
    put(path, 0, 100);
    put('0000644\0', 100, 8);
    put('0000000\0', 108, 8);
    put('0000000\0', 116, 8);
    put(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
    put('00000000000\0', 136, 12);
    put(type, 156, 1);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    h.fill(0x20, 148, 156);
    const sum = h.reduce((a, b) => a + b, 0);
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
    return h;
  };
  let rec = ` path=${name}\n`;
  let len = rec.length;
  while (`${len}${rec}`.length !== len) len = `${len}${rec}`.length;
  rec = `${len}${rec}`;
  const pax = new TextEncoder().encode(rec);
  const paxData = new Uint8Array(Math.ceil(pax.length / 512) * 512);
  paxData.set(pax);
  const data = new Uint8Array(512);
  data.set(new TextEncoder().encode('hi'));
  const parts = [header('PaxHeader', 'x', pax.length), paxData, header('short', '0', 2), data, block(), block()];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
