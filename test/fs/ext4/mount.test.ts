/**
 * A Linux kernel mounts our images: loop-mounted read-only (this needs root and loop devices,
 * as on CI), then walked through the kernel's VFS and compared with the tree: types, modes,
 * owners, sizes, nanosecond mtimes, device numbers, link counts, hard-link identity, symlink
 * targets, content and xattrs (getfattr). Checksum or structure errors surface as I/O errors.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTree, SparseFileTarget, planExt4, readContent, writeExt4, type Inode } from '../../../src/index.js';
import { requireTool, run } from '../../helpers/tools.js';
import { buildTree, treeSpecArb } from './arbitrary.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-ext4-mount-'));

function requireLoopMount(): void {
  if (process.getuid?.() !== 0) throw new Error('the mount test loop-mounts images and needs root (CI runs as root)');
  if (!existsSync('/dev/loop-control')) throw new Error('the mount test needs loop devices (/dev/loop-control is missing)');
  requireTool('mount');
  requireTool('getfattr');
}

const S_IFMT: Record<Inode['type'], number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
  socket: 0o140000,
};

/** Mounts `image` read-only, runs `fn` on the mount point, always unmounts. */
function withMount<T>(image: string, fn: (mnt: string) => T): T {
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt, { recursive: true });
  run('mount', ['-t', 'ext4', '-o', 'loop,ro', image, mnt]);
  try {
    return fn(mnt);
  } finally {
    run('umount', [mnt]);
  }
}

function compareMounted(mnt: string, tree: FileTree): string[] {
  const problems: string[] = [];
  const inoOf = new Map<Inode, bigint>();
  for (const [path, node] of tree.walk()) {
    const host = path === '' ? mnt : join(mnt, path);
    let st;
    try {
      st = lstatSync(host, { bigint: true });
    } catch (e) {
      problems.push(`/${path}: ${(e as Error).message}`);
      continue;
    }
    const where = `/${path}`;
    if (Number(st.mode) !== (S_IFMT[node.type] | node.mode))
      problems.push(`${where}: mode ${st.mode.toString(8)}, expected ${(S_IFMT[node.type] | node.mode).toString(8)}`);
    if (Number(st.uid) !== node.uid || Number(st.gid) !== node.gid) problems.push(`${where}: owner ${st.uid}:${st.gid}, expected ${node.uid}:${node.gid}`);
    const mtimeNs = BigInt(node.mtime.sec) * 1_000_000_000n + BigInt(node.mtime.nsec);
    if (st.mtimeNs !== mtimeNs) problems.push(`${where}: mtime ${st.mtimeNs}ns, expected ${mtimeNs}ns`);
    const prev = inoOf.get(node);
    if (prev !== undefined && prev !== st.ino) problems.push(`${where}: hard link is inode ${st.ino}, expected ${prev}`);
    inoOf.set(node, st.ino);
    if (node.type === 'file') {
      const want = readContent(node.content!);
      const got = readFileSync(host);
      if (Buffer.compare(got, Buffer.from(want)) !== 0) problems.push(`${where}: content differs`);
    } else if (node.type === 'symlink') {
      const got = readlinkSync(host);
      if (got !== node.target) problems.push(`${where}: link target '${got}', expected '${node.target}'`);
    } else if (node.type === 'char' || node.type === 'block') {
      const rdev = Number(st.rdev);
      const major = ((rdev >> 8) & 0xfff) | ((rdev / 2 ** 32) & ~0xfff);
      const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
      if (major !== node.rdev!.major || minor !== node.rdev!.minor)
        problems.push(`${where}: device ${major}:${minor}, expected ${node.rdev!.major}:${node.rdev!.minor}`);
    }
    if (node.xattrs && node.xattrs.size > 0) {
      const r = spawnSync('getfattr', ['--absolute-names', '-h', '-d', '-m', '-', '-e', 'hex', host], { encoding: 'utf8' });
      for (const [name, value] of node.xattrs) {
        // The kernel keeps user.* attributes to regular files and directories.
        if (name.startsWith('user.') && node.type !== 'file' && node.type !== 'dir') continue;
        const m = new RegExp(`^${name.replace(/\./g, '\\.')}(?:=(?:0x)?([0-9a-f]*))?$`, 'm').exec(r.stdout);
        const got = m ? (m[1] ?? '') : undefined;
        if (got !== Buffer.from(value).toString('hex')) problems.push(`${where}: xattr ${name} = ${got}, expected ${Buffer.from(value).toString('hex')}`);
      }
    }
  }
  return problems;
}

function mountAndCompare(tree: FileTree, options: { blockSize?: 1024 | 4096 } = {}): void {
  const image = join(dir, 'm.img');
  const plan = planExt4(tree, options);
  const target = SparseFileTarget.create(image, Math.max(plan.minimumSize, 16 << 20));
  writeExt4(tree, target, options);
  target.commit();
  try {
    const problems = withMount(image, (mnt) => compareMounted(mnt, tree));
    assert.equal(problems, []);
  } finally {
    rmSync(image, { force: true });
  }
}

test('the kernel mounts a hand-made tree with every content kind and reads it back', () => {
  requireLoopMount();
  const t = new FileTree({ mode: 0o755, mtime: { sec: 1_700_000_000, nsec: 123_456_789 } });
  t.mkdir('etc', { mtime: { sec: -1_000_000, nsec: 5 } });
  t.file('etc/hostname', 'kiln\n', { uid: 100_000, gid: 200_000, mtime: { sec: 4_000_000_000, nsec: 999_999_999 } });
  t.link('etc/hostname-link', 'etc/hostname');
  t.file(
    'etc/sparse',
    Uint8Array.from({ length: 3 * 4096 + 100 }, (_, i) => (i < 4096 ? 0 : i >= 8192 && i < 12288 ? 0 : (i % 251) + 1)),
  );
  t.file('empty', '');
  t.file('caps', 'x', {
    mode: 0o4711,
    xattrs: {
      'security.capability': Uint8Array.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      'user.note': 'a note',
      'user.big': new Uint8Array(700).fill(9),
    },
  });
  // A POSIX ACL (user:1000:rw-, mask rw-) in the xattr format; ext4 stores its own version.
  const acl = Uint8Array.from([
    2, 0, 0, 0, 1, 0, 6, 0, 255, 255, 255, 255, 2, 0, 6, 0, 232, 3, 0, 0, 4, 0, 4, 0, 255, 255, 255, 255, 16, 0, 6, 0, 255, 255, 255, 255, 32, 0, 4, 0, 255,
    255, 255, 255,
  ]);
  t.file('acl', 'x', { xattrs: { 'system.posix_acl_access': acl } });
  t.symlink('fast', 'etc/hostname');
  t.symlink('slow', `${'deep/'.repeat(30)}target`);
  t.device('null', 'char', 1, 3, { mode: 0o666 });
  t.device('disk', 'block', 259, 70_000);
  t.special('pipe', 'fifo');
  t.special('sock', 'socket');
  t.mkdir('tmp', { mode: 0o1777 });
  t.mkdir('many');
  for (let i = 0; i < 3000; i++) t.file(`many/f${i}`, `${i}`);
  mountAndCompare(t);
  mountAndCompare(t, { blockSize: 1024 });
});

test('the kernel mounts generated trees and reads them back', () => {
  requireLoopMount();
  fc.assert(
    fc.property(treeSpecArb, (spec) => {
      mountAndCompare(buildTree(spec), { blockSize: spec.blockSize });
    }),
    { numRuns: 12, includeErrorInReport: true },
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
