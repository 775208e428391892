import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileSource } from '../../src/fs/file-target.js';
import { readContent } from '../../src/fs/file-content.js';
import { readExt4 } from '../../src/fs/ext4/reader.js';
import { writeExt4, planExt4 } from '../../src/fs/ext4/writer.js';
import { bytesToName, nameToBytes, printableName } from '../../src/fs/name-bytes.js';
import { treeFromDirectory } from '../../src/fs/tree-from-dir.js';
import { treeFromTar } from '../../src/fs/tree-from-tar.js';
import { writeTarFile } from '../../src/fs/tar/writer.js';
import type { FileTree } from '../../src/fs/tree.js';
import { SparseFileTarget } from '../../src/fs/file-target.js';
import { materialize } from '../../src/pipeline/cache/materialize.js';
import { openCache } from '../../src/pipeline/cache/artifacts.js';
import { propertyRuns, requireTool, run } from '../helpers/tools.js';

/**
 * Names and symlink targets are bytes end to end: generated trees whose names are any bytes but
 * NUL and '/' (not only UTF-8) go directory → FileTree → ext4 → reader, GNU tar → FileTree →
 * ext4, and tar → artifact → checkout, and come back byte-identical; xattrs from the directory
 * (read with getfattr) too.
 */

const work = mkdtempSync(join(tmpdir(), 'kiln-bytenames-'));
let serial = 0;

/** Any bytes but NUL and '/', never '.' or '..': half of them biased to look like broken UTF-8. */
const nameBytes = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 24 }),
    fc
      .array(fc.constantFrom(0x61, 0x62, 0x2e, 0x2d, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff, 0xfe, 0x80, 0xed, 0xa0, 0xf0, 0x9f, 0x0a, 0x5c, 0x3d, 0x20), {
        minLength: 1,
        maxLength: 12,
      })
      .map((a) => Uint8Array.from(a)),
  )
  .map((b) => Uint8Array.from(b.filter((x) => x !== 0 && x !== 0x2f)))
  .filter((b) => b.length > 0 && !(b.length === 1 && b[0] === 0x2e) && !(b.length === 2 && b[0] === 0x2e && b[1] === 0x2e));

interface EntrySpec {
  parent: number;
  name: Uint8Array;
  kind: 'file' | 'dir' | 'symlink';
  data: Uint8Array;
  xattrs: [Uint8Array, Uint8Array][];
}

const entryArb: fc.Arbitrary<EntrySpec> = fc.record({
  parent: fc.nat(),
  name: nameBytes,
  kind: fc.constantFrom('file', 'dir', 'symlink'),
  data: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Uint8Array.from(b.map((x) => (x === 0 ? 1 : x)))),
  xattrs: fc.array(fc.tuple(nameBytes, fc.uint8Array({ maxLength: 24 })), { maxLength: 2 }),
});

/** What one path should be: type, symlink target bytes, content, xattrs (name → value). */
interface Expected {
  type: 'file' | 'dir' | 'symlink';
  target?: Uint8Array;
  data?: Uint8Array;
  xattrs: Map<string, Uint8Array>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Makes the tree on disk (Buffer paths, so any bytes) and returns what each tree path should hold. */
function makeOnDisk(dir: string, spec: EntrySpec[]): Map<string, Expected> {
  const expected = new Map<string, Expected>();
  const dirs: Buffer[] = [Buffer.from(dir)];
  const dirPaths: string[] = [''];
  const restore: Buffer[] = [];
  const escape = (b: Uint8Array): string =>
    [...b].map((x) => (x < 0x21 || x > 0x7e || x === 0x5c || x === 0x3d ? `\\${x.toString(8).padStart(3, '0')}` : String.fromCharCode(x))).join('');
  for (const e of spec) {
    const pi = e.parent % dirs.length;
    const host = Buffer.concat([dirs[pi]!, Buffer.from('/'), e.name]);
    const path = dirPaths[pi] ? `${dirPaths[pi]}/${bytesToName(e.name)}` : bytesToName(e.name);
    if (expected.has(path)) continue;
    const x: Expected = { type: e.kind, xattrs: new Map() };
    if (e.kind === 'dir') {
      mkdirSync(host);
      dirs.push(host);
      dirPaths.push(path);
    } else if (e.kind === 'file') {
      writeFileSync(host, e.data);
      x.data = e.data;
    } else {
      symlinkSync(Buffer.from(e.data), host);
      x.target = e.data;
    }
    if (e.kind !== 'symlink' && e.xattrs.length > 0) {
      const rel = Buffer.concat([Buffer.from('./'), Buffer.from(nameToBytes(path))]);
      const lines = [`# file: ${escape(rel)}`];
      for (const [n, v] of e.xattrs) {
        const full = Buffer.concat([Buffer.from('user.'), n]);
        x.xattrs.set(bytesToName(full), v);
        lines.push(v.length === 0 ? `${escape(full)}=""` : `${escape(full)}=0s${Buffer.from(v).toString('base64')}`);
      }
      restore.push(Buffer.from(`${lines.join('\n')}\n\n`, 'latin1'));
    }
    expected.set(path, x);
  }
  if (restore.length > 0) {
    const file = join(dir, '..', `restore-${serial}`);
    writeFileSync(file, Buffer.concat(restore));
    const r = spawnSync('setfattr', [`--restore=${file}`], { cwd: dir, env: { ...process.env, LC_ALL: 'C' }, encoding: 'utf8' });
    assert.is(r.status, 0, `setfattr --restore: ${r.stderr}`);
  }
  return expected;
}

/** Differences between a tree and what it should hold (names, types, targets, contents, xattrs). */
function treeMismatches(tree: FileTree, expected: Map<string, Expected>, what: string, opts: { xattrs: boolean }): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [path, inode] of tree.walk()) {
    if (path === '') continue;
    seen.add(path);
    const x = expected.get(path);
    const where = `${what}: '${printableName(path)}'`;
    if (!x) {
      problems.push(`${where} is not expected`);
      continue;
    }
    if (inode.type !== x.type) problems.push(`${where} is a ${inode.type}, expected ${x.type}`);
    if (x.target && hex(nameToBytes(inode.target ?? '')) !== hex(x.target))
      problems.push(`${where} -> '${printableName(inode.target ?? '')}', expected ${hex(x.target)}`);
    if (x.data && (!inode.content || hex(readContent(inode.content)) !== hex(x.data))) problems.push(`${where} content differs`);
    if (opts.xattrs) {
      const got = [...(inode.xattrs ?? new Map<string, Uint8Array>())]
        .filter(([k]) => k.startsWith('user.'))
        .map(([k, v]) => `${hex(nameToBytes(k))}=${hex(v)}`)
        .sort();
      const want = [...x.xattrs].map(([k, v]) => `${hex(nameToBytes(k))}=${hex(v)}`).sort();
      if (got.join() !== want.join()) problems.push(`${where} xattrs ${got.join()} expected ${want.join()}`);
    }
  }
  for (const path of expected.keys()) if (!seen.has(path)) problems.push(`${what}: '${printableName(path)}' is missing`);
  return problems;
}

/** The image read back by kiln's reader: every directory listed, names and targets as bytes. */
function readerMismatchesFor(image: string, expected: Map<string, Expected>): string[] {
  const problems: string[] = [];
  const source = new FileSource(image);
  try {
    const reader = readExt4(source, { verify: true });
    const listed = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of reader.list(dir)) {
        const path = dir ? `${dir}/${e.name}` : e.name;
        if (path === 'lost+found') continue;
        listed.add(path);
        const x = expected.get(path);
        if (!x) {
          problems.push(`reader lists unexpected '${printableName(path)}'`);
          continue;
        }
        const st = reader.stat(path);
        if (st.type !== x.type) problems.push(`reader: '${printableName(path)}' is ${st.type}`);
        if (x.target && hex(nameToBytes(st.target ?? '')) !== hex(x.target))
          problems.push(`reader: '${printableName(path)}' -> '${printableName(st.target ?? '')}'`);
        if (x.data && hex(reader.readFile(path)) !== hex(x.data)) problems.push(`reader: '${printableName(path)}' content differs`);
        for (const [k, v] of x.xattrs)
          if (hex(st.xattrs?.get(k) ?? new Uint8Array([1, 2, 3, 4, 5])) !== hex(v))
            problems.push(`reader: '${printableName(path)}' xattr ${printableName(k)} differs`);
        if (st.type === 'dir') walk(path);
      }
    };
    walk('');
    for (const p of expected.keys()) if (!listed.has(p)) problems.push(`reader does not list '${printableName(p)}'`);
    for (const c of reader.checksumErrors) problems.push(`reader: checksum of ${c.what}`);
  } finally {
    source.close();
  }
  return problems;
}

function writeImage(tree: FileTree, image: string): void {
  const size = Math.max(planExt4(tree, {}).minimumSize, 4 << 20);
  const target = SparseFileTarget.create(image, size);
  try {
    writeExt4(tree, target, {});
  } finally {
    target.commit();
  }
}

/** debugfs as the oracle: rdump the image to a directory and read that back. */
function debugfsMismatches(image: string, expected: Map<string, Expected>, out: string): string[] {
  mkdirSync(out);
  run('debugfs', ['-R', `rdump / ${out}`, image]);
  const back = treeFromDirectory(out, { xattrs: false });
  const copy = new Map(expected);
  return treeMismatches(back, copy, 'debugfs rdump', { xattrs: false }).filter((p) => !p.includes("'lost+found'"));
}

for (const t of ['tar', 'debugfs', 'e2fsck', 'setfattr', 'getfattr']) requireTool(t);

test('byte names: directory → FileTree → ext4 → reader, GNU tar (gnu, pax) → FileTree → ext4, tar → artifact → checkout, all identical', async () => {
  const runs = propertyRuns(12);
  await fc
    .assert(
      fc.asyncProperty(fc.array(entryArb, { minLength: 1, maxLength: 14 }), async (spec) => {
        try {
          await checkSpec(spec);
        } catch (e) {
          lastError = e instanceof Error ? `${e.message}\n${(e as { details?: string }).details ?? ''}` : String(e);
          throw e;
        }
      }),
      { numRuns: runs },
    )
    .catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\nlast failure: ${lastError}`);
    });
});

let lastError = '';

async function checkSpec(spec: EntrySpec[]): Promise<void> {
  const n = serial++;
  const base = join(work, `r${n}`);
  const src = join(base, 'src');
  mkdirSync(src, { recursive: true });
  try {
    const expected = makeOnDisk(src, spec);
    // directory → FileTree (names, targets and xattrs as bytes)
    const fromDir = treeFromDirectory(src);
    assert.equal(treeMismatches(fromDir, expected, 'directory', { xattrs: true }), []);
    // → ext4 → kiln's reader; e2fsck and debugfs on a sample
    const image = join(base, 'dir.img');
    writeImage(fromDir, image);
    assert.equal(readerMismatchesFor(image, expected), []);
    if (n % 4 === 0) {
      const fsck = run('e2fsck', ['-fn', image], { allowFail: true });
      assert.is(fsck.status, 0, `e2fsck -fn: ${fsck.stdout}${fsck.stderr}`);
      assert.equal(debugfsMismatches(image, expected, join(base, 'rdump')), []);
    }
    // GNU tar from the real directory → FileTree → ext4 → reader
    for (const format of ['gnu', 'pax']) {
      const archive = join(base, `${format}.tar`);
      run('tar', [`--format=${format}`, ...(format === 'pax' ? ['--xattrs'] : []), '-cf', archive, '-C', src, '.'], { env: { ...process.env, LC_ALL: 'C' } });
      const { tree, dispose } = await treeFromTar(archive);
      try {
        assert.equal(treeMismatches(tree, expected, `${format} tar`, { xattrs: format === 'pax' }), []);
        const img = join(base, `${format}.img`);
        writeImage(tree, img);
        assert.equal(readerMismatchesFor(img, format === 'pax' ? expected : withoutXattrs(expected)), []);
        if (format === 'pax') {
          // tar → artifact (cache manifest) → checkout (files made on disk) and checkout --tar
          const cache = openCache(join(base, 'cache'));
          const ref = { project: 'p', element: 'e.bst', key: 'ab'.repeat(32) };
          await cache.artifacts.commit(ref, tree, { public: {}, keys: { strong: ref.key }, dependencies: {} });
          const loaded = cache.artifacts.load(ref)!.tree;
          assert.equal(treeMismatches(loaded, expected, 'artifact', { xattrs: true }), []);
          const out = join(base, 'checkout');
          materialize(loaded, out, { owners: false });
          assert.equal(treeMismatches(treeFromDirectory(out), expected, 'checkout', { xattrs: false }), []);
          const tarOut = join(base, 'checkout.tar');
          writeTarFile(loaded, tarOut);
          const again = await treeFromTar(tarOut);
          assert.equal(treeMismatches(again.tree, expected, 'kiln tar', { xattrs: true }), []);
          again.dispose();
          // GNU tar reads kiln's archive back to the same bytes
          const ex = join(base, 'gnu-extract');
          mkdirSync(ex);
          run('tar', ['-xf', tarOut, '-C', ex], { env: { ...process.env, LC_ALL: 'C' } });
          assert.equal(treeMismatches(treeFromDirectory(ex, { xattrs: false }), expected, 'GNU tar extract', { xattrs: false }), []);
        }
      } finally {
        dispose();
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

function withoutXattrs(m: Map<string, Expected>): Map<string, Expected> {
  return new Map([...m].map(([k, v]) => [k, { ...v, xattrs: new Map() }]));
}

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
