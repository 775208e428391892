/**
 * fast-check generators of FileTrees for the ext4 writer properties: every content kind the
 * writer supports (empty, small, sparse and multi-extent files; small and htree-sized
 * directories; fast and slow symlinks; hard links; devices, fifos, sockets; xattrs in the
 * inode and in a block; setuid/setgid/sticky; 32-bit owners; times before 1970 and after
 * 2038 with nanoseconds and crtime). Trees are generated as plain specs so failures print
 * readably, then built into a FileTree.
 */
import fc from 'fast-check';
import { FileTree, type Timestamp } from '../../../src/index.js';

export interface FileSpec {
  kind: 'file';
  /** Blocks of the content: 'z' = a 4 KiB hole, a number = that many bytes of data (seeded). */
  blocks: ('z' | number)[];
  seed: number;
}
export interface SymlinkSpec {
  kind: 'symlink';
  target: string;
}
export interface DeviceSpec {
  kind: 'char' | 'block';
  major: number;
  minor: number;
}
export interface SpecialSpec {
  kind: 'fifo' | 'socket';
}
export type LeafSpec = FileSpec | SymlinkSpec | DeviceSpec | SpecialSpec;

export interface MetaSpec {
  mode: number;
  uid: number;
  gid: number;
  mtime: Timestamp;
  atime: Timestamp;
  ctime: Timestamp;
  crtime: Timestamp;
  xattrs: [string, Uint8Array][];
}

export interface DirSpec {
  parent: number;
  name: string;
  meta: MetaSpec;
  /** Extra empty files, to make the directory span several blocks (htree). */
  bulk: number;
}

export interface ItemSpec {
  dir: number;
  name: string;
  leaf: LeafSpec;
  meta: MetaSpec;
}

export interface LinkSpec {
  dir: number;
  name: string;
  item: number;
}

export interface TreeSpec {
  root: MetaSpec;
  dirs: DirSpec[];
  items: ItemSpec[];
  links: LinkSpec[];
  blockSize: 1024 | 4096;
}

const nameChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+,=@~'.split(''), 'é', 'ü', '日', '本');
export const nameArb = fc
  .oneof(
    { weight: 10, arbitrary: fc.array(nameChars, { minLength: 1, maxLength: 16 }).map((a) => a.join('')) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 255 }).map((n) => 'L'.repeat(n)) },
  )
  .filter((n) => n !== '.' && n !== '..' && n !== 'lost+found');

const TIME_MIN = -(2 ** 31);
// The writer's upper limit (2310-04-04): e2fsck takes later times with the sign bit set as pre-1970.
const TIME_MAX = 3 * 2 ** 32 - 2 ** 31 - 1;
export const timeArb: fc.Arbitrary<Timestamp> = fc.record({
  sec: fc.oneof(
    fc.integer({ min: TIME_MIN, max: TIME_MAX }),
    fc.constantFrom(TIME_MIN, -1, 0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, TIME_MAX),
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  ),
  nsec: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999_999 })),
});

const idArb = fc.oneof(fc.constantFrom(0, 1, 1000, 65535, 65536, 2 ** 31, 2 ** 32 - 2), fc.integer({ min: 0, max: 2 ** 32 - 2 }));

/** A valid VFS_CAP_REVISION_2 value (the kernel hides malformed ones from getxattr). */
export const capabilityArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.boolean(), fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 4, maxLength: 4 }))
  .map(([effective, words]) => {
    const b = new Uint8Array(20);
    const v = new DataView(b.buffer);
    v.setUint32(0, 0x02000000 | (effective ? 1 : 0), true);
    words.forEach((w, i) => v.setUint32(4 + i * 4, w, true));
    return b;
  });

const xattrArb: fc.Arbitrary<[string, Uint8Array][]> = fc
  .uniqueArray(
    fc.oneof(
      fc.tuple(fc.stringMatching(/^user\.[a-z0-9_.]{1,12}$/), fc.uint8Array({ minLength: 0, maxLength: 120 })),
      fc.tuple(
        fc.constant('security.selinux'),
        fc.constantFrom('system_u:object_r:bin_t:s0\0', 'unconfined_u:object_r:user_home_t:s0\0').map((s) => new TextEncoder().encode(s)),
      ),
      fc.tuple(fc.constant('security.capability'), capabilityArb),
      fc.tuple(fc.stringMatching(/^trusted\.[a-z]{1,8}$/), fc.uint8Array({ minLength: 1, maxLength: 40 })),
    ),
    { selector: ([k]) => k, maxLength: 4 },
  )
  .map((a) => a as [string, Uint8Array][]);

export const metaArb = (kind: 'dir' | 'file' | 'symlink' | 'other'): fc.Arbitrary<MetaSpec> =>
  fc.record({
    mode:
      kind === 'symlink' ? fc.constant(0o777) : fc.oneof(fc.constantFrom(0o755, 0o644, 0o4755, 0o2755, 0o1777, 0o6711, 0), fc.integer({ min: 0, max: 0o7777 })),
    uid: idArb,
    gid: idArb,
    mtime: timeArb,
    atime: timeArb,
    ctime: timeArb,
    crtime: timeArb,
    xattrs: fc.oneof({ weight: 3, arbitrary: fc.constant([] as [string, Uint8Array][]) }, { weight: 2, arbitrary: xattrArb }),
  });

const fileArb: fc.Arbitrary<FileSpec> = fc.record({
  kind: fc.constant('file' as const),
  blocks: fc.oneof(
    { weight: 2, arbitrary: fc.constant([] as ('z' | number)[]) },
    { weight: 5, arbitrary: fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 3 }) },
    { weight: 3, arbitrary: fc.array(fc.oneof(fc.constant('z' as const), fc.integer({ min: 1, max: 4096 })), { minLength: 1, maxLength: 24 }) },
    // Many separate extents: more than fit in the inode (4), sometimes more than one leaf block holds (340).
    { weight: 1, arbitrary: fc.integer({ min: 3, max: 400 }).map((n) => Array.from({ length: n * 2 }, (_, i) => (i % 2 === 0 ? 4096 : 'z'))) },
  ),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

const leafArb: fc.Arbitrary<LeafSpec> = fc.oneof(
  { weight: 8, arbitrary: fileArb },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('symlink' as const),
      target: fc.oneof(fc.stringMatching(/^[a-z/.]{1,59}$/), fc.stringMatching(/^[a-zA-Z0-9/._-]{60,300}$/)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('char' as const, 'block' as const),
      major: fc.integer({ min: 0, max: 4095 }),
      minor: fc.integer({ min: 0, max: 2 ** 20 - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('fifo' as const, 'socket' as const) }) },
);

export const treeSpecArb: fc.Arbitrary<TreeSpec> = fc
  .record({
    root: metaArb('dir'),
    dirCount: fc.integer({ min: 0, max: 5 }),
    blockSize: fc.constantFrom(1024 as const, 4096 as const, 4096 as const),
  })
  .chain(({ root, dirCount, blockSize }) =>
    fc.record({
      root: fc.constant(root),
      blockSize: fc.constant(blockSize),
      dirs: fc.tuple(
        ...Array.from({ length: dirCount }, (_, i) =>
          fc.record({
            parent: fc.integer({ min: 0, max: i }),
            name: nameArb,
            meta: metaArb('dir'),
            bulk: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 20, max: 400 }) }),
          }),
        ),
      ),
      items: fc.array(
        fc
          .record({ dir: fc.integer({ min: 0, max: dirCount }), name: nameArb, leaf: leafArb })
          .chain((it) => metaArb(it.leaf.kind === 'file' ? 'file' : it.leaf.kind === 'symlink' ? 'symlink' : 'other').map((meta) => ({ ...it, meta }))),
        { maxLength: 14 },
      ),
      links: fc.array(fc.record({ dir: fc.integer({ min: 0, max: dirCount }), name: nameArb, item: fc.nat() }), { maxLength: 3 }),
    }),
  );

/** The bytes a file spec describes. */
export function fileBytes(f: FileSpec): Uint8Array {
  const size = f.blocks.reduce<number>((n, b, i) => (b === 'z' ? n + 4096 : i === f.blocks.length - 1 ? n + b : n + 4096), 0);
  const out = new Uint8Array(size);
  let x = f.seed | 1;
  let at = 0;
  f.blocks.forEach((b, i) => {
    if (b === 'z') {
      at += 4096;
      return;
    }
    const len = i === f.blocks.length - 1 ? b : 4096;
    for (let k = 0; k < len; k++) {
      if (k < b) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[at + k] = x & 0xff;
      }
    }
    at += len;
  });
  return out;
}

function init(meta: MetaSpec): Parameters<FileTree['mkdir']>[1] {
  return {
    mode: meta.mode,
    uid: meta.uid,
    gid: meta.gid,
    mtime: meta.mtime,
    atime: meta.atime,
    ctime: meta.ctime,
    crtime: meta.crtime,
    xattrs: new Map(meta.xattrs),
  };
}

/** Builds the FileTree; names that collide in a directory are skipped. */
export function buildTree(spec: TreeSpec): FileTree {
  const tree = new FileTree(init(spec.root));
  const dirPaths = [''];
  const join = (dir: string, name: string): string => (dir ? `${dir}/${name}` : name);
  for (const d of spec.dirs) {
    const parent = dirPaths[d.parent] ?? '';
    const p = join(parent, d.name);
    if (tree.has(p)) {
      dirPaths.push(parent);
      continue;
    }
    tree.mkdir(p, init(d.meta));
    dirPaths.push(p);
    for (let i = 0; i < d.bulk; i++) tree.file(join(p, `bulk-entry-number-${i}`), '', { mtime: d.meta.mtime });
  }
  const itemPaths: (string | undefined)[] = [];
  for (const it of spec.items) {
    const p = join(dirPaths[it.dir] ?? '', it.name);
    if (tree.has(p)) {
      itemPaths.push(undefined);
      continue;
    }
    const i = init(it.meta);
    const leaf = it.leaf;
    if (leaf.kind === 'file') tree.file(p, fileBytes(leaf), i);
    else if (leaf.kind === 'symlink') tree.symlink(p, leaf.target, i);
    else if (leaf.kind === 'char' || leaf.kind === 'block') tree.device(p, leaf.kind, leaf.major, leaf.minor, i);
    else tree.special(p, leaf.kind, i);
    itemPaths.push(p);
  }
  const targets = itemPaths.filter((p): p is string => p !== undefined);
  for (const l of spec.links) {
    if (targets.length === 0) break;
    const p = join(dirPaths[l.dir] ?? '', l.name);
    if (tree.has(p)) continue;
    tree.link(p, targets[l.item % targets.length]!);
  }
  return tree;
}
