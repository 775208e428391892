import { FileTree } from '../../fs/tree.js';
import type { Element } from '../model.js';
import { KindConfig, elementError, type AssembleContext, type ElementKind, type KeyValue } from './kind.js';
import { placeAt, subtree } from './staging.js';

/** import: the element's sources, or a subdirectory of them, placed at `target` (docs/format.md#import). */
function config(element: Element): { source: string; target: string } {
  const c = new KindConfig(element);
  return { source: c.string('source', '/'), target: c.string('target', '/') };
}

export const importKind: ElementKind = {
  name: 'import',
  configKeys: ['source', 'target'],
  defaults: new URL('./import.yaml', import.meta.url),
  version: 1,
  strictRebuild: false,
  configure(element) {
    config(element);
    if (element.sources.length === 0)
      throw elementError(
        element,
        'import-no-sources',
        'an import element needs at least one source',
        'add a sources: list (for example a local or tar source)',
      );
  },
  uniqueKey(element): KeyValue {
    const { source, target } = config(element);
    return { source, target };
  },
  async assemble(ctx: AssembleContext): Promise<FileTree> {
    const { source, target } = config(ctx.element);
    const staged = await ctx.stageSources();
    const picked = subtree(staged, source);
    if (!picked)
      throw elementError(
        ctx.element,
        'import-no-files',
        `No files were found inside directory '${source}'`,
        'check config: source against what the sources contain',
        'config.source',
      );
    return placeAt(picked, target);
  },
};
