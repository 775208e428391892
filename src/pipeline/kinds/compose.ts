import { join } from 'node:path';
import { FileTree } from '../../fs/tree.js';
import type { Element } from '../model.js';
import { KindConfig, requireBuildDepsOnly, requireNoSources, type AssembleContext, type ElementKind, type KeyValue } from './kind.js';
import { computeManifest, listedPaths, needsSplit, selectPaths, splitRules, type SplitSelection } from './split-rules.js';
import { resolveInTree } from './stage-tree.js';
import { hasIntegration, integrate, stageArtifacts } from './staging.js';

/**
 * compose: the build dependencies staged together, optionally integrated, optionally split by
 * domain (docs/format.md#compose). Without integration commands no sandbox is needed: the artifact is
 * the combined tree itself.
 */
interface ComposeConfig extends SplitSelection {
  integrate: boolean;
}

function config(element: Element): ComposeConfig {
  const c = new KindConfig(element);
  return { integrate: c.bool('integrate', true), include: c.stringList('include'), exclude: c.stringList('exclude'), orphans: c.bool('include-orphans', true) };
}

export const composeKind: ElementKind = {
  name: 'compose',
  configKeys: ['integrate', 'include', 'exclude', 'include-orphans'],
  defaults: new URL('./compose.yaml', import.meta.url),
  version: 1,
  strictRebuild: true,
  configure(element) {
    config(element);
    requireNoSources(element);
    requireBuildDepsOnly(element);
  },
  uniqueKey(element): KeyValue {
    const c = config(element);
    const key: { [k: string]: KeyValue } = { integrate: c.integrate, include: [...c.include].sort(), orphans: c.orphans };
    if (c.exclude.length > 0) key.exclude = [...c.exclude].sort();
    return key;
  },
  async assemble(ctx: AssembleContext): Promise<FileTree> {
    const c = config(ctx.element);
    const deps = ctx.dependencies(ctx.element, 'build');
    const combined = new FileTree();
    ctx.status(`Staging ${deps.length} dependencies`);
    stageArtifacts(ctx, combined, deps);
    const split = needsSplit(c);
    let manifest: Set<string> | undefined;
    if (split) {
      manifest = new Set<string>();
      for (const d of deps) for (const p of computeManifest(ctx.artifact(d), splitRules(d), c)) manifest.add(p);
    }
    let result = combined;
    if (c.integrate && hasIntegration(deps)) {
      const root = join(ctx.workDir, 'root');
      await ctx.materialize(combined, root);
      const before = new Set(listedPaths(combined));
      await integrate(ctx, root, deps);
      result = ctx.collect(root);
      if (manifest) {
        // Integration output joins the selection; what it removed leaves it.
        const after = listedPaths(result);
        const afterSet = new Set(after);
        for (const p of after) if (!before.has(p)) manifest.add(p);
        for (const p of [...manifest]) if (!afterSet.has(p)) manifest.delete(p);
      }
    }
    if (!manifest) return result;
    // A dependency's path may have been staged through a directory symlink: select where it landed.
    const real: string[] = [];
    for (const p of manifest) {
      const slash = p.lastIndexOf('/');
      const dir = slash < 0 ? '' : resolveInTree(result, p.slice(0, slash));
      if (dir === undefined) continue;
      const landed = dir === '' ? p.slice(slash + 1) : `${dir}/${p.slice(slash + 1)}`;
      if (result.has(landed)) real.push(landed);
    }
    return selectPaths(result, real);
  },
};
