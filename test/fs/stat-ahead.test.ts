import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToName } from '../../src/fs/name-bytes.js';
import { STAT, STAT_AHEAD_AFTER, STAT_FIELDS, StatAhead } from '../../src/fs/stat-ahead.js';
import { treeFromDirectory } from '../../src/fs/tree-from-dir.js';
import type { Inode } from '../../src/fs/tree.js';

/**
 * Trees past STAT_AHEAD_AFTER entries, whose directories a worker lists ahead of the walk, read
 * back as find(1) sees them: every path, type, mode, size, link count and mtime to the
 * nanosecond. Names whose UTF-16 order is not their byte order, and a name that is not UTF-8
 * (where the worker stops and the walk goes on alone), are among them.
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-stat-ahead-'));

interface Seen {
  type: string;
  mode: number;
  size: number;
  nlink: number;
  mtime: string;
}

/** What find(1) says of every path under `root` (paths as tree names). */
function findTree(root: string): Map<string, Seen> {
  const r = spawnSync('find', [root, '-mindepth', '1', '-printf', '%P\\0%y\\0%m\\0%s\\0%n\\0%T@\\0']);
  if (r.error) throw new Error(`find could not run (Debian package findutils): ${r.error.message}`);
  assert.is(r.status, 0, r.stderr?.toString());
  const fields: Buffer[] = [];
  for (let at = 0; at < r.stdout.length; ) {
    const end = r.stdout.indexOf(0, at);
    fields.push(r.stdout.subarray(at, end));
    at = end + 1;
  }
  const out = new Map<string, Seen>();
  for (let i = 0; i + 6 <= fields.length; i += 6) {
    const [path, type, mode, size, nlink, mtime] = fields.slice(i, i + 6);
    out.set(bytesToName(path!), {
      type: type!.toString(),
      mode: Number.parseInt(mode!.toString(), 8),
      size: Number(size!.toString()),
      nlink: Number(nlink!.toString()),
      mtime: mtime!.toString(),
    });
  }
  return out;
}

const TYPE: Record<Inode['type'], string> = { file: 'f', dir: 'd', symlink: 'l', fifo: 'p', socket: 's', char: 'c', block: 'b' };

/** The tree read from `root`, as findTree shows it. */
function readTree(root: string): Map<string, Seen> {
  const tree = treeFromDirectory(root, { xattrs: false });
  const links = tree.linkCounts();
  const out = new Map<string, Seen>();
  for (const [path, inode] of tree.walk()) {
    if (path === '') continue;
    out.set(path, {
      type: TYPE[inode.type],
      mode: inode.mode,
      size: inode.type === 'file' ? inode.content!.size : -1,
      nlink: inode.type === 'dir' ? -1 : links.get(inode)!,
      mtime: `${inode.mtime.sec}.${String(inode.mtime.nsec).padStart(9, '0')}`,
    });
  }
  return out;
}

function compare(root: string): number {
  const want = findTree(root);
  const got = readTree(root);
  assert.equal([...got.keys()].sort(), [...want.keys()].sort(), 'the same paths');
  for (const [path, w] of want) {
    const g = got.get(path)!;
    assert.is(g.type, w.type, `type of ${path}`);
    assert.is(g.mode, w.mode, `mode of ${path}`);
    if (w.type === 'f') assert.is(g.size, w.size, `size of ${path}`);
    if (w.type !== 'd') assert.is(g.nlink, w.nlink, `links of ${path}`);
    // find prints ten fractional digits of a nanosecond time
    assert.is(`${g.mtime}0`, w.mtime, `mtime of ${path}`);
  }
  return want.size;
}

/** A first directory past the threshold, then many directories for the worker. */
function bigTree(name: string): string {
  const root = join(dir, name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'a'), { recursive: true });
  for (let i = 0; i < STAT_AHEAD_AFTER + 10; i++) writeFileSync(join(root, 'a', `f${i}`), `${i}`);
  for (let d = 0; d < 60; d++) {
    const sub = join(root, 'b', `d${d}`, `e${d % 7}`);
    mkdirSync(sub, { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(join(sub, `g${i}`), 'x'.repeat((d * 40 + i) % 97), { mode: 0o600 + (i % 2) * 0o44 });
    mkdirSync(join(root, 'b', `d${d}`, 'empty'));
  }
  // byte order puts U+1F600 (4 bytes) after U+FF5E (3 bytes); UTF-16 units put it before
  for (const n of ['\u{1F600}', '\uFF5E', 'z', 'A']) {
    mkdirSync(join(root, 'c', n), { recursive: true });
    writeFileSync(join(root, 'c', n, 'inside'), n);
  }
  linkSync(join(root, 'a', 'f1'), join(root, 'b', 'd3', 'hard'));
  symlinkSync('../a/f2', join(root, 'b', 'sym'));
  const fifo = spawnSync('mkfifo', [join(root, 'b', 'd5', 'fifo')]);
  assert.is(fifo.status, 0, 'mkfifo');
  return root;
}

test('a tree past the threshold reads back as find sees it', () => {
  const root = bigTree('big');
  assert.ok(compare(root) > STAT_AHEAD_AFTER + 60 * 40);
});

test('a name that is not UTF-8 after the threshold: the walk goes on without the worker', () => {
  const root = bigTree('raw');
  const raw = Buffer.concat([Buffer.from(join(root, 'b', 'd20')), Buffer.from([0x2f, 0x6e, 0xff, 0x6e])]);
  mkdirSync(raw);
  writeFileSync(Buffer.concat([raw, Buffer.from('/after')]), 'after');
  const seen = findTree(root);
  assert.ok(
    [...seen.keys()].some((p) => p.endsWith('/after') && p.includes('\uDCFF')),
    'find sees the raw name',
  );
  compare(root);
});

test('StatAhead lists the directories given and those it finds in them, depth first, then stops at the first other one', () => {
  const root = bigTree('direct');
  const ahead = StatAhead.start(['b/d0', 'b/d1'].map((tree) => ({ host: join(root, tree), tree })));
  assert.ok(ahead, 'a worker on more than one core');
  const d0 = ahead.take('b/d0')!;
  assert.equal(d0.names, ['e0', 'empty']);
  assert.is(Number(d0.stats[STAT.mode]) & 0o170000, 0o040000);
  const e0 = ahead.take('b/d0/e0')!;
  assert.is(e0.names.length, 40);
  assert.equal(e0.names.slice(0, 3), ['g0', 'g1', 'g10'], 'byte order');
  assert.is(Number(e0.stats[STAT_FIELDS * 2 + STAT.size]), 10);
  assert.is(ahead.take('b/d0/empty')!.names.length, 0);
  assert.equal(ahead.take('b/d1')!.names, ['e1', 'empty']);
  assert.is(ahead.take('b/d9'), undefined, 'not the next one: stopped');
  assert.is(ahead.take('b/d1/e1'), undefined, 'and stays stopped');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
