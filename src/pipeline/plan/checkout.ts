import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import type { HostContent } from '../../fs/content.js';
import { treeFromDirectory } from '../../fs/tree-from-dir.js';
import { FileTree, type Inode } from '../../fs/tree.js';
import type { BlobStore } from '../cache/blobs.js';
import { materialize } from '../cache/materialize.js';
import { hasIntegration, integrate, stageArtifacts } from '../kinds/staging.js';
import type { Element } from '../model.js';
import { makeAssembleContext } from './builder.js';
import type { Session } from './session.js';

/**
 * What `kiln checkout` produces (docs/format.md#kiln-checkout): RUN(element) (or the element alone, or the 2.x
 * build/all scopes) staged in order into one tree, then integrated. Integration needs real
 * files, so the tree is materialised and the commands run in the sandbox; afterwards only what
 * they changed is taken back from disk. Everything they left alone keeps the artifact manifest's
 * owners, setuid bits and device nodes, which a rootless disk copy would have lost.
 */

export type CheckoutDeps = 'run' | 'none' | 'build' | 'all';

export interface CheckoutOptions {
  deps: CheckoutDeps;
  integrate: boolean;
  /** Progress lines (integration commands). */
  status?(message: string): void;
}

export function checkoutElements(session: Session, element: Element, deps: CheckoutDeps): Element[] {
  switch (deps) {
    case 'none':
      return [element];
    case 'run':
      return session.dependencies(element, 'run');
    case 'build':
      return session.dependencies(element, 'build');
    case 'all':
      return session.dependencies(element, 'all');
  }
}

function sameTime(a: Inode, b: Inode): boolean {
  // host utimes keeps about a microsecond; artifact times are whole seconds in practice
  return a.mtime.sec === b.mtime.sec && Math.abs(a.mtime.nsec - b.mtime.nsec) < 2000;
}

/**
 * The tree after integration: paths whose type, mode, size, time and target are as staged keep
 * the staged inode; new or changed ones come from disk (contents into the blob store); paths the
 * commands removed are gone. Special files the host could not create are kept as staged.
 */
export function mergeIntegrated(staged: FileTree, root: string, skipped: readonly string[], blobs: BlobStore): FileTree {
  const after = treeFromDirectory(root, { owners: 'root' });
  const out = new FileTree();
  Object.assign(out.root, staged.root);
  const fromDisk = new Map<Inode, Inode>();
  for (const [path, inode] of after.walk()) {
    if (path === '') continue;
    const before = staged.get(path);
    let keep = false;
    if (before && before.type === inode.type && before.mode === inode.mode) {
      if (inode.type === 'dir') keep = true;
      else if (inode.type === 'symlink') keep = before.target === inode.target;
      else if (inode.type === 'file') keep = before.content?.size === inode.content?.size && sameTime(before, inode);
      else keep = true;
    }
    if (keep) {
      out.add(path, before!.type === 'dir' ? { ...before!, content: undefined } : before!);
      continue;
    }
    let fresh = fromDisk.get(inode);
    if (!fresh) {
      fresh = { ...inode };
      if (inode.type === 'file') fresh.content = blobs.putFile((inode.content as HostContent).path);
      if (inode.type !== 'dir') fromDisk.set(inode, fresh);
    }
    out.add(path, fresh);
  }
  for (const path of skipped) {
    const inode = staged.get(path);
    if (inode && !out.has(path)) {
      out.mkdirp(path.slice(0, Math.max(0, path.lastIndexOf('/'))));
      out.add(path, inode);
    }
  }
  return out;
}

/** The checkout tree of `element`; its artifacts (per `deps`) must all be cached. */
export async function checkoutTree(session: Session, element: Element, options: CheckoutOptions): Promise<FileTree> {
  const elements = checkoutElements(session, element, options.deps);
  const missing = elements.filter((e) => !session.isCached(e));
  if (missing.length > 0) {
    throw new KilnError(
      'checkout-missing-artifacts',
      `cannot check out ${element.name}: these elements are not in the artifact cache:\n${missing.map((e) => `  ${e.name}`).join('\n')}`,
      `build them first: kiln build ${element.name}`,
    );
  }
  mkdirSync(session.cache.tmpDir, { recursive: true });
  const workDir = join(session.cache.tmpDir, `build-${process.pid}-checkout-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(workDir);
  try {
    const ctx = makeAssembleContext(session, element, workDir, join(workDir, 'checkout.log'), options.status ? { status: (_e, m) => options.status!(m) } : {});
    const tree = new FileTree();
    stageArtifacts(ctx, tree, elements);
    if (!options.integrate || !hasIntegration(elements)) return tree;
    const root = join(workDir, 'root');
    const { skipped } = materialize(tree, root, { owners: false });
    try {
      await integrate(ctx, root, elements);
    } catch (e) {
      if (e instanceof KilnError)
        throw new KilnError(e.code, `integrating the checkout of ${element.name}: ${e.message}`, e.hint ?? `see the log ${join(workDir, 'checkout.log')}`);
      throw e;
    }
    return mergeIntegrated(tree, root, skipped, session.cache.blobs);
  } finally {
    session.discardScratch(workDir, element);
  }
}
