import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContent } from '../../../src/fs/file-content.js';
import { FileTree, parentOf, type Inode } from '../../../src/fs/tree.js';
import { materialize } from '../../../src/pipeline/cache/materialize.js';
import { StagedRoot, type ArtifactSource, type Origin } from '../../../src/pipeline/cache/staged-root.js';
import { stageTree } from '../../../src/pipeline/kinds/stage-tree.js';
import { propertyRuns } from '../../helpers/tools.js';

/**
 * A staged root (farm of directories and hard links, plus read-only binds of artifact
 * directories) shows the staged tree exactly, before and after parts of it are made private;
 * private parts never share an inode with an artifact directory, and the rest is never copied.
 */

const work = mkdtempSync(join(tmpdir(), 'kiln-staged-root-'));

type Spec = [string, 'file' | 'dir' | 'symlink' | 'exec' | 'link'][];
const name = fc.constantFrom('a', 'b', 'c');
const specArb: fc.Arbitrary<Spec> = fc.array(
  fc.tuple(
    fc.array(name, { minLength: 1, maxLength: 4 }).map((p) => p.join('/')),
    fc.constantFrom('file' as const, 'dir' as const, 'symlink' as const, 'exec' as const, 'link' as const),
  ),
  { maxLength: 14 },
);

/**
 * An artifact tree; parent directories alike (0755, time 0) so that artifacts can share them,
 * listed ones in the artifact's own mode; a link is a hard link to the artifact's first file.
 */
function build(spec: Spec, tag: string): FileTree {
  const t = new FileTree();
  for (const [path, type] of spec) {
    if (t.has(path)) continue;
    let blocked = false;
    for (let up = parentOf(path); up !== ''; up = parentOf(up)) if (t.get(up) && t.get(up)!.type !== 'dir') blocked = true;
    if (blocked) continue;
    if (parentOf(path) !== '') t.mkdirp(parentOf(path));
    const firstFile = [...t.walk()].find(([, inode]) => inode.type === 'file')?.[0];
    if (type === 'dir') t.mkdir(path, { mode: tag === 'a' ? 0o755 : 0o750 });
    else if (type === 'link') {
      if (firstFile !== undefined) t.link(path, firstFile);
    } else if (type === 'symlink') t.symlink(path, `target-${tag}`);
    else t.file(path, `${tag}:${path}\n`, { mode: type === 'exec' ? 0o755 : 0o644, mtime: { sec: 1000, nsec: 0 } });
  }
  return t;
}

interface Seen {
  type: string;
  mode: number;
  text?: string;
  ino?: number;
}

/** What the sandbox sees: the host directory, with each bind's directory in place of its mount point. */
function view(dir: string, binds: { path: string; host: string }[]): Map<string, Seen> {
  const out = new Map<string, Seen>();
  const walk = (host: string, at: string): void => {
    const bind = binds.find((b) => b.path === `/${at}`);
    if (bind && at !== '') host = bind.host;
    for (const n of readdirSync(host)) {
      const p = at === '' ? n : `${at}/${n}`;
      const h = join(host, n);
      const st = lstatSync(h);
      if (st.isDirectory()) {
        out.set(p, { type: 'dir', mode: st.mode & 0o7777 });
        walk(h, p);
      } else if (st.isSymbolicLink()) out.set(p, { type: 'symlink', mode: 0, text: readlinkSync(h) });
      else out.set(p, { type: 'file', mode: st.mode & 0o7777, text: readFileSync(h, 'utf8'), ino: st.ino });
    }
  };
  walk(dir, '');
  return out;
}

function expected(tree: FileTree): Map<string, Seen> {
  const out = new Map<string, Seen>();
  for (const [p, inode] of tree.walk()) {
    if (p === '') continue;
    if (inode.type === 'dir') out.set(p, { type: 'dir', mode: inode.mode });
    else if (inode.type === 'symlink') out.set(p, { type: 'symlink', mode: 0, text: inode.target! });
    else out.set(p, { type: 'file', mode: inode.mode, text: new TextDecoder().decode(readContent(inode.content!)) });
  }
  return out;
}

function assertShows(seen: Map<string, Seen>, tree: FileTree): void {
  const want = expected(tree);
  assert.equal([...seen.keys()].sort(), [...want.keys()].sort(), 'the same paths');
  for (const [p, w] of want) {
    const { ino: _ino, ...s } = seen.get(p)!;
    assert.equal(s, w, p);
  }
}

/** `trees` written as artifact directories under `dir`, the index of where each inode comes from, and their staged root, written. */
function stageInto(trees: FileTree[], dir: string) {
  const artifacts = trees.map((tree, i): ArtifactSource => {
    const at = join(dir, `artifact-${i}`);
    materialize(tree, at);
    return { tree, dir: () => at };
  });
  const origins = new Map<Inode, Origin>();
  for (const artifact of artifacts)
    for (const [path, inode] of artifact.tree.walk()) if (inode.type !== 'dir' && !origins.has(inode)) origins.set(inode, { artifact, path });
  const combined = new FileTree();
  for (const a of artifacts) stageTree(combined, a.tree);
  const root = new StagedRoot(combined, join(dir, 'root'), (i) => origins.get(i));
  root.write();
  return { artifacts, origins, combined, root };
}

let round = 0;

test('a staged root shows the staged tree, links and binds the rest, and copies what is made private', () => {
  fc.assert(
    fc.property(
      specArb,
      specArb,
      fc.array(
        fc.array(name, { minLength: 1, maxLength: 3 }).map((p) => p.join('/')),
        { maxLength: 2 },
      ),
      (sa, sb, privates) => {
        const dir = join(work, `r${round++}`);
        const { artifacts, origins, combined, root } = stageInto([build(sa, 'a'), build(sb, 'b')], dir);
        const artifactInodes = new Set<number>();
        for (const a of artifacts) for (const s of view(a.dir(), []).values()) if (s.ino !== undefined) artifactInodes.add(s.ino);

        const check = (privatePaths: string[]): void => {
          const mounts = root.mounts().map((m) => ({ path: m.path, host: m.host! }));
          for (const m of mounts) assert.is(combined.get(m.path.slice(1))?.type, 'dir', `${m.path} is bound over a directory`);
          const seen = view(join(dir, 'root'), mounts);
          assertShows(seen, combined);
          for (const [p, s] of seen) {
            if (s.ino === undefined) continue;
            const isPrivate = privatePaths.some((q) => p === q || p.startsWith(`${q}/`));
            if (isPrivate) assert.not.ok(artifactInodes.has(s.ino), `${p} is private: a copy`);
            else assert.ok(artifactInodes.has(s.ino), `${p} comes from the cache, not a copy`);
          }
        };
        // an artifact's own tree as a root shows that artifact
        const own = new StagedRoot(artifacts[0]!.tree, join(dir, 'own'), (i) => origins.get(i));
        own.write();
        assertShows(
          view(
            join(dir, 'own'),
            own.mounts().map((m) => ({ path: m.path, host: m.host! })),
          ),
          artifacts[0]!.tree,
        );
        check([]);
        for (let i = 0; i < privates.length; i++) {
          root.privatize(`/${privates[i]}`);
          check(privates.slice(0, i + 1));
        }
        rmSync(dir, { recursive: true, force: true });
      },
    ),
    { numRuns: propertyRuns(150) },
  );
});

test('a directory only one artifact fills is bound, a mixed one is written with links', () => {
  const a = new FileTree();
  a.mkdirp('usr/bin');
  a.file('usr/bin/tool', 'tool\n', { mode: 0o755 });
  a.mkdirp('usr/lib/deep');
  a.file('usr/lib/deep/lib.so', 'lib\n');
  const b = new FileTree();
  b.mkdirp('usr/bin');
  b.file('usr/bin/other', 'other\n', { mode: 0o755 });
  const dir = join(work, 'mixed');
  const { root } = stageInto([a, b], dir);
  assert.equal(root.mounts(), [{ path: '/usr/lib', host: join(dir, 'artifact-0/usr/lib'), writable: false }]);
  assert.is(lstatSync(join(dir, 'root/usr/bin/tool')).ino, lstatSync(join(dir, 'artifact-0/usr/bin/tool')).ino);
  assert.is(lstatSync(join(dir, 'root/usr/bin/other')).ino, lstatSync(join(dir, 'artifact-1/usr/bin/other')).ino);
  assert.equal(readdirSync(join(dir, 'root/usr/lib')), [], 'an empty mount point');
  // a working directory below the bind: the bind is written out, with finer binds inside
  root.unbind('/usr/lib/deep');
  assert.equal(root.mounts(), []);
  assert.is(lstatSync(join(dir, 'root/usr/lib/deep/lib.so')).ino, lstatSync(join(dir, 'artifact-0/usr/lib/deep/lib.so')).ino);
  root.privatize('/usr/bin');
  assert.is.not(lstatSync(join(dir, 'root/usr/bin/tool')).ino, lstatSync(join(dir, 'artifact-0/usr/bin/tool')).ino);
  assert.is(readFileSync(join(dir, 'root/usr/bin/tool'), 'utf8'), 'tool\n');
});

test('a directory holding hard links, or only empty directories, is bound all the same', () => {
  const a = new FileTree();
  a.mkdirp('usr/bin');
  a.file('usr/bin/bunzip2', 'bzip2\n', { mode: 0o755 });
  a.link('usr/bin/bzcat', 'usr/bin/bunzip2');
  a.mkdirp('usr/share/man');
  a.file('usr/share/man/page', 'page\n');
  a.file('usr/share/man/other', 'other\n');
  // listed first under usr/bin: the index of origins names page by this path
  a.link('usr/bin/manlink', 'usr/share/man/page');
  a.mkdirp('etc/kernel/postinst.d');
  a.mkdirp('etc/kernel/prerm.d');
  a.file('etc/motd', 'hi\n');
  const b = new FileTree();
  b.file('extra', 'b\n');
  const dir = join(work, 'links');
  const { origins, combined, root } = stageInto([a, b], dir);
  const host = (p: string): string => join(dir, 'artifact-0', p);
  assert.equal(
    root.mounts().map((m) => [m.path, m.host]),
    [
      ['/etc', host('etc')],
      ['/usr', host('usr')],
    ],
  );
  // an artifact's own tree, staged as it is: the same binds
  const own = new StagedRoot(a, join(dir, 'own'), (i) => origins.get(i));
  own.write();
  assert.equal(
    own.mounts().map((m) => [m.path, m.host]),
    [
      ['/etc', host('etc')],
      ['/usr', host('usr')],
    ],
  );
  assert.equal(readdirSync(join(dir, 'own')).sort(), ['etc', 'usr']);
  // with another artifact's file in it, the directory of empty directories is written, not bound
  const c = new FileTree();
  c.mkdirp('etc/kernel');
  c.file('etc/kernel/extra', 'c\n');
  const cDir = join(dir, 'artifact-2');
  materialize(c, cDir);
  const cSource: ArtifactSource = { tree: c, dir: () => cDir };
  origins.set(c.get('etc/kernel/extra')!, { artifact: cSource, path: 'etc/kernel/extra' });
  stageTree(combined, c);
  const mixed = new StagedRoot(combined, join(dir, 'mixed'), (i) => origins.get(i));
  mixed.write();
  assert.equal(
    mixed.mounts().map((m) => m.path),
    ['/usr'],
  );
  assert.equal(readdirSync(join(dir, 'mixed/etc/kernel')).sort(), ['extra', 'postinst.d', 'prerm.d']);
  // one name of a hard-linked file made private in a bound directory: that name is a copy, the
  // other still the cache's (fast-check found the copy linked to the cache's other name)
  root.privatize('/usr/bin/bzcat');
  assert.equal(
    root.mounts().map((m) => m.path),
    ['/etc', '/usr/share'],
  );
  const ino = (p: string): number => lstatSync(p).ino;
  assert.is.not(ino(join(dir, 'root/usr/bin/bzcat')), ino(host('usr/bin/bunzip2')), 'the private name is a copy');
  assert.is(ino(join(dir, 'root/usr/bin/bunzip2')), ino(host('usr/bin/bunzip2')), 'the other name is the cache’s');
  assert.is(readFileSync(join(dir, 'root/usr/bin/bzcat'), 'utf8'), 'bzip2\n');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
