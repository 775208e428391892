import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../src/errors.js';
import { readExt4 } from '../../src/fs/ext4/reader.js';
import { FileSource } from '../../src/fs/file-target.js';
import { MemoryTarget } from '../../src/fs/memory-target.js';
import { writeFat } from '../../src/fs/fat/writer.js';
import { nameToBytes, printableName } from '../../src/fs/name-bytes.js';
import { treeFromDirectory } from '../../src/fs/tree-from-dir.js';
import { FileTree } from '../../src/fs/tree.js';
import { parseGetfattr } from '../../src/fs/xattrs-from-dir.js';
import { archiveTree } from '../../src/pipeline/sources/archive-tree.js';
import { run } from '../helpers/tools.js';

/** Regressions of issue 9 items 1 and 2: names are bytes, xattrs of a directory are read. */

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kiln-bytenames-'));
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function kiln(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A directory with `a\xff` and `a\xfe` (and a symlink to `target\xff\xfe`), and GNU tar's archive of it. */
function collidingSource(): { src: string; tar: string } {
  const src = join(dir, 'colliding');
  mkdirSync(src);
  writeFileSync(Buffer.concat([b(src), b('/a\xff')]), 'ff\n');
  writeFileSync(Buffer.concat([b(src), b('/a\xfe')]), 'fe\n');
  symlinkSync(b('target\xff\xfe'), Buffer.concat([b(src), b('/link')]));
  const tar = join(dir, 'colliding.tar');
  run('tar', ['-cf', tar, '-C', src, '.']);
  return { src, tar };
}

const { src, tar } = collidingSource();

function listing(image: string): string[] {
  const source = new FileSource(image);
  try {
    const r = readExt4(source);
    return r
      .list('')
      .filter((e) => e.name !== 'lost+found')
      .map((e) => `${printableName(e.name)}${e.stat.target !== undefined ? ` -> ${printableName(e.stat.target)}` : ''}`);
  } finally {
    source.close();
  }
}

test("kiln mkfs ext4 --from-tar keeps a\\xff and a\\xfe apart, and the symlink target's bytes", () => {
  const img = join(dir, 'from-tar.img');
  const r = kiln(['mkfs', 'ext4', '--from-tar', tar, img]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(listing(img), ['a\\xfe', 'a\\xff', 'link -> target\\xff\\xfe']);
  // debugfs agrees, byte for byte
  const ls = spawnSync('debugfs', ['-R', 'ls -p /', img]);
  const names = ls.stdout
    .toString('latin1')
    .split('\n')
    .filter((l) => l.startsWith('/'))
    .map((l) => l.split('/')[5]);
  assert.ok(names.includes('a\xff') && names.includes('a\xfe'), names.join(','));
  const stat = spawnSync('debugfs', ['-R', 'stat /link', img]).stdout.toString('latin1');
  assert.match(stat, 'Fast link dest: "target\xff\xfe"');
});

test('kiln mkfs ext4 from a directory with names that are not UTF-8 (was: raw ENOENT lstat)', () => {
  const img = join(dir, 'from-dir.img');
  const r = kiln(['mkfs', 'ext4', src, img]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(listing(img), ['a\\xfe', 'a\\xff', 'link -> target\\xff\\xfe']);
  const fsck = run('e2fsck', ['-fn', img], { allowFail: true });
  assert.is(fsck.status, 0, fsck.stdout);
});

test('a pipeline tar source keeps a\\xff and a\\xfe apart', async () => {
  const tree = await archiveTree(tar, 'colliding.tar', (code, message) => new KilnError(code, message));
  assert.equal(tree.children(''), ['a\udcfe', 'a\udcff', 'link']);
  assert.equal(Buffer.from(nameToBytes(tree.get('link')!.target!)).toString('latin1'), 'target\xff\xfe');
});

test('FAT refuses a name it cannot store, naming the path in printable form', () => {
  const t = new FileTree();
  t.mkdir('boot');
  t.file('boot/a\udcff', 'x');
  try {
    writeFat(t, new MemoryTarget(8 << 20));
    assert.unreachable('accepted');
  } catch (e) {
    assert.instance(e, KilnError);
    assert.match((e as KilnError).message, "'boot/a\\xff'");
    assert.match((e as KilnError).message, 'not UTF-8');
  }
  const r = kiln(['mkfs', 'fat', src, join(dir, 'fat.img')]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /kiln: error: 'a\\xf[ef]'/);
});

test('xattrs of a source directory are read (user.*, names as bytes), not dropped', () => {
  const d = join(dir, 'xattrs');
  mkdirSync(d);
  writeFileSync(join(d, 'f'), 'x');
  writeFileSync(Buffer.concat([b(d), b('/g\xff')]), 'y');
  writeFileSync(join(dir, 'xattrs.dump'), b('# file: ./f\nuser.plain=0sAAEC\nuser.n\\075x\\377=0seQ==\n\n# file: ./g\\377\nuser.g=0sZw==\n\n'));
  const set = spawnSync('setfattr', [`--restore=${join(dir, 'xattrs.dump')}`], { cwd: d, env: { ...process.env, LC_ALL: 'C' }, encoding: 'utf8' });
  assert.is(set.status, 0, set.stderr);
  const warnings: string[] = [];
  const tree = treeFromDirectory(d, { onWarning: (m) => warnings.push(m) });
  assert.equal(warnings, []);
  assert.equal([...tree.get('f')!.xattrs!.keys()].sort(), ['user.n=x\udcff', 'user.plain']);
  assert.equal([...tree.get('f')!.xattrs!.get('user.plain')!], [0, 1, 2]);
  assert.equal(Buffer.from(tree.get('g\udcff')!.xattrs!.get('user.g')!).toString(), 'g');
  // through ext4 and kiln's reader
  const img = join(dir, 'xattrs.img');
  const r = kiln(['mkfs', 'ext4', d, img]);
  assert.is(r.status, 0, r.stderr);
  const source = new FileSource(img);
  try {
    const st = readExt4(source).stat('f');
    assert.equal(Buffer.from(st.xattrs!.get('user.n=x\udcff')!).toString(), 'y');
  } finally {
    source.close();
  }
});

test('getfattr output: octal escapes, raw bytes, empty values, the root', () => {
  const out = parseGetfattr(b('# file: .\nuser.r=0scg==\n\n# file: ./a\\012b\\134\xff\nuser.x\\075y=0s\nuser.e\nuser.h=0x0102\nuser.t="q\\042"\n\n'));
  assert.equal([...out.keys()], ['', 'a\nb\\\udcff']);
  const a = out.get('a\nb\\\udcff')!;
  assert.equal([...a.keys()], ['user.x=y', 'user.e', 'user.h', 'user.t']);
  assert.equal([...a.get('user.h')!], [1, 2]);
  assert.equal(Buffer.from(a.get('user.t')!).toString(), 'q"');
});

test('without getfattr, treeFromDirectory warns that xattrs were not read (never silent)', () => {
  const warnings: string[] = [];
  const path = process.env.PATH;
  process.env.PATH = join(dir, 'empty-path');
  try {
    treeFromDirectory(src, { onWarning: (m) => warnings.push(m) });
  } finally {
    process.env.PATH = path;
  }
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'were not read: getfattr is not installed');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
