import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTree, KilnError, readContent, type Inode } from '../../../src/index.js';
import type { FileContent } from '../../../src/fs/file-content.js';
import { initramfsBytes } from '../../../src/fs/cpio/newc-writer.js';
import { parseNewc } from '../../../src/fs/cpio/newc-header.js';
import { propertyRuns, requireTool, run, runBuffer } from '../../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cpio-'));
const repo = new URL('../../..', import.meta.url).pathname;
const gunzip = (b: Uint8Array): Buffer => execFileSync('gzip', ['-dc'], { input: b, maxBuffer: 1 << 30 });

/** `cpio -tv --numeric-uid-gid` as {name → line fields}. */
function cpioList(archive: Uint8Array): Map<string, { mode: string; nlink: number; uid: number; gid: number; size: string; target?: string }> {
  requireTool('cpio');
  const r = spawnSync('cpio', ['-tv', '--numeric-uid-gid', '--quiet'], {
    input: archive,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC' },
  });
  assert.is(r.status, 0, r.stderr);
  const out = new Map();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const m = /^(\S{10})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+,\s+\d+|\d+)\s+\S+\s+\d+\s+\S+\s(.*)$/.exec(line);
    assert.ok(m, `unparsed cpio line: ${line}`);
    let name = m![6]!;
    let target: string | undefined;
    if (m![1]!.startsWith('l')) [name, target] = name.split(' -> ') as [string, string];
    out.set(name, { mode: m![1]!, nlink: Number(m![2]), uid: Number(m![3]), gid: Number(m![4]), size: m![5]!.replace(/\s+/g, ' '), target });
  }
  return out;
}

const TYPE_CHAR: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };
function modeString(inode: Inode): string {
  const m = inode.mode;
  const rwx = (bits: number, special: boolean, ch: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-'}`;
  return TYPE_CHAR[inode.type] + rwx((m >> 6) & 7, !!(m & 0o4000), 's') + rwx((m >> 3) & 7, !!(m & 0o2000), 's') + rwx(m & 7, !!(m & 0o1000), 't');
}

const name = fc
  .oneof(fc.stringMatching(/^[a-zA-Z0-9._-]{1,20}$/), fc.constantFrom('é', 'ünïcödé', '日本語', 'a b', 'x\u00a0y'))
  .filter((n) => n !== '.' && n !== '..');
const nodeArb = fc.record({
  name,
  kind: fc.constantFrom('file', 'file', 'file', 'dir', 'symlink', 'char', 'block', 'fifo', 'link'),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.integer({ min: 0, max: 70000 }),
  gid: fc.integer({ min: 0, max: 70000 }),
  mtime: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  data: fc.uint8Array({ maxLength: 3000 }),
  parent: fc.nat(),
  major: fc.integer({ min: 0, max: 4095 }),
  minor: fc.integer({ min: 0, max: 1 << 20 }),
});

type GenNode = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
function buildTree(nodes: GenNode[]): FileTree {
  const t = new FileTree({ mode: 0o755 });
  const dirs = [''];
  const files: string[] = [];
  for (const n of nodes) {
    const parent = dirs[n.parent % dirs.length]!;
    const path = parent ? `${parent}/${n.name}` : n.name;
    if (t.has(path)) continue;
    const init = { mode: n.mode, uid: n.uid, gid: n.gid, mtime: { sec: n.mtime, nsec: 0 } };
    switch (n.kind) {
      case 'file':
        t.file(path, n.data, init);
        files.push(path);
        break;
      case 'dir':
        t.mkdir(path, init);
        dirs.push(path);
        break;
      case 'symlink':
        t.symlink(path, `target/${n.name}`, { ...init, mode: 0o777 });
        break;
      case 'char':
      case 'block':
        t.device(path, n.kind, n.major, n.minor, init);
        break;
      case 'fifo':
        t.special(path, 'fifo', init);
        break;
      case 'link':
        if (files.length) t.link(path, files[n.parent % files.length]!);
        break;
    }
  }
  return t;
}

test('property: gzip -t and cpio -tv accept it; names, modes, owners, sizes, links and data read back', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(nodeArb, { maxLength: 40 }), async (nodes) => {
      const tree = buildTree(nodes);
      const gz = await initramfsBytes(tree);
      const r = spawnSync('gzip', ['-t'], { input: gz });
      assert.is(r.status, 0, 'gzip -t failed');
      const archive = gunzip(gz);
      assert.equal(new Uint8Array(archive), await initramfsBytes(tree, { compress: false }));
      const listed = cpioList(archive);
      const entries = parseNewc(archive);
      const byName = new Map(entries.map((e) => [e.name, e]));
      const counts = tree.linkCounts();
      let n = 0;
      const inos = new Map<Inode, number>();
      for (const [path, inode] of tree.walk()) {
        n++;
        const nm = path === '' ? '.' : path;
        const l = listed.get(nm);
        assert.ok(l, `cpio -t does not list '${nm}'`);
        assert.is(l!.mode, modeString(inode), `mode of ${nm}`);
        assert.is(l!.uid, inode.uid);
        assert.is(l!.gid, inode.gid);
        const e = byName.get(nm)!;
        assert.is(e.mtime, inode.mtime.sec);
        if (inode.type === 'char' || inode.type === 'block') assert.is(l!.size, `${inode.rdev!.major}, ${inode.rdev!.minor}`);
        if (inode.type === 'symlink') assert.is(l!.target, inode.target);
        if (inode.type === 'file') {
          assert.is(e.nlink, counts.get(inode));
          if (inos.has(inode)) assert.is(e.ino, inos.get(inode), `hard link ${nm} shares the inode number`);
          else inos.set(inode, e.ino);
        }
      }
      assert.is(entries.length, n);
      // Hard-link sets: the data is on exactly one entry, the last.
      for (const [inode, ino] of inos) {
        const set = entries.filter((e) => e.ino === ino);
        set.forEach((e, i) => assert.is(e.size, i === set.length - 1 ? inode.content!.size : 0));
        const last = set[set.length - 1]!;
        assert.equal(new Uint8Array(archive.subarray(last.dataOffset, last.dataOffset + last.size)), readContent(inode.content!));
      }
      // Distinct inodes get distinct numbers.
      assert.is(new Set(inos.values()).size, inos.size);
    }),
    { numRuns: propertyRuns(60), includeErrorInReport: true },
  );
});

test('same tree in any insertion order gives the same bytes', async () => {
  const a = new FileTree();
  a.mkdir('b');
  a.file('b/2', 'two');
  a.file('a', 'one');
  a.link('b/1', 'a');
  const b = new FileTree();
  b.file('a', 'one');
  b.mkdir('b');
  b.link('b/1', 'a');
  b.file('b/2', 'two');
  assert.equal(await initramfsBytes(a), await initramfsBytes(b));
});

test('root owner policy, SOURCE_DATE_EPOCH clamp, trailer', async () => {
  const t = new FileTree();
  t.file('f', 'x', { uid: 1000, gid: 100, mtime: { sec: 2_000_000_000, nsec: 5 } });
  t.file('old', 'y', { mtime: { sec: 1000, nsec: 0 } });
  const raw = await initramfsBytes(t, { compress: false, owners: 'root', sourceDateEpoch: 1_700_000_000 });
  const e = parseNewc(raw);
  assert.equal(
    e.map((x) => [x.name, x.uid, x.gid, x.mtime]),
    [
      ['.', 0, 0, 0],
      ['f', 0, 0, 1_700_000_000],
      ['old', 0, 0, 1000],
    ],
  );
  assert.ok(Buffer.from(raw).includes('TRAILER!!!'));
});

test('files of 4 GiB or more are refused before anything is written', async () => {
  const t = new FileTree();
  const huge: FileContent = {
    size: 2 ** 32,
    open: () => ({
      read: () => {
        throw new Error('must not be read');
      },
      close() {},
    }),
  };
  t.file('big', huge);
  let wrote = 0;
  const { writeInitramfs } = await import('../../../src/fs/cpio/initramfs.js');
  await writeInitramfs(t, { write: () => void wrote++ }).then(
    () => assert.unreachable('should refuse'),
    (e: unknown) => assert.ok(e instanceof KilnError && /below 4 GiB/.test(e.message), String(e)),
  );
  assert.is(wrote, 0);
});

test('a file that shrinks while being written fails the write (small and streamed files)', async () => {
  for (const size of [100, 3 * 1024 * 1024]) {
    const t = new FileTree();
    t.file('a', 'first');
    const shrinking: FileContent = { size, open: () => ({ read: (_off, into) => Math.min(into.length, 10), close() {} }) };
    t.file('b', shrinking);
    t.file('c', 'after');
    const { writeInitramfs } = await import('../../../src/fs/cpio/initramfs.js');
    await writeInitramfs(t, { write() {} }).then(
      () => assert.unreachable('should fail'),
      (e: unknown) => assert.match(String(e), /shrank/),
    );
  }
});

test('large files stream through and extract identically with cpio -i', async () => {
  const t = new FileTree();
  const big = new Uint8Array(5 * 1024 * 1024 + 3);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  t.file('big.bin', big);
  t.mkdir('d');
  t.file('d/small', 'small');
  t.symlink('d/ln', '../../big.bin');
  const raw = await initramfsBytes(t, { compress: false });
  const x = join(dir, 'x-big');
  mkdirSync(x);
  const r = spawnSync('cpio', ['-id', '--quiet', '--no-absolute-filenames'], { cwd: x, input: raw });
  assert.is(r.status, 0, String(r.stderr));
  assert.equal(new Uint8Array(readFileSync(join(x, 'big.bin'))), big);
  assert.is(readFileSync(join(x, 'd/small'), 'utf8'), 'small');
  assert.is(readlinkSync(join(x, 'd/ln')), '../../big.bin');
});

test('kiln mkinitramfs: directory and tar sources, root owners by default, --keep-owner, atomic output', () => {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'bin'), { recursive: true });
  writeFileSync(join(src, 'init'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(src, 'bin', 'a'), 'aaa');
  linkSync(join(src, 'bin', 'a'), join(src, 'bin', 'b'));
  symlinkSync('a', join(src, 'bin', 'c'));
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    execFileSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, ...env },
    });
  const out = join(dir, 'initrd.img');
  cli(['mkinitramfs', src, out], { SOURCE_DATE_EPOCH: '1000' });
  run('gzip', ['-t', out]);
  const listed = cpioList(gunzip(readFileSync(out)));
  assert.equal([...listed.keys()], ['.', 'bin', 'bin/a', 'bin/b', 'bin/c', 'init']);
  assert.ok([...listed.values()].every((l) => l.uid === 0 && l.gid === 0));
  assert.is(listed.get('init')!.mode, '-rwxr-xr-x');
  assert.is(listed.get('bin/b')!.nlink, 2);
  const again = join(dir, 'again.img');
  cli(['mkinitramfs', src, again], { SOURCE_DATE_EPOCH: '1000' });
  assert.equal(readFileSync(again), readFileSync(out), 'two runs give the same bytes');
  // tar source keeps the archive's owners with --keep-owner
  const tar = join(dir, 'src.tar');
  run('tar', ['--owner=1234', '--group=99', '-cf', tar, '-C', src, '.']);
  const raw = join(dir, 'tar.cpio');
  cli(['mkinitramfs', '--from-tar', '--keep-owner', '--no-compress', tar, raw]);
  const l2 = cpioList(readFileSync(raw));
  assert.is(l2.get('init')!.uid, 1234);
  assert.is(l2.get('init')!.gid, 99);
  const missing = join(dir, 'missing.img');
  assert.throws(() => cli(['mkinitramfs', join(dir, 'nope'), missing]), /does not exist/);
  assert.not.ok(existsSync(missing));
  assert.ok(lstatSync(out).size > 0);
  assert.ok(runBuffer('gzip', ['-dc', out]).length % 4 === 0);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
