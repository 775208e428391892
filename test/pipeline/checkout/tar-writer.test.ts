import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readContent } from '../../../src/fs/file-content.js';
import { tarChunks, writeTarFile } from '../../../src/fs/tar/writer.js';
import { treeFromTar } from '../../../src/fs/tree-from-tar.js';
import { FileTree } from '../../../src/fs/tree.js';
import { propertyRuns, run } from '../../helpers/tools.js';
import { cleanup } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/** The tar writer against the host's GNU tar (listing and extraction) and our own reader. */

const LONG = `${'d'.repeat(70)}/${'e'.repeat(70)}/${'f'.repeat(80)}`;

function sample(): FileTree {
  const t = new FileTree();
  const m = { sec: 1_321_009_871, nsec: 0 };
  t.mkdir('bin', { mtime: m });
  t.file('bin/busybox', 'BB', { mode: 0o6755, mtime: m });
  t.link('bin/sh', 'bin/busybox');
  t.symlink('bin/ls', 'busybox', { mtime: m });
  t.mkdir('home', { mtime: m });
  t.mkdir('home/user', { uid: 1000, gid: 1000, mode: 0o750, mtime: m });
  t.file('home/user/notes', 'n', { uid: 1000, gid: 100, mode: 0o600, mtime: m });
  t.mkdir('tmp', { mode: 0o1777, mtime: m });
  t.mkdir('dev', { mtime: m });
  t.device('dev/console', 'char', 5, 1, { mode: 0o600, mtime: m });
  t.device('dev/sda', 'block', 8, 0, { mode: 0o660, gid: 6, mtime: m });
  t.special('dev/initctl', 'fifo', { mode: 0o600, mtime: m });
  t.mkdirp(LONG.slice(0, LONG.lastIndexOf('/')), { mtime: m });
  t.file(LONG, 'long', { mtime: m });
  t.symlink('longlink', `../${'x'.repeat(150)}`, { mtime: m });
  t.file('big-uid', 'u', { uid: 3_000_000, gid: 3_000_001, mtime: { sec: 1_600_000_000, nsec: 123_456_789 } });
  t.file('xattr', 'x', { xattrs: { 'user.kiln': 'yes' }, mtime: m });
  t.mkdir('empty', { mtime: m });
  return t;
}

test('tar -tvf lists owners, setuid/sticky modes, devices, fifo, hard and symbolic links, long names', () => {
  const dir = throwawayDir('kiln-src-');
  const path = join(dir, 'out.tar');
  writeTarFile(sample(), path);
  const lines = run('tar', ['--numeric-owner', '-tvf', path]).stdout.trim().split('\n');
  const want = [
    /^drwxr-xr-x 0\/0 +0 2011-11-11 \d\d:11 bin\/$/,
    /^-rwsr-sr-x 0\/0 +2 .* bin\/busybox$/,
    /^lrwxrwxrwx 0\/0 +0 .* bin\/ls -> busybox$/,
    /^hrwsr-sr-x 0\/0 +0 .* bin\/sh link to bin\/busybox$/,
    /^drwxr-xr-x 0\/0 +0 .* dev\/$/,
    /^crw------- 0\/0 +5,1 .* dev\/console$/,
    /^prw------- 0\/0 +0 .* dev\/initctl$/,
    /^brw-rw---- 0\/6 +8,0 .* dev\/sda$/,
  ];
  for (let i = 0; i < want.length; i++) assert.match(lines.filter((l) => /(bin|dev)\//.test(l))[i] ?? '', want[i]!);
  const all = lines.join('\n');
  assert.match(all, /^-rw-r--r-- 3000000\/3000001 +1 .* big-uid$/m);
  assert.match(all, /^drwxr-x--- 1000\/1000 .* home\/user\/$/m);
  assert.match(all, /^-rw------- 1000\/100 .* home\/user\/notes$/m);
  assert.match(all, /^drwxrwxrwt 0\/0 .* tmp\/$/m);
  assert.ok(all.includes(` ${LONG}\n`) || all.endsWith(` ${LONG}`) || all.includes(` ${LONG}`), 'long name via pax');
  assert.ok(all.includes(`longlink -> ../${'x'.repeat(150)}`), 'long link target via pax');
  assert.match(all, /^drwxr-xr-x 0\/0 .* empty\/$/m);
  cleanup(dir);
});

test('host extraction (as root) reproduces owners, modes, devices and hard links; our reader reads it back identically', async () => {
  const dir = throwawayDir('kiln-src-');
  const path = join(dir, 'out.tar');
  const tree = sample();
  writeTarFile(tree, path);
  const out = join(dir, 'x');
  mkdirSync(out);
  run('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', path, '-C', out]);
  const st = (p: string) => lstatSync(join(out, p));
  assert.is(st('bin/busybox').mode & 0o7777, 0o6755);
  assert.is(st('bin/busybox').ino, st('bin/sh').ino);
  assert.is(readlinkSync(join(out, 'bin/ls')), 'busybox');
  assert.is(readFileSync(join(out, LONG), 'utf8'), 'long');
  assert.is(st('tmp').mode & 0o7777, 0o1777);
  if (process.getuid?.() === 0) {
    assert.ok(st('dev/console').isCharacterDevice());
    assert.is(st('dev/console').rdev, (5 << 8) | 1);
    assert.ok(st('dev/sda').isBlockDevice());
    assert.is(st('home/user/notes').uid, 1000);
    assert.is(st('home/user/notes').gid, 100);
    assert.is(st('big-uid').uid, 3_000_000);
  }
  assert.ok(st('dev/initctl').isFIFO());
  const { tree: back, dispose } = await treeFromTar(path);
  const norm = (t: FileTree) =>
    [...t.walk()]
      .filter(([p]) => p !== '')
      .map(([p, i]) =>
        [
          p,
          i.type,
          i.mode,
          i.uid,
          i.gid,
          i.mtime.sec,
          i.mtime.nsec,
          i.target ?? '',
          i.rdev ? `${i.rdev.major}:${i.rdev.minor}` : '',
          i.content ? Buffer.from(readContent(i.content)).toString() : '',
          i.xattrs ? [...i.xattrs].map(([k, v]) => `${k}=${Buffer.from(v)}`).join() : '',
        ].join('|'),
      );
  assert.equal(norm(back), norm(tree));
  assert.is(back.get('bin/sh'), back.get('bin/busybox'), 'hard link identity survives');
  dispose();
  cleanup(dir);
});

test('deterministic: the same tree gives the same bytes', () => {
  const a = Buffer.concat([...tarChunks(sample())]);
  const b = Buffer.concat([...tarChunks(sample())]);
  assert.is(createHash('sha256').update(a).digest('hex'), createHash('sha256').update(b).digest('hex'));
  assert.is(a.length % 512, 0);
});

test('property: generated trees round-trip through the writer and our reader', async () => {
  const dir = throwawayDir('kiln-src-');
  const name = fc.stringMatching(/^[a-z0-9._-]{1,12}$/).filter((n) => n !== '.' && n !== '..');
  const node = fc.record({
    kind: fc.constantFrom('file', 'dir', 'symlink', 'char'),
    mode: fc.integer({ min: 0, max: 0o7777 }),
    uid: fc.integer({ min: 0, max: 5_000_000 }),
    data: fc.uint8Array({ maxLength: 1500 }),
    deep: fc.array(name, { minLength: 1, maxLength: 12 }),
  });
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(node, { maxLength: 12 }), async (nodes) => {
      const t = new FileTree();
      for (const [i, x] of nodes.entries()) {
        const path = `${x.deep.join('/')}-${i}`;
        const parent = path.slice(0, path.lastIndexOf('/'));
        if (parent && t.get(parent) && t.get(parent)!.type !== 'dir') continue;
        if (parent) t.mkdirp(parent);
        const init = { mode: x.mode, uid: x.uid, gid: x.uid % 7 };
        if (x.kind === 'file') t.file(path, x.data, init);
        else if (x.kind === 'dir') t.mkdir(path, init);
        else if (x.kind === 'symlink') t.symlink(path, 'y'.repeat(x.data.length % 200), init);
        else t.device(path, 'char', x.uid % 256, x.mode, init);
      }
      const path = join(dir, `p${n++}.tar`);
      writeTarFile(t, path);
      const { tree: back, dispose } = await treeFromTar(path);
      const norm = (tr: FileTree) =>
        [...tr.walk()]
          .filter(([p]) => p !== '')
          .map(
            ([p, i]) =>
              `${p}|${i.type}|${i.mode}|${i.uid}|${i.gid}|${i.target ?? ''}|${i.rdev?.major ?? ''}:${i.rdev?.minor ?? ''}|${i.content ? Buffer.from(readContent(i.content)).toString('hex') : ''}`,
          );
      try {
        assert.equal(norm(back), norm(t));
      } finally {
        dispose();
      }
    }),
    { numRuns: propertyRuns(40) },
  );
  cleanup(dir);
});

test.run();
