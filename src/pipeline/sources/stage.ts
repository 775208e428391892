import { KilnError } from '../../errors.js';
import { FileTree } from '../../fs/tree.js';
import { SOURCE_MTIME, type Source, type SourceContext } from './kind.js';
import { normalizeSourceTree } from './tree-ops.js';

export { normalizeSourceTree, overlayTree, resolveInside, symlinkStaysInside } from './tree-ops.js';

/**
 * Stages every source of an element, in order, into a new tree (the element's source area, to
 * be placed at %{build-root}). Sources must be cached (run fetch first).
 */
export async function stageSources(sources: readonly Source[], ctx: SourceContext): Promise<FileTree> {
  const tree = new FileTree({ mode: 0o755, mtime: SOURCE_MTIME });
  for (const source of sources) {
    if (source.needsRef && source.ref === undefined) {
      throw new KilnError('source-no-ref', `${source.label}: has no ref`, `run \`kiln track ${source.element.name}\` first`);
    }
    if (!source.isCached(ctx)) {
      throw new KilnError('source-not-cached', `${source.label}: is not in the source cache`, `run \`kiln fetch ${source.element.name}\` first`);
    }
    await source.stage(ctx, tree);
  }
  normalizeSourceTree(tree);
  return tree;
}
