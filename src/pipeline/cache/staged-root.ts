import { mkdirSync, readdirSync } from 'node:fs';
import { KilnError } from '../../errors.js';
import { hostJoin, type HostPath } from '../../fs/host-path.js';
import { hasRawBytes } from '../../fs/name-bytes.js';
import { baseName, normalizePath, parentOf, type FileTree, type Inode } from '../../fs/tree.js';
import { SANDBOX_OWN_MOUNTS, type Sandbox, type SandboxMount } from '../sandbox/sandbox.js';
import { NodeWriter, type MaterializeOptions, type MaterializeResult } from './materialize.js';

/**
 * Sandbox roots staged from cached artifacts without copying them. The staged tree (every
 * dependency staged over the others, stage-tree.ts) is written as a farm: directories are
 * made, symlinks and special files created, regular files hard-linked from the artifacts'
 * directories (artifact-dirs.ts) — and a directory whose whole subtree is one artifact's
 * directory, unchanged, is not written at all but bound read-only over an empty mount point.
 * Staging the Debian base of the example is then a few dozen directories and binds.
 *
 * The cache must stay out of the commands' reach. Commands run with the root read-only and
 * without capabilities (bwrap.ts), so a write, chmod or unlink of a linked file fails, and a
 * hard link to one cannot be made in a writable mount (that is another mount: EXDEV). What a
 * run may change is made private — written as copies — before it starts (`privatize`): its
 * writable mounts (install root, build root), what the sandbox mounts over (/proc, /tmp,
 * /dev), or, for a run with a writable root (integration commands), everything.
 */

/** An artifact whose files a staged root may link or bind. */
export interface ArtifactSource {
  readonly tree: FileTree;
  /** The artifact as a host directory (written on first use). */
  dir(): string;
}

/** Where a staged inode comes from: an artifact, and the inode's (first) path in its tree. */
export interface Origin {
  artifact: ArtifactSource;
  path: string;
}

export type OriginOf = (inode: Inode) => Origin | undefined;

/**
 * A directory holding nothing but directories (or nothing): it matches the same directories,
 * with the same metadata, in whichever artifact its parent turns out to come from.
 */
const DIRS_ONLY = Symbol('dirs-only');
type Purity = Origin | null | typeof DIRS_ONLY;

/** `path` is `dir` or lies under it ('' is the root). */
function within(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

function child(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function sameMeta(a: Inode, b: Inode): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.mtime.sec === b.mtime.sec && a.mtime.nsec === b.mtime.nsec;
}

/**
 * For each directory of `tree`: the artifact directory it equals (same entries, the same
 * inodes, the same metadata), found bottom-up from where its entries come from; null if it
 * mixes artifacts or holds anything no artifact has.
 */
function purity(tree: FileTree, originOf: OriginOf): (path: string) => Purity | undefined {
  // an artifact's own tree (a root staged from one artifact as it is): each directory is its own
  let own: ArtifactSource | undefined;
  for (const [, inode] of tree.walk()) {
    if (inode.type === 'dir') continue;
    own = originOf(inode)?.artifact;
    break;
  }
  if (own?.tree === tree) return (path) => (tree.get(path)?.type === 'dir' ? { artifact: own, path } : undefined);
  const out = new Map<string, Purity>();
  const dirs: [string, Inode][] = [];
  for (const entry of tree.walk()) if (entry[1].type === 'dir') dirs.push(entry);
  // walk() lists parents first: backwards, every child directory is decided before its parent
  for (let i = dirs.length - 1; i >= 0; i--) {
    const [path, inode] = dirs[i]!;
    out.set(path, dirPurity(tree, path, inode, originOf, out));
  }
  return (path) => out.get(path);
}

function dirPurity(tree: FileTree, path: string, inode: Inode, originOf: OriginOf, decided: Map<string, Purity>): Purity {
  const names = tree.children(path);
  let from: Origin | undefined;
  const dirsOnly: string[] = [];
  const others: string[] = [];
  const from1 = (o: Origin): boolean => {
    if (!from) from = { artifact: o.artifact, path: parentOf(o.path) };
    return from.artifact === o.artifact && from.path === parentOf(o.path);
  };
  for (const name of names) {
    const node = tree.get(child(path, name))!;
    if (node.type !== 'dir') {
      others.push(name);
      continue;
    }
    const d = decided.get(child(path, name));
    if (d === DIRS_ONLY) dirsOnly.push(name);
    // an artifact's root has no name to match
    else if (!d || d.path === '' || baseName(d.path) !== name || !from1(d)) return null;
  }
  // else the first file found where its origin says: a hard link's first path may be in another directory
  for (let i = 0; !from && i < others.length; i++) {
    const o = originOf(tree.get(child(path, others[i]!))!);
    if (o && baseName(o.path) === others[i]) from1(o);
  }
  if (!from) return others.length === 0 ? DIRS_ONLY : null;
  const { artifact, path: at } = from!;
  const source = artifact.tree;
  const there = source.get(at);
  if (there?.type !== 'dir' || !sameMeta(there, inode) || source.children(at).length !== names.length) return null;
  // the very inodes of the artifact's tree: the same files, whichever of their names the index holds
  for (const name of others) if (source.get(child(at, name)) !== tree.get(child(path, name))) return null;
  for (const name of dirsOnly) if (!sameDirs(tree, child(path, name), source, child(at, name))) return null;
  return from!;
}

/** `path` of `tree` (directories only) and `at` of `source` are the same directories with the same metadata. */
function sameDirs(tree: FileTree, path: string, source: FileTree, at: string): boolean {
  const mine = tree.get(path)!;
  const theirs = source.get(at);
  if (theirs?.type !== 'dir' || !sameMeta(theirs, mine)) return false;
  const names = tree.children(path);
  if (source.children(at).length !== names.length) return false;
  return names.every((name) => sameDirs(tree, child(path, name), source, child(at, name)));
}

/** One staged root: the tree, its host directory, and which of its directories are binds. */
export class StagedRoot {
  private readonly purity: (path: string) => Purity | undefined;
  /** Bound directories (paths in the tree) and the artifact directories bound there. */
  private readonly binds = new Map<string, Origin>();
  /** Subtrees written as copies. */
  private readonly privatePaths: string[] = [];
  /** Paths that must be real directories of the root: no bind at them or above them. */
  private readonly unbound: string[] = [];

  constructor(
    readonly tree: FileTree,
    readonly dir: string,
    private readonly originOf: OriginOf,
    private readonly options: MaterializeOptions = {},
  ) {
    this.purity = purity(tree, originOf);
  }

  /** Writes the tree into its directory, which must be empty or missing. */
  write(): MaterializeResult {
    mkdirSync(this.dir, { recursive: true });
    if (readdirSync(this.dir).length > 0) throw new KilnError('dest-not-empty', `'${this.dir}' is not empty`, 'stage into an empty directory');
    return this.writeAt('');
  }

  /** The read-only binds the sandbox adds over the root, in path order. */
  mounts(): SandboxMount[] {
    return [...this.binds]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, o]) => ({ path: `/${path}`, host: hostJoin(o.artifact.dir(), o.path) as string, writable: false }));
  }

  /** Makes the subtree at `inner` (a path inside the sandbox) private copies that commands may change. */
  privatize(inner: string): void {
    const path = normalizePath(inner);
    if (this.privatePaths.some((p) => within(path, p))) return;
    this.privatePaths.push(path);
    if (this.unbindAbove(path)) return;
    // binds below go too, and linked files become copies
    for (const b of [...this.binds.keys()]) if (within(b, path)) this.binds.delete(b);
    if (this.tree.get(path)) this.writeAt(path);
  }

  /** Makes `inner` a real directory of the root (a working directory, a mount point): no bind at or above it. */
  unbind(inner: string): void {
    const path = normalizePath(inner);
    this.unbound.push(path);
    this.unbindAbove(path);
  }

  /** Writes out the bind at or above `path`, if any (with finer binds inside); whether there was one. */
  private unbindAbove(path: string): boolean {
    for (const b of this.binds.keys()) {
      if (!within(path, b)) continue;
      this.binds.delete(b);
      this.writeAt(b);
      return true;
    }
    return false;
  }

  private bindable(path: string): Origin | undefined {
    const p = this.purity(path);
    if (!p || p === DIRS_ONLY || path === '') return undefined;
    // bwrap takes paths as text
    if (hasRawBytes(path) || hasRawBytes(p.path)) return undefined;
    if (this.privatePaths.some((q) => within(path, q) || within(q, path))) return undefined;
    if (this.unbound.some((q) => within(q, path))) return undefined;
    return p;
  }

  private linkSource(inode: Inode): HostPath | undefined {
    if (inode.type !== 'file') return undefined;
    const o = this.originOf(inode);
    return o ? hostJoin(o.artifact.dir(), o.path) : undefined;
  }

  /** Writes the subtree at `start` over what is there: directories merge, other nodes are replaced. */
  private writeAt(start: string): MaterializeResult {
    const writer = new NodeWriter(this.dir, this.options);
    // A writer links a file's later names to its first: private names get a writer of their
    // own, so a private copy is never linked to a name of the same file that is in the cache.
    let copies: NodeWriter | undefined;
    const stack = [start];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const inode = this.tree.get(path)!;
      const dest = hostJoin(this.dir, path);
      if (inode.type !== 'dir') {
        if (this.privatePaths.some((q) => within(path, q))) (copies ??= new NodeWriter(this.dir, this.options)).node(path, dest, inode);
        else writer.node(path, dest, inode, this.linkSource(inode));
        continue;
      }
      writer.dir(path, dest, inode);
      const bind = this.bindable(path);
      if (bind) this.binds.set(path, bind);
      else for (const name of this.tree.children(path)) stack.push(child(path, name));
    }
    const result = writer.finish();
    if (copies) {
      const more = copies.finish();
      result.skipped.push(...more.skipped);
      result.xattrsDropped.push(...more.xattrsDropped);
    }
    return result;
  }
}

/**
 * The staged roots of one build, and the sandbox that runs commands in them: before each run
 * it makes private what the run may change and adds the read-only binds.
 */
export class StagedRoots {
  private readonly roots = new Map<string, StagedRoot>();

  constructor(private readonly originOf: OriginOf) {}

  /** Writes `tree` into the empty directory `dir` as a staged root. */
  stage(tree: FileTree, dir: string): MaterializeResult {
    const root = new StagedRoot(tree, dir, this.originOf);
    const result = root.write();
    this.roots.set(dir, root);
    return result;
  }

  /** Makes the host directory `dir` private if it lies in a staged root: before writing into it or collecting it. */
  privatize(dir: string): void {
    for (const [top, root] of this.roots) {
      if (dir === top || dir.startsWith(`${top}/`)) root.privatize(dir.slice(top.length) || '/');
    }
  }

  /** `inner` running in these roots. */
  sandbox(inner: Sandbox): Sandbox {
    return {
      run: (commands, root, mounts, env, log, options = {}) => {
        const staged = this.roots.get(root);
        if (!staged) return inner.run(commands, root, mounts, env, log, options);
        if (!options.rootReadOnly) staged.privatize('/');
        else {
          for (const p of SANDBOX_OWN_MOUNTS) staged.privatize(p);
          for (const m of mounts) {
            if (m.writable === false) staged.unbind(m.path);
            else staged.privatize(m.path);
          }
          staged.unbind(options.cwd ?? '/');
        }
        return inner.run(commands, root, [...staged.mounts(), ...mounts], env, log, options);
      },
    };
  }
}
