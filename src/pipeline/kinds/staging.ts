import { KilnError } from '../../errors.js';
import { FileTree, normalizePath } from '../../fs/tree.js';
import type { Element } from '../model.js';
import type { AssembleContext } from './kind.js';
import { copyDirInode, integrationCommands, overlapWhitelist } from './split-rules.js';
import { stageTree } from './stage-tree.js';

/** Staging steps the kinds share: dependencies into a tree, integration in the sandbox. */

/** Stages each element's artifact at `at` of `into`, in order; overlaps become warnings. */
export function stageArtifacts(ctx: AssembleContext, into: FileTree, elements: Element[], at = '/'): void {
  for (const e of elements) {
    const whitelist = overlapWhitelist(e);
    const report = stageTree(into, ctx.artifact(e), at, (p) => whitelist.some((re) => re.test(p)));
    if (report.overlaps.length > 0) {
      ctx.warn(
        'overlaps',
        `${e.name} overwrote ${report.overlaps.length} path(s) staged by earlier elements: ${report.overlaps.slice(0, 10).join(', ')}${report.overlaps.length > 10 ? ', ...' : ''}`,
      );
    }
    if (report.ignored.length > 0) {
      ctx.warn('ignored-files', `Ignored files of ${e.name} (a non-empty directory is in the way): ${report.ignored.slice(0, 10).join(', ')}`);
    }
  }
}

/**
 * Runs the integration commands of `elements` (in order) in the sandbox rooted at `root`: each
 * element's commands with that element's environment, cwd '/', the root writable.
 */
export async function integrate(ctx: AssembleContext, root: string, elements: Element[]): Promise<void> {
  for (const e of elements) {
    const commands = integrationCommands(e);
    if (commands.length === 0) continue;
    ctx.status(`Integrating ${e.name}`);
    await ctx.sandbox.run(commands, root, [], e.environment, ctx.log, { cwd: '/', onCommand: (c) => ctx.status(`Running integration command: ${c}`) });
  }
}

/** Whether any of `elements` has integration commands (else no sandbox run is needed). */
export function hasIntegration(elements: Element[]): boolean {
  return elements.some((e) => integrationCommands(e).length > 0);
}

/** The subtree of `tree` at `path` as a tree of its own, or undefined if `path` is not a directory. */
export function subtree(tree: FileTree, path: string): FileTree | undefined {
  const prefix = normalizePath(path);
  const top = tree.get(prefix);
  if (!top || top.type !== 'dir') return undefined;
  if (prefix === '') return tree;
  const out = new FileTree();
  Object.assign(out.root, copyDirInode(top));
  const strip = prefix.length + 1;
  for (const [p, inode] of tree.walk()) {
    if (!p.startsWith(`${prefix}/`)) continue;
    out.add(p.slice(strip), inode.type === 'dir' ? copyDirInode(inode) : inode);
  }
  return out;
}

/** A tree holding `inner` at directory `at` (parents 0755). */
export function placeAt(inner: FileTree, at: string): FileTree {
  const target = normalizePath(at);
  if (target === '') return inner;
  const out = new FileTree();
  out.mkdirp(target);
  stageTree(out, inner, target);
  return out;
}

/** Inside-the-sandbox absolute path → path relative to the sandbox root, refusing '..'. */
export function sandboxRelative(path: string, what: string): string {
  if (!path.startsWith('/')) throw new KilnError('bad-sandbox-path', `${what} '${path}' must be an absolute path`);
  return normalizePath(path);
}
