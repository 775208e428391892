/**
 * The ext4 reader against mke2fs and debugfs: generated trees are written as real directories,
 * turned into images by `mke2fs -d` under several feature sets (ext2/ext3 block maps, 32-bit
 * descriptors, 128-byte inodes, inline data, 1 KiB and 4 KiB blocks, htree after e2fsck -D),
 * and read back: every path, type, mode, owner, size, time, link count, hard-link identity,
 * device number, symlink target, xattr and byte of content must match the tree, and debugfs
 * must agree with the reader on every inode.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INODE_FLAG } from '../../../src/fs/ext4/constants.js';
import { FileSource, readExt4, type FsStat } from '../../../src/index.js';
import { propertyRuns, run } from '../../helpers/tools.js';
import {
  debugfsStats,
  expectedContent,
  expectedLinks,
  imageKiB,
  materialize,
  mke2fs,
  rdump,
  readerWalk,
  treeSpecArb,
  type DebugfsStat,
  type TreeSpec,
} from './read-helpers.js';

/** mke2fs feature sets the reader must handle, and whether e2fsck -D may index directories. */
/**
 * `dropsTrailingHole`: mke2fs 1.47 with inline_data loses the hole at the end of a sparse file
 * (the size stops at the block holding the last data); debugfs shows the same, so the reader
 * is held to the bytes that are there.
 */
const CONFIGS: { args: string[]; index: boolean; nsec: boolean; dropsTrailingHole?: boolean }[] = [
  { args: ['-t', 'ext4'], index: true, nsec: true },
  { args: ['-t', 'ext4', '-b', '4096'], index: true, nsec: true },
  { args: ['-t', 'ext4', '-b', '1024', '-O', '^64bit'], index: true, nsec: true },
  { args: ['-t', 'ext4', '-O', '^metadata_csum,^64bit', '-I', '128'], index: true, nsec: false },
  { args: ['-t', 'ext4', '-O', 'inline_data'], index: false, nsec: true, dropsTrailingHole: true },
  { args: ['-t', 'ext3', '-b', '1024'], index: true, nsec: true },
  { args: ['-t', 'ext2', '-b', '4096'], index: false, nsec: true },
  { args: ['-t', 'ext2', '-b', '1024', '-I', '128'], index: false, nsec: false },
];

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

function compareWithSpec(spec: TreeSpec, stats: Map<string, FsStat>, readFile: (p: string) => Uint8Array, dropsTrailingHole = false): void {
  const links = expectedLinks(spec);
  const want = new Map(spec.paths);
  const got = [...stats.keys()].filter((p) => p !== 'lost+found' && !p.startsWith('lost+found/')).sort();
  assert.equal(got, [...want.keys()].sort(), 'the same paths');
  const inoOf = new Map<object, number>();
  for (const [p, n] of want) {
    const st = stats.get(p)!;
    const at = `at '${p}'`;
    assert.is(st.type, n.kind, `type ${at}`);
    assert.is(st.mode, n.mode, `mode ${at}`);
    assert.is(st.uid, n.uid, `uid ${at}`);
    assert.is(st.gid, n.gid, `gid ${at}`);
    assert.is(st.mtime.sec, n.mtime, `mtime ${at}`);
    // mke2fs reads files with O_NOATIME; readlink and readdir may bump atime on the host.
    if (n.kind === 'file') assert.is(st.atime?.sec, n.atime, `atime ${at}`);
    const nlink = links.get(p)!;
    assert.is(st.nlink, nlink, `links ${at}`);
    const prev = inoOf.get(n);
    if (prev === undefined) inoOf.set(n, st.ino);
    else assert.is(st.ino, prev, `hard link ${at} shares the inode`);
    if (n.kind === 'file') {
      const want = expectedContent(n);
      const dataEnd = Math.max(0, ...(n.pieces ?? []).map((x) => x.offset + x.length));
      if (dropsTrailingHole && st.size !== n.size) {
        assert.ok(st.size >= dataEnd && st.size < n.size!, `size ${at}: ${st.size} is not between the data end ${dataEnd} and ${n.size}`);
        assert.ok(sameBytes(readFile(p), want.subarray(0, st.size)), `content ${at}`);
      } else {
        assert.is(st.size, n.size, `size ${at}`);
        assert.ok(sameBytes(readFile(p), want), `content ${at}`);
      }
    }
    if (n.kind === 'symlink') assert.is(st.target, n.target, `target ${at}`);
    if (n.kind === 'char' || n.kind === 'block') assert.is(`${st.rdev?.major}:${st.rdev?.minor}`, `${n.rdev!.major}:${n.rdev!.minor}`, `rdev ${at}`);
    const xattrs = [...(st.xattrs ?? new Map<string, Uint8Array>())].map(([k, v]) => [k, Buffer.from(v).toString('hex')]).sort();
    const wantX = (n.xattrs ?? []).map(([k, v]) => [k, Buffer.from(v).toString('hex')]).sort();
    assert.equal(xattrs, wantX, `xattrs ${at}`);
  }
  const inos = new Set(inoOf.values());
  assert.is(inos.size, inoOf.size, 'distinct tree inodes have distinct inode numbers');
}

function compareWithDebugfs(stats: Map<string, FsStat>, dbg: Map<string, DebugfsStat>, nsec: boolean): void {
  for (const [p, st] of stats) {
    const d = dbg.get(p)!;
    const at = `at '${p}'`;
    assert.is(st.ino, d.ino, `inode number ${at}`);
    assert.is(st.type, d.type, `type ${at}`);
    assert.is(st.mode, d.mode & 0o7777, `mode ${at}`);
    assert.is(st.uid, d.uid, `uid ${at}`);
    assert.is(st.gid, d.gid, `gid ${at}`);
    assert.is(st.size, d.size, `size ${at}`);
    assert.is(st.nlink, d.links, `links ${at}`);
    for (const k of ['ctime', 'atime', 'mtime', 'crtime'] as const) {
      const t = d.times[k];
      const mine = st[k];
      if (!t) {
        assert.is(mine, undefined, `${k} ${at}: debugfs shows none`);
        continue;
      }
      assert.ok(mine, `${k} ${at}`);
      const [lo, extra] = t;
      assert.is(mine!.sec, lo + (extra === undefined ? 0 : (extra & 3) * 2 ** 32), `${k} seconds ${at}`);
      assert.is(mine!.nsec, extra === undefined ? 0 : extra >>> 2, `${k} nanoseconds ${at}`);
    }
    if (nsec && st.type !== 'dir') assert.ok(st.crtime !== undefined, `crtime ${at}`);
    if (d.rdev) assert.is(`${st.rdev?.major}:${st.rdev?.minor}`, `${d.rdev.major}:${d.rdev.minor}`, `rdev ${at}`);
    if (d.fastLink !== undefined && /^[a-z./_-]*$/.test(d.fastLink)) assert.is(st.target, d.fastLink, `fast symlink ${at}`);
    const names = [...(st.xattrs ?? new Map<string, Uint8Array>())].map(([k, v]) => `${k}:${v.length}`).sort();
    // system.data holds inline data (the kernel hides it too); debugfs lists it.
    const theirs = [...d.xattrs].filter(([k]) => k !== 'system.data').map(([k, n]) => `${k}:${n}`);
    assert.equal(names, theirs.sort(), `xattr names and sizes ${at}`);
  }
}

/**
 * debugfs rdump writes files and symlinks out: they must match what the reader reads. (For
 * inline-data files debugfs 1.47 dumps all 60 bytes of i_block whatever the size: there the
 * common prefix must match, and the spec comparison checks the size.)
 */
function compareWithRdump(stats: Map<string, FsStat>, dbg: Map<string, DebugfsStat>, dumped: string, readFile: (p: string) => Uint8Array): void {
  for (const [p, st] of stats) {
    if (st.type === 'file') {
      const theirs: Uint8Array = readFileSync(join(dumped, p));
      let ours = readFile(p);
      if (dbg.get(p)!.flags & INODE_FLAG.INLINE_DATA) {
        // debugfs dumps inline data by the i_block and system.data lengths, not i_size.
        const n = Math.min(theirs.length, ours.length);
        assert.ok(sameBytes(theirs.subarray(0, n), ours.subarray(0, n)), `rdump content of inline '${p}'`);
        ours = theirs;
      }
      assert.ok(sameBytes(theirs, ours), `rdump content of '${p}'`);
    }
    if (st.type === 'symlink') assert.is(readlinkSync(join(dumped, p), 'utf8'), st.target, `rdump target of '${p}'`);
  }
}

test('reader agrees with the tree and with debugfs on mke2fs -d images of generated trees', async () => {
  const base = mkdtempSync(join(tmpdir(), 'kiln-read-'));
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(treeSpecArb, fc.nat(CONFIGS.length - 1), fc.boolean(), async (spec, c, index) => {
        const work = join(base, String(n++));
        const src = join(work, 'src');
        mkdirSync(src, { recursive: true });
        try {
          await materialize(spec, src);
          const config = CONFIGS[c]!;
          const image = join(work, 'img');
          mke2fs(image, src, imageKiB(spec), config.args);
          if (index && config.index) run('e2fsck', ['-fyD', image], { allowFail: true });
          const fsck = run('e2fsck', ['-fn', image], { allowFail: true });
          assert.is(fsck.status, 0, `e2fsck -fn on the mke2fs image: ${fsck.stdout}`);
          const source = new FileSource(image);
          try {
            const reader = readExt4(source);
            const stats = readerWalk(reader);
            const readFile = (p: string): Uint8Array => reader.readFile(p);
            compareWithSpec(spec, stats, readFile, config.dropsTrailingHole);
            const dbg = debugfsStats(image, [...stats.keys()], join(work, 'cmds'));
            compareWithDebugfs(stats, dbg, config.nsec);
            const dumped = join(work, 'rdump');
            mkdirSync(dumped);
            rdump(image, dumped);
            compareWithRdump(stats, dbg, dumped, readFile);
            assert.equal(reader.verifyAll(), [], 'no checksum errors');
          } finally {
            source.close();
          }
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      }),
      // KILN_NO_SHRINK=1 reports the first failing tree as generated (shrinking spawns tools for minutes).
      { numRuns: propertyRuns(100), includeErrorInReport: true, endOnFailure: process.env.KILN_NO_SHRINK === '1' },
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  assert.ok(n >= 100, `ran ${n} trees`);
});

test.run();
