/**
 * Shared by the ext4 reader tests and the mke2fs differential test: generated trees (as plain
 * specs), written out as real host directories for `mke2fs -d`, and `debugfs` output parsed
 * into comparable records.
 */
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  linkSync,
  lchownSync,
  chmodSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FsReader, FsStat } from '../../../src/fs/reader.js';
import type { NodeType } from '../../../src/fs/tree.js';
import { run } from '../../helpers/tools.js';

export type SpecKind = Exclude<NodeType, never>;

/** A run of deterministic pseudo-random bytes at an offset of a file. */
export interface Piece {
  offset: number;
  length: number;
  seed: number;
}

export interface SpecNode {
  /** Identity: hard links share one SpecNode object. */
  kind: SpecKind;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number;
  size?: number;
  pieces?: Piece[];
  target?: string;
  rdev?: { major: number; minor: number };
  xattrs?: [string, Uint8Array][];
}

export interface TreeSpec {
  /** Paths (relative, '/'-separated) in creation order: parents first. */
  paths: [string, SpecNode][];
}

/** Deterministic bytes for a piece (xorshift32), never all zero. */
export function pieceBytes(p: Piece): Uint8Array {
  const out = new Uint8Array(p.length);
  let x = p.seed | 0 || 0x9e3779b9;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x & 0xff) | 1;
  }
  return out;
}

export function expectedContent(n: SpecNode): Uint8Array {
  const out = new Uint8Array(n.size ?? 0);
  for (const p of n.pieces ?? []) out.set(pieceBytes(p).subarray(0, Math.max(0, out.length - p.offset)), p.offset);
  return out;
}

// ---- generation ----

const plainName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._ +-]{0,20}$/);
const oddName = fc.constantFrom('é', 'ünïcödé', '日本語のファイル', 'x y z', '-dash', '.hidden', '#hash', "it's");
const longName = fc.integer({ min: 100, max: 255 }).map((n) => 'L'.repeat(n - 3) + String(n).padStart(3, '0'));
export const nameArb = fc.oneof({ weight: 12, arbitrary: plainName }, { weight: 2, arbitrary: oddName }, { weight: 1, arbitrary: longName });

const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 65535 }) },
  { weight: 2, arbitrary: fc.integer({ min: 65536, max: 2 ** 31 - 2 }) },
);
/** Seconds mke2fs -d can carry: it stores the low 32 bits only, so stay within signed 32-bit. */
const timeArb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

const pieceArb = (maxOffset: number, maxLen: number): fc.Arbitrary<Piece> =>
  fc.record({ offset: fc.integer({ min: 0, max: maxOffset }), length: fc.integer({ min: 1, max: maxLen }), seed: fc.integer() });

/** File content shapes: empty, small, a few blocks, and sparse (data islands in holes). */
const contentArb: fc.Arbitrary<{ size: number; pieces: Piece[] }> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0).map(() => ({ size: 0, pieces: [] as Piece[] })) },
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 200 }).chain((n) => fc.integer().map((seed) => ({ size: n, pieces: [{ offset: 0, length: n, seed }] }))) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 201, max: 70_000 }).chain((n) => fc.integer().map((seed) => ({ size: n, pieces: [{ offset: 0, length: n, seed }] }))),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ size: fc.integer({ min: 1 << 20, max: 96 << 20 }), pieces: fc.array(pieceArb(96 << 20, 9000), { minLength: 0, maxLength: 4 }) })
      .map(({ size, pieces }) => ({ size, pieces: pieces.filter((p) => p.offset + p.length <= size) })),
  },
);

const xattrArb: fc.Arbitrary<[string, Uint8Array][]> = fc
  .array(
    fc.tuple(
      fc.constantFrom('user.', 'trusted.', 'security.'),
      fc.stringMatching(/^[a-z][a-z0-9_.]{0,15}$/),
      fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 700 }) }),
    ),
    { maxLength: 3 },
  )
  .map((xs) => {
    // At most ~800 bytes per inode, so that they fit one 1 KiB xattr block.
    const seen = new Map<string, Uint8Array>();
    let total = 0;
    for (const [p, n, v] of xs) {
      if (seen.has(p + n) || total + v.length + n.length + 32 > 800) continue;
      total += v.length + n.length + 32;
      seen.set(p + n, v);
    }
    return [...seen];
  });

const kindArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant('file' as const) },
  { weight: 3, arbitrary: fc.constant('symlink' as const) },
  { weight: 3, arbitrary: fc.constant('link' as const) },
  { weight: 1, arbitrary: fc.constant('fifo' as const) },
  { weight: 1, arbitrary: fc.constantFrom('char' as const, 'block' as const) },
  { weight: 1, arbitrary: fc.constant('socket' as const) },
);

const entryArb = fc.record({
  dir: fc.nat(),
  name: nameArb,
  kind: kindArb,
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: idArb,
  gid: idArb,
  mtime: timeArb,
  atime: timeArb,
  content: contentArb,
  target: fc.oneof(fc.stringMatching(/^[a-z./_-]{1,58}$/), fc.stringMatching(/^[a-z./_-]{59,400}$/)),
  rdev: fc.record({
    major: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 256, max: 4095 })),
    minor: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 256, max: (1 << 20) - 1 })),
  }),
  linkTo: fc.nat(),
  xattrs: xattrArb,
});

const dirArb = fc.record({
  parent: fc.nat(),
  name: nameArb,
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: idArb,
  gid: idArb,
  mtime: timeArb,
  xattrs: xattrArb,
});

export const treeSpecArb: fc.Arbitrary<TreeSpec> = fc
  .record({
    dirs: fc.array(dirArb, { maxLength: 8 }),
    entries: fc.array(entryArb, { maxLength: 24 }),
    /** One directory with many entries (several blocks; htree after e2fsck -D). */
    big: fc.option(fc.record({ count: fc.integer({ min: 40, max: 700 }), nameLen: fc.integer({ min: 1, max: 60 }) }), { freq: 4 }),
  })
  .map(({ dirs, entries, big }) => buildSpec(dirs, entries, big));

type DirGen = { parent: number; name: string; mode: number; uid: number; gid: number; mtime: number; xattrs: [string, Uint8Array][] };
type EntryGen = typeof entryArb extends fc.Arbitrary<infer T> ? T : never;

function buildSpec(dirs: DirGen[], entries: EntryGen[], big: { count: number; nameLen: number } | null): TreeSpec {
  const paths: [string, SpecNode][] = [];
  const taken = new Set<string>(['lost+found']);
  const dirPaths: string[] = [''];
  const join2 = (d: string, n: string): string => (d === '' ? n : `${d}/${n}`);
  const free = (p: string): boolean => !taken.has(p);
  for (const d of dirs) {
    const parent = dirPaths[d.parent % dirPaths.length]!;
    const p = join2(parent, d.name);
    if (!free(p)) continue;
    taken.add(p);
    dirPaths.push(p);
    paths.push([p, { kind: 'dir', mode: d.mode, uid: d.uid, gid: d.gid, mtime: d.mtime, atime: d.mtime, xattrs: d.xattrs }]);
  }
  const linkable: SpecNode[] = [];
  for (const e of entries) {
    const p = join2(dirPaths[e.dir % dirPaths.length]!, e.name);
    if (!free(p)) continue;
    let node: SpecNode;
    if (e.kind === 'link') {
      if (linkable.length === 0) continue;
      node = linkable[e.linkTo % linkable.length]!;
    } else {
      node = { kind: e.kind, mode: e.kind === 'symlink' ? 0o777 : e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, atime: e.atime };
      if (e.kind === 'file') {
        node.size = e.content.size;
        node.pieces = e.content.pieces;
        node.xattrs = e.xattrs;
      } else if (e.kind === 'symlink') node.target = e.target;
      else if (e.kind === 'char' || e.kind === 'block') node.rdev = e.rdev;
      // Hard links to files and fifos: mke2fs -d makes a hard-linked symlink into separate
      // inodes, and sockets are re-made by name.
      if (e.kind === 'file' || e.kind === 'fifo') linkable.push(node);
    }
    taken.add(p);
    paths.push([p, node]);
  }
  if (big) {
    const dir = join2(dirPaths[big.count % dirPaths.length]!, 'big');
    if (free(dir)) {
      taken.add(dir);
      paths.push([dir, { kind: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1_000_000, atime: 1_000_000, xattrs: [] }]);
      for (let i = 0; i < big.count; i++) {
        const name = `${String(i).padStart(5, '0')}${'n'.repeat(Math.max(0, big.nameLen - 5))}`;
        paths.push([join2(dir, name), { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: i, atime: i, size: 0, pieces: [] }]);
      }
    }
  }
  return { paths };
}

// ---- materialising a spec as a host directory ----

function writeSparse(path: string, n: SpecNode): void {
  const fd = openSync(path, 'w');
  try {
    for (const p of n.pieces ?? []) {
      const bytes = pieceBytes(p);
      writeSync(fd, bytes, 0, bytes.length, p.offset);
    }
    ftruncateSync(fd, n.size ?? 0);
  } finally {
    closeSync(fd);
  }
}

async function makeSocket(path: string): Promise<void> {
  // Node removes a listening socket's file on close, and socket paths are limited to ~108
  // bytes: listen on a short temporary name and hard-link the socket into place.
  const tempDir = mkdtempSync(join(tmpdir(), 'ks-'));
  const temp = join(tempDir, 's');
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(temp, () => resolve());
    });
    linkSync(temp, path);
  } finally {
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    rmSync(tempDir, { recursive: true, force: true });
  }
}

function hexOf(v: Uint8Array): string {
  return `0x${Buffer.from(v).toString('hex')}`;
}

/** Creates the spec under `root` (which must exist and be empty) with owners, modes, times, xattrs. */
export async function materialize(spec: TreeSpec, root: string): Promise<void> {
  const first = new Map<SpecNode, string>();
  const fifos: string[] = [];
  for (const [p, n] of spec.paths) {
    const host = join(root, p);
    const existing = first.get(n);
    if (existing !== undefined) {
      linkSync(join(root, existing), host);
      continue;
    }
    first.set(n, p);
    switch (n.kind) {
      case 'dir':
        mkdirSync(host);
        break;
      case 'file':
        writeSparse(host, n);
        break;
      case 'symlink':
        symlinkSync(n.target!, host);
        break;
      case 'fifo':
        run('mkfifo', [host]);
        fifos.push(host);
        break;
      case 'char':
      case 'block':
        run('mknod', [host, n.kind === 'char' ? 'c' : 'b', String(n.rdev!.major), String(n.rdev!.minor)]);
        break;
      case 'socket':
        await makeSocket(host);
        break;
    }
  }
  // xattrs in one setfattr call (paths relative to the root).
  let dump = '';
  for (const [n, p] of first) {
    if (!n.xattrs || n.xattrs.length === 0) continue;
    dump += `# file: ${p}\n${n.xattrs.map(([k, v]) => `${k}=${hexOf(v)}`).join('\n')}\n\n`;
  }
  if (dump !== '') {
    const file = join(root, '..', `xattrs-${process.pid}.txt`);
    writeFileSync(file, dump);
    const r = spawnSync('setfattr', [`--restore=${file}`], { cwd: root, encoding: 'utf8' });
    unlinkSync(file);
    if (r.status !== 0) throw new Error(`setfattr --restore failed (Debian package 'attr'): ${r.stderr}${r.error?.message ?? ''}`);
  }
  // Owners, then modes (chown clears setuid), then times — deepest first, so that creating
  // children does not touch a directory's times afterwards.
  const order = [...first].sort((a, b) => b[1].split('/').length - a[1].split('/').length);
  for (const [n, p] of order) {
    const host = join(root, p);
    lchownSync(host, n.uid, n.gid);
    if (n.kind !== 'symlink') chmodSync(host, n.mode);
    // Dates, not numbers: Node takes a negative number of seconds to mean 'now'.
    lutimesSync(host, new Date(n.atime * 1000), new Date(n.mtime * 1000));
  }
}

// ---- expectations, from the spec ----

/** Every path the image must hold (lost+found aside) with the node it names. */
export function specMap(spec: TreeSpec): Map<string, SpecNode> {
  return new Map(spec.paths);
}

/** Link counts: names per inode for non-directories; 2 + subdirectories for directories. */
export function expectedLinks(spec: TreeSpec): Map<string, number> {
  const names = new Map<SpecNode, number>();
  for (const [, n] of spec.paths) names.set(n, (names.get(n) ?? 0) + 1);
  const subdirs = new Map<string, number>();
  for (const [p, n] of spec.paths) {
    if (n.kind !== 'dir') continue;
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
  }
  const out = new Map<string, number>();
  for (const [p, n] of spec.paths) out.set(p, n.kind === 'dir' ? 2 + (subdirs.get(p) ?? 0) : names.get(n)!);
  return out;
}

/** Walks a reader: path → stat, parents first. */
export function readerWalk(reader: FsReader): Map<string, FsStat> {
  const out = new Map<string, FsStat>();
  const walk = (dir: string): void => {
    for (const e of reader.list(dir)) {
      const p = dir === '' ? e.name : `${dir}/${e.name}`;
      out.set(p, e.stat);
      if (e.stat.type === 'dir') walk(p);
    }
  };
  walk('');
  return out;
}

// ---- debugfs ----

export interface DebugfsStat {
  ino: number;
  type: NodeType;
  mode: number;
  flags: number;
  uid: number;
  gid: number;
  size: number;
  links: number;
  /** [seconds field as signed, extra field or undefined] */
  times: Record<'ctime' | 'atime' | 'mtime' | 'crtime', [number, number | undefined] | undefined>;
  rdev?: { major: number; minor: number };
  fastLink?: string;
  xattrs: Map<string, number>;
}

const DEBUGFS_TYPES: Record<string, NodeType> = {
  regular: 'file',
  directory: 'dir',
  symlink: 'symlink',
  'character special': 'char',
  'block special': 'block',
  FIFO: 'fifo',
  socket: 'socket',
};

function parseDebugfsStat(text: string, where: string): DebugfsStat {
  const m = (re: RegExp): RegExpExecArray => {
    const r = re.exec(text);
    if (!r) throw new Error(`debugfs stat of ${where}: no ${re} in:\n${text}`);
    return r;
  };
  const head = m(/Inode: (\d+)\s+Type: ([A-Za-z ]+?)\s+Mode:\s+(\d+)\s+Flags: (0x[0-9a-f]+)/);
  const owner = m(/User:\s+(\d+)\s+Group:\s+(\d+).*?Size: (\d+)/);
  const times = {} as DebugfsStat['times'];
  for (const k of ['ctime', 'atime', 'mtime', 'crtime'] as const) {
    const t = new RegExp(`^\\s*${k}: 0x([0-9a-f]+)(?::([0-9a-f]+))? --`, 'm').exec(text);
    times[k] = t ? [parseInt(t[1]!, 16) | 0, t[2] === undefined ? undefined : parseInt(t[2], 16)] : undefined;
  }
  const st: DebugfsStat = {
    ino: Number(head[1]),
    type:
      DEBUGFS_TYPES[head[2]!] ??
      (() => {
        throw new Error(`debugfs type '${head[2]}'`);
      })(),
    mode: parseInt(head[3]!, 8),
    flags: parseInt(head[4]!, 16),
    uid: Number(owner[1]),
    gid: Number(owner[2]),
    size: Number(owner[3]),
    links: Number(m(/Links: (\d+)/)[1]),
    times,
    xattrs: new Map(),
  };
  const dev = /Device major\/minor number: (\d+):(\d+)/.exec(text);
  if (dev) st.rdev = { major: Number(dev[1]), minor: Number(dev[2]) };
  const fast = /Fast link dest: "(.*)"/.exec(text);
  if (fast) st.fastLink = fast[1]!;
  const xa = /Extended attributes:\n((?:  .*\n)*)/.exec(text);
  if (xa)
    for (const line of xa[1]!.split('\n')) {
      const e = /^ {2}(\S+) \((\d+)\)/.exec(line);
      if (e) st.xattrs.set(e[1]!, Number(e[2]));
    }
  return st;
}

function quote(path: string): string {
  return `"/${path}"`;
}

/** `debugfs stat` of many paths in one run. */
export function debugfsStats(image: string, paths: string[], tmpFile: string): Map<string, DebugfsStat> {
  writeFileSync(tmpFile, paths.map((p) => `stat ${quote(p)}\n`).join(''));
  const out = run('debugfs', ['-f', tmpFile, image]).stdout;
  const chunks = out.split(/^debugfs: /m).slice(1);
  if (chunks.length !== paths.length) throw new Error(`debugfs answered ${chunks.length} of ${paths.length} stat commands`);
  const res = new Map<string, DebugfsStat>();
  paths.forEach((p, i) => res.set(p, parseDebugfsStat(chunks[i]!, p)));
  return res;
}

export function rdump(image: string, dest: string): void {
  run('debugfs', ['-R', `rdump / ${dest}`, image]);
}

export function mke2fs(image: string, dir: string, sizeKiB: number, args: string[]): void {
  run('mke2fs', ['-q', '-F', ...args, '-d', dir, image, `${sizeKiB}k`]);
}

/** Room for the spec with mke2fs's overhead (the image is sparse, so generous is cheap). */
export function imageKiB(spec: TreeSpec): number {
  let bytes = 0;
  for (const n of new Set(spec.paths.map(([, node]) => node))) {
    for (const p of n.pieces ?? []) bytes += p.length + 8192;
    bytes += 8192 + (n.xattrs?.reduce((a, [, v]) => a + v.length, 0) ?? 0);
  }
  return Math.ceil((bytes * 3) / 1024) + 16384;
}
