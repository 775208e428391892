import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../helpers/tools.js';
import { MTOOLS_ENV, fsckClean, readImage } from './fat-helpers.js';
import { throwawayDir } from '../../helpers/temp.js';

const work = throwawayDir('kiln-mkfs-fat-');
const main = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

function kiln(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', env });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const src = join(work, 'src');
mkdirSync(join(src, 'boot', 'syslinux'), { recursive: true });
writeFileSync(join(src, 'boot', 'syslinux', 'syslinux.cfg'), 'DEFAULT linux\n');
writeFileSync(join(src, 'A Long File Name.txt'), 'hello');

test('kiln mkfs fat writes a clean image with the requested type, label and volume id', () => {
  const out = join(work, 'out.img');
  const r = kiln(['mkfs', 'fat', '--fat', '32', '--label', 'boot', '--volume-id', '1234-ABCD', src, out], { ...process.env, SOURCE_DATE_EPOCH: '1700000000' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /FAT32/);
  assert.is(fsckClean(out), undefined);
  const info = run('mdir', ['-i', out, '::'], { env: MTOOLS_ENV }).stdout;
  assert.match(info, /Volume in drive : is BOOT/);
  assert.match(info, /Serial Number is 1234-ABCD/);
  assert.is(new TextDecoder().decode(readImage(out).readFile('boot/syslinux/syslinux.cfg')), 'DEFAULT linux\n');
  const blkid = run('blkid', ['-p', '-o', 'export', out]).stdout;
  assert.match(blkid, /TYPE=vfat/);
  assert.match(blkid, /LABEL=BOOT/);
  // --size auto --margin 0 is the smallest image that holds the tree.
  const auto = join(work, 'auto.img');
  assert.is(kiln(['mkfs', 'fat', '--margin', '0', src, auto]).status, 0);
  assert.ok(statSync(auto).size <= 1 << 20);
  assert.is(fsckClean(auto), undefined);
});

test('kiln mkfs fat reads a tar archive', () => {
  const tar = join(work, 'tree.tar');
  run('tar', ['-C', src, '-cf', tar, '.']);
  const out = join(work, 'tar.img');
  const r = kiln(['mkfs', 'fat', '--fat', '16', '--size', '20M', '--from-tar', tar, out]);
  assert.is(r.status, 0, r.stderr);
  assert.is(statSync(out).size, 20 << 20);
  assert.is(fsckClean(out), undefined);
  assert.equal(
    readImage(out)
      .list('')
      .map((e) => e.name)
      .sort(),
    ['A Long File Name.txt', 'boot'],
  );
});

test('errors are clear and leave no output file, not even a temporary one', () => {
  // usage errors (a value no FAT can take) exit 2, the rest 1
  const cases: [string[], RegExp, number][] = [
    [['--fat', '32', '--size', '8M'], /at least 65525 clusters/, 1],
    [['--size', '16K'], /needs \d+ clusters|no FAT layout fits|smallest volume/, 1],
    [['--fat', '11'], /12, 16 or 32/, 2],
    [['--label', 'a:b'], /label/, 1],
    [['--cluster-size', '3000'], /power of two/, 1],
  ];
  for (const [args, message, status] of cases) {
    const out = join(work, 'bad.img');
    const r = kiln(['mkfs', 'fat', ...args, src, out]);
    assert.is(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    // reported once, whether the main thread or the writer thread found it
    assert.is(r.stderr.split('\n').filter((l) => l.startsWith('kiln: error')).length, 1, r.stderr);
    assert.not.ok(existsSync(out), args.join(' '));
  }
  const withLink = join(work, 'with-link');
  mkdirSync(withLink);
  symlinkSync('x', join(withLink, 'link'));
  const r = kiln(['mkfs', 'fat', withLink, join(work, 'link.img')]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /symbolic link.*--skip-special/s);
  assert.is(kiln(['mkfs', 'fat', '--skip-special', withLink, join(work, 'link.img')]).status, 0);
  assert.equal(
    readdirSync(work).filter((n) => n.includes('.tmp')),
    [],
  );
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
