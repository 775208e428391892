import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileTree, KilnError, MemoryTarget, SparseFileTarget, planFat, writeFat, type FatOptions, type FatType } from '../../../src/index.js';
import { caseFoldKey } from '../../../src/fs/fat/names.js';
import { computeGeometry } from '../../../src/fs/fat/geometry.js';
import { propertyRuns } from '../../helpers/tools.js';
import { diffExpected, expectedOf, fsckClean, mcopyOut, mdirPaths, readImage, readerView } from './fat-helpers.js';
import { throwawayDir } from '../../helpers/temp.js';

const work = throwawayDir('kiln-fat-prop-');

// --- generated trees ---------------------------------------------------------------------

const shortName = fc.stringMatching(/^[a-zA-Z0-9_$~!-]{1,8}(\.[a-zA-Z0-9]{1,3})?$/);
const longAscii = fc.stringMatching(/^[a-zA-Z0-9_.+,;=()[\]' -]{1,60}$/);
const unicodeName = fc
  // Only the Basic Multilingual Plane: mtools 4.0.32 decodes surrogate pairs one unit at a
  // time (a separate test checks astral characters with fsck.fat and our reader).
  .array(fc.constantFrom('é', 'ü', 'Ω', 'ж', '文', '字', 'Ä', 'ñ', 'a', 'B', 'z', '1', ' ', '.', '-'), { minLength: 1, maxLength: 24 })
  .map((a) => a.join(''));
const veryLong = fc.integer({ min: 100, max: 255 }).chain((n) => fc.stringMatching(new RegExp(`^[a-zA-Z0-9 ]{${n}}$`)));
const anyName = fc
  .oneof({ weight: 4, arbitrary: shortName }, { weight: 3, arbitrary: longAscii }, { weight: 2, arbitrary: unicodeName }, { weight: 1, arbitrary: veryLong })
  // Names FAT refuses are the refusal properties' business; mtools also trims leading spaces.
  .filter((n) => !/[. ]$/.test(n) && !n.startsWith(' ') && n !== '.' && n !== '..' && n.length <= 255);

const content = fc.oneof(
  { weight: 2, arbitrary: fc.constant(new Uint8Array()) },
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 3000 }) },
  {
    weight: 2,
    arbitrary: fc.record({ len: fc.integer({ min: 3000, max: 80_000 }), seed: fc.integer({ min: 1, max: 255 }) }).map(({ len, seed }) => {
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = (i * seed + (i >> 9)) & 0xff;
      return b;
    }),
  },
);

const mtime = fc.oneof(fc.integer({ min: 315532800, max: 2_000_000_000 }), fc.integer({ min: -2_000_000_000, max: 6_000_000_000 }));

interface Spec {
  dirs: string[][];
  files: { dir: number; name: string; bytes: Uint8Array; mtime: number }[];
  bulk: { dir: number; count: number; stem: string };
  fatType: FatType;
  slack: number;
  label: string | undefined;
  sde: number | undefined;
  clusterSize: number | undefined;
}

const spec: fc.Arbitrary<Spec> = fc.record({
  dirs: fc.array(fc.array(anyName, { minLength: 1, maxLength: 6 }), { maxLength: 6 }),
  files: fc.array(fc.record({ dir: fc.nat(), name: anyName, bytes: content, mtime }), { maxLength: 25 }),
  bulk: fc.record({
    dir: fc.nat(),
    count: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 20, max: 150 }) }),
    stem: fc.constantFrom('a long file name', 'Report', 'x', 'données ñ'),
  }),
  fatType: fc.constantFrom(12, 16, 32),
  slack: fc.integer({ min: 0, max: 64 }),
  label: fc.option(fc.stringMatching(/^[A-Z0-9][A-Z0-9 _-]{0,10}$/), { nil: undefined }),
  sde: fc.option(fc.integer({ min: 400_000_000, max: 1_800_000_000 }), { nil: undefined }),
  clusterSize: fc.option(fc.constantFrom(512, 1024, 2048, 4096), { nil: undefined }),
});

/** Adds `name` under `dir` unless FAT would see it as the same name as a sibling. */
function addUnique(tree: FileTree, dir: string, name: string, add: (path: string) => void): string | undefined {
  const path = dir ? `${dir}/${name}` : name;
  const key = caseFoldKey(name);
  if (tree.children(dir).some((n) => caseFoldKey(n) === key)) return tree.get(path)?.type === 'dir' ? path : undefined;
  add(path);
  return path;
}

function buildTree(s: Spec): FileTree {
  const tree = new FileTree({ mtime: { sec: 1_600_000_000, nsec: 0 } });
  const dirPaths: string[] = [''];
  for (const parts of s.dirs) {
    let cur = '';
    for (const part of parts) {
      const next = addUnique(tree, cur, part, (p) => tree.mkdir(p, { mtime: { sec: 1_500_000_000 + parts.length, nsec: 0 } }));
      if (next === undefined) break;
      cur = next;
      if (!dirPaths.includes(cur)) dirPaths.push(cur);
    }
  }
  for (const f of s.files) {
    const dir = dirPaths[f.dir % dirPaths.length]!;
    addUnique(tree, dir, f.name, (p) => tree.file(p, f.bytes, { mtime: { sec: f.mtime, nsec: 0 }, mode: f.bytes.length % 3 === 0 ? 0o444 : 0o644 }));
  }
  const bulkDir = dirPaths[s.bulk.dir % dirPaths.length]!;
  for (let i = 0; i < s.bulk.count; i++)
    addUnique(tree, bulkDir, `${s.bulk.stem} ${i}.txt`, (p) => tree.file(p, `${i}\n`, { mtime: { sec: 1_234_567_890, nsec: 0 } }));
  return tree;
}

function options(s: Spec): FatOptions {
  const o: FatOptions = { fatType: s.fatType };
  if (s.label !== undefined) o.label = s.label;
  if (s.sde !== undefined) o.sourceDateEpoch = s.sde;
  if (s.clusterSize !== undefined && s.fatType !== 32) o.clusterSize = s.clusterSize;
  return o;
}

/** mtools 4.0.32 counts 2100 as a leap year: its times from 2100-03-01 on are one day late. */
function mtoolsCalendar(e: ReturnType<typeof expectedOf>): ReturnType<typeof expectedOf> {
  const MARCH_2100 = 4107542400;
  const files = new Map([...e.files].map(([p, f]) => [p, f.mtime >= MARCH_2100 ? { ...f, mtime: f.mtime + 86400 } : f]));
  return { files, dirs: e.dirs };
}

test('every generated tree that fits is written, fsck.fat-clean, and read back identical by mtools and by our reader', () => {
  const image = join(work, 'prop.img');
  const out = join(work, 'out');
  let runs = 0;
  const types = new Map<number, number>();
  fc.assert(
    fc.property(spec, (s) => {
      const tree = buildTree(s);
      const opts = options(s);
      let plan: { minimumSize: number; fatType: FatType };
      try {
        plan = planFat(tree, opts);
      } catch (e) {
        // FAT12 cannot hold every tree (at most 4084 clusters of 64 KiB): that refusal is fine.
        if (e instanceof KilnError && s.fatType === 12) return true;
        throw e;
      }
      // Slack beyond the minimum, unless it pushes a forced type/cluster size past its limits.
      let size = plan.minimumSize + s.slack * 65536;
      if ('error' in computeGeometry(size / 512, { fatType: s.fatType, ...(opts.clusterSize ? { sectorsPerCluster: opts.clusterSize / 512 } : {}) }))
        size = plan.minimumSize;
      rmSync(image, { force: true });
      const target = SparseFileTarget.create(image, size);
      let result;
      try {
        result = writeFat(tree, target, opts);
        target.commit();
      } catch (e) {
        target.abort();
        throw e;
      }
      runs++;
      types.set(result.fatType, (types.get(result.fatType) ?? 0) + 1);
      if (result.fatType !== s.fatType) throw new Error(`asked for FAT${s.fatType}, got FAT${result.fatType}`);
      const fsck = fsckClean(image);
      if (fsck) throw new Error(fsck);
      const want = expectedOf(tree, s.sde);
      const paths = mdirPaths(image).sort();
      const wantPaths = [...[...want.dirs].map((d) => `${d}/`), ...want.files.keys()].sort();
      if (paths.join('\n') !== wantPaths.join('\n')) throw new Error(`mdir lists\n${paths.join('\n')}\nwant\n${wantPaths.join('\n')}`);
      const viaMtools = diffExpected('mcopy', mtoolsCalendar(want), mcopyOut(image, out));
      if (viaMtools) throw new Error(viaMtools);
      const viaReader = diffExpected('readFat', want, readerView(readImage(image)));
      if (viaReader) throw new Error(viaReader);
      return true;
    }),
    { numRuns: propertyRuns(210), includeErrorInReport: true },
  );
  process.stdout.write(
    `  wrote and checked ${runs} trees: ${[...types]
      .sort()
      .map(([t, n]) => `FAT${t} ×${n}`)
      .join(', ')}\n`,
  );
  assert.ok(runs >= 200, `only ${runs} trees were written`);
  assert.equal([...types.keys()].sort(), [12, 16, 32]);
});

test('the same tree and options give the same bytes (no clock, no readdir order)', () => {
  fc.assert(
    fc.property(spec, (s) => {
      const a = buildTree(s);
      // The same tree built in reverse insertion order.
      const b = new FileTree({ mtime: a.root.mtime });
      const entries = [...a.walk()].filter(([p]) => p !== '');
      for (const [p, inode] of entries.filter(([, i]) => i.type === 'dir')) b.mkdirp(p, { mtime: inode.mtime });
      for (const [p, inode] of entries.filter(([, i]) => i.type !== 'dir').reverse()) b.add(p, inode);
      const opts = { ...options(s), fatType: 16 as const };
      const size = planFat(a, opts).minimumSize;
      const ta = new MemoryTarget(size);
      const tb = new MemoryTarget(size);
      writeFat(a, ta, opts);
      writeFat(b, tb, opts);
      return Buffer.from(ta.bytes).equals(Buffer.from(tb.bytes));
    }),
    { numRuns: propertyRuns(25), includeErrorInReport: true },
  );
});

/** A target that records whether anything was written. */
class WatchTarget extends MemoryTarget {
  writes = 0;
  override write(offset: number, data: Uint8Array): void {
    this.writes++;
    super.write(offset, data);
  }
}

test('a tree that does not fit is refused before any byte is written, naming the size it needs', () => {
  fc.assert(
    fc.property(spec, fc.integer({ min: 1, max: 90 }), (s, percent) => {
      const tree = buildTree(s);
      const opts = { ...options(s), fatType: 16 as const };
      delete opts.clusterSize;
      const { minimumSize } = planFat(tree, opts);
      const smaller = Math.floor((minimumSize * percent) / 100 / 512) * 512;
      const t = new WatchTarget(smaller);
      try {
        writeFat(tree, t, opts);
      } catch (e) {
        return e instanceof KilnError && t.writes === 0;
      }
      // Only a size just below the bisected minimum may still fit.
      return percent > 80;
    }),
    { numRuns: propertyRuns(50), includeErrorInReport: true },
  );
});

test('what FAT cannot hold is refused before any byte is written', () => {
  const cases: [string, (t: FileTree) => void, RegExp][] = [
    ['case clash', (t) => (t.file('Readme.txt', 'a'), t.file('README.TXT', 'b')), /differ only in letter case/],
    ['unicode case clash', (t) => (t.file('Ärger', 'a'), t.file('äRGER', 'b')), /differ only in letter case/],
    ['forbidden character', (t) => t.file('a:b', 'x'), /':'/],
    ['control character', (t) => t.file('a\u0001b', 'x'), /control character/],
    ['trailing dot', (t) => t.file('name.', 'x'), /ends with a dot/],
    ['too long', (t) => t.file('n'.repeat(256), 'x'), /256 UTF-16 units/],
    ['symlink', (t) => t.symlink('link', 'target'), /symbolic link/],
    ['device', (t) => t.device('dev', 'char', 1, 3), /char node/],
    ['4 GiB file', (t) => t.file('huge', { size: 4 * 1024 ** 3, open: () => ({ read: () => 0, close() {} }) }), /smaller than 4 GiB/],
    [
      'too many entries',
      (t) => {
        for (let i = 0; i < 22000; i++) t.file(`a long name number ${i}`, '');
      },
      /at most 65536/,
    ],
  ];
  for (const [what, add, message] of cases) {
    const tree = new FileTree();
    tree.mkdir('d');
    add(tree);
    const t = new WatchTarget(40 << 20);
    assert.throws(
      () => writeFat(tree, t, { fatType: 32 }),
      (e: unknown) => e instanceof KilnError && message.test(e.message),
      what,
    );
    assert.is(t.writes, 0, what);
  }
});

test('characters outside the BMP are stored as surrogate pairs and read back', () => {
  const image = join(work, 'astral.img');
  const tree = new FileTree();
  tree.mkdir('😀 dir');
  tree.file('😀 dir/🎉 party 𝄞.txt', 'emoji');
  rmSync(image, { force: true });
  const t = SparseFileTarget.create(image, planFat(tree).minimumSize);
  writeFat(tree, t);
  t.commit();
  assert.is(fsckClean(image), undefined);
  assert.is(diffExpected('readFat', expectedOf(tree), readerView(readImage(image))), undefined);
});

test('special files can be skipped on request', () => {
  const tree = new FileTree();
  tree.file('a', 'x');
  tree.symlink('l', 'a');
  tree.special('p', 'fifo');
  const t = new MemoryTarget(1 << 20);
  const r = writeFat(tree, t, { specialFiles: 'skip' });
  assert.is(r.files, 1);
});

test('FAT32 below 65,525 clusters is refused with the minimum size', () => {
  const tree = new FileTree();
  const t = new WatchTarget(30 << 20);
  assert.throws(
    () => writeFat(tree, t, { fatType: 32 }),
    (e: unknown) => e instanceof KilnError && /at least 65525 clusters/.test(e.message) && /3\d{7} bytes/.test(e.message),
  );
  assert.is(t.writes, 0);
  assert.ok(planFat(tree, { fatType: 32 }).minimumSize >= 66592 * 512);
});

test.after(() => {
  if (existsSync(work)) {
    readdirSync(work);
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
