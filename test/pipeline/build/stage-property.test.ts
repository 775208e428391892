import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { FileTree, parentOf, type Inode } from '../../../src/fs/tree.js';
import { stageTree } from '../../../src/pipeline/kinds/stage-tree.js';
import { propertyRuns } from '../../helpers/tools.js';

/**
 * Staging properties over generated trees (no symlinked directories, so paths map 1:1):
 * staging into an empty tree reproduces the tree; staging B over A leaves every path of B with
 * B's node unless a non-empty directory of A was in the way, keeps A's paths B does not touch,
 * and reports exactly the non-directories B replaced as overlaps.
 */

type Spec = [string, 'file' | 'dir' | 'symlink'][];

const name = fc.constantFrom('a', 'b', 'c', 'd');
const specArb: fc.Arbitrary<Spec> = fc.array(
  fc.tuple(
    fc.array(name, { minLength: 1, maxLength: 3 }).map((p) => p.join('/')),
    fc.constantFrom('file' as const, 'dir' as const, 'symlink' as const),
  ),
  { maxLength: 12 },
);

function build(spec: Spec, tag: string): FileTree {
  const t = new FileTree();
  for (const [path, type] of spec) {
    if (t.has(path)) continue;
    const parent = parentOf(path);
    let blocked = false;
    for (let up = parent; up !== ''; up = parentOf(up)) if (t.get(up) && t.get(up)!.type !== 'dir') blocked = true;
    if (blocked) continue;
    if (parent !== '') t.mkdirp(parent);
    if (type === 'dir') t.mkdir(path, { mode: 0o750 });
    else if (type === 'file') t.file(path, `${tag}:${path}`, { mode: 0o640 });
    else t.symlink(path, `target-${tag}`);
  }
  return t;
}

const paths = (t: FileTree) => [...t.walk()].map(([p]) => p);

test('staging into an empty tree reproduces it', () => {
  fc.assert(
    fc.property(specArb, (spec) => {
      const src = build(spec, 'x');
      const dest = new FileTree();
      const r = stageTree(dest, src);
      assert.equal(r, { overlaps: [], ignored: [] });
      assert.equal(paths(dest), paths(src));
      for (const [p, inode] of src.walk()) if (inode.type !== 'dir') assert.is(dest.get(p), inode);
    }),
    { numRuns: propertyRuns(200) },
  );
});

test('staging B over A: B wins, A keeps the rest, overlaps are the replaced non-directories', () => {
  fc.assert(
    fc.property(specArb, specArb, (sa, sb) => {
      const a = build(sa, 'a');
      const b = build(sb, 'b');
      const before = new Map<string, Inode>([...a.walk()]);
      const dest = new FileTree();
      stageTree(dest, a);
      const r = stageTree(dest, b);
      const expectOverlaps: string[] = [];
      const ignoredUnder = (p: string) => r.ignored.some((i) => p === i.slice(1) || p.startsWith(`${i.slice(1)}/`));
      for (const [p, inode] of b.walk()) {
        if (p === '') continue;
        if (ignoredUnder(p)) {
          assert.is(before.get(p)?.type, 'dir', `ignored ${p} only where A has a directory`);
          continue;
        }
        const old = before.get(p);
        if (inode.type === 'dir') assert.is(dest.get(p)!.type, 'dir');
        else {
          assert.is(dest.get(p), inode, `B's ${p} is staged`);
          if (old && old.type !== 'dir') expectOverlaps.push(`/${p}`);
        }
      }
      assert.equal([...r.overlaps].sort(), expectOverlaps.sort());
      for (const [p, inode] of a.walk()) {
        if (p === '' || b.has(p)) continue;
        // A's path survives unless B replaced one of its parents with a non-directory.
        let parent = parentOf(p);
        let shadowed = false;
        while (parent !== '') {
          if (b.get(parent) && b.get(parent)!.type !== 'dir' && !r.ignored.includes(`/${parent}`)) shadowed = true;
          parent = parentOf(parent);
        }
        if (!shadowed) assert.is(dest.get(p)?.type, inode.type, `A's ${p} survives`);
      }
    }),
    { numRuns: propertyRuns(300) },
  );
});

test.run();
