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

test('adds, removes and re-adds in any order walk as a tree built once from what is left', () => {
  // Paths over a few names and two levels, so removals and re-adds hit the same names and directories.
  const name = fc.constantFrom('a', 'b', 'é', 'a-b', 'A');
  const path = fc.oneof(
    name,
    fc.tuple(name, name).map(([d, f]) => `${d}/${f}`),
  );
  const op = fc.oneof(
    path.map((p) => ({ do: 'mkdir' as const, p })),
    path.map((p) => ({ do: 'file' as const, p })),
    path.map((p) => ({ do: 'remove' as const, p })),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const t = new FileTree();
      // the reference: path → type, with the rules the tree enforces
      const model = new Map<string, 'dir' | 'file'>([['', 'dir']]);
      const parent = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
      for (const o of ops) {
        if (o.do === 'remove') {
          t.remove(o.p);
          for (const k of [...model.keys()]) if (k === o.p || k.startsWith(`${o.p}/`)) model.delete(k);
        } else if (!model.has(o.p) && model.get(parent(o.p)) === 'dir') {
          if (o.do === 'mkdir') t.mkdir(o.p);
          else t.file(o.p, o.p);
          model.set(o.p, o.do === 'mkdir' ? 'dir' : 'file');
        } else assert.throws(() => (o.do === 'mkdir' ? t.mkdir(o.p) : t.file(o.p, 'x')));
      }
      const fresh = new FileTree();
      for (const p of [...model.keys()].sort((a, b) => a.split('/').length - b.split('/').length))
        if (p !== '') model.get(p) === 'dir' ? fresh.mkdir(p) : fresh.file(p, p);
      assert.equal(
        [...t.walk()].map(([p, i]) => [p, i.type]),
        [...fresh.walk()].map(([p, i]) => [p, i.type]),
      );
      assert.is(t.pathCount, model.size);
      for (const [p, type] of model) if (type === 'dir') assert.equal(t.children(p), fresh.children(p));
    }),
    { numRuns: 500 },
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
