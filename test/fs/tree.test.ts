import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FileTree, compareNames, readContent, treeFromDirectory, treeFromTar } from '../../src/index.js';

const wellFormed = (s: string): boolean => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

test('compareNames is the byte order of UTF-8', () => {
  const utf8 = (s: string) => Buffer.from(s, 'utf8');
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }).filter(wellFormed), fc.string({ unit: 'binary' }).filter(wellFormed), (a, b) => {
      assert.is(Math.sign(compareNames(a, b)), Math.sign(Buffer.compare(utf8(a), utf8(b))));
    }),
    { numRuns: 2000 },
  );
});

test('walk is parents-first and byte-ordered regardless of insertion order', () => {
  const t = new FileTree();
  t.mkdir('b');
  t.file('b/z', 'z');
  t.file('B', 'upper');
  t.mkdir('a');
  t.file('a/é', 'accent');
  t.file('a/e', 'e');
  assert.equal(
    [...t.walk()].map(([p]) => p),
    ['', 'B', 'a', 'a/e', 'a/é', 'b', 'b/z'],
  );
});

test('hard links share one inode and count', () => {
  const t = new FileTree();
  const f = t.file('x', 'data');
  t.link('y', 'x');
  assert.is(t.get('y'), f);
  assert.is(t.linkCounts().get(f), 2);
  assert.throws(() => t.link('z', ''), /directory/);
  assert.throws(() => t.file('missing/dir/f', 'x'), /not in the tree/);
  assert.throws(() => t.file('../x', 'x'), /\.\./);
});

test('treeFromDirectory keeps types, modes, links; --root-owner policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-tree-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'f'), 'hello');
    linkSync(join(dir, 'sub', 'f'), join(dir, 'hl'));
    symlinkSync('sub/f', join(dir, 'ln'));
    execFileSync('chmod', ['4755', join(dir, 'sub', 'f')]);
    const t = treeFromDirectory(dir, { owners: 'root' });
    assert.equal(t.children(''), ['hl', 'ln', 'sub']);
    assert.is(t.get('hl'), t.get('sub/f'));
    assert.is(t.get('sub/f')!.mode, 0o4755);
    assert.is(t.get('ln')!.target, 'sub/f');
    assert.is(new TextDecoder().decode(readContent(t.get('sub/f')!.content!)), 'hello');
    assert.throws(() => treeFromDirectory(join(dir, 'nope')), /does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('treeFromTar reads owners, devices, hard links, long names from GNU tar (plain and gzip)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-tar-'));
  try {
    const src = join(dir, 'src');
    const long = 'n'.repeat(150);
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'd', long), 'long name');
    writeFileSync(join(src, 'a'), 'A'.repeat(1000));
    linkSync(join(src, 'a'), join(src, 'd', 'a-link'));
    for (const [fmt, ext, z] of [
      ['gnu', 'tar', []],
      ['pax', 'tar.gz', ['-z']],
    ] as const) {
      const out = join(dir, `t.${ext}`);
      execFileSync('tar', ['-c', ...z, `--format=${fmt}`, '--owner=1234:100000', '--group=5:70000', '--mode=u+s', '-f', out, '-C', src, '.']);
      const { tree, dispose } = await treeFromTar(out);
      try {
        assert.is(new TextDecoder().decode(readContent(tree.get(`d/${long}`)!.content!)), 'long name', fmt);
        assert.is(tree.get('d/a-link'), tree.get('a'));
        assert.is(tree.get('a')!.uid, 100000);
        assert.is(tree.get('a')!.gid, 70000);
        assert.ok((tree.get('a')!.mode & 0o4000) !== 0);
        assert.is(readContent(tree.get('a')!.content!).length, 1000);
      } finally {
        dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
