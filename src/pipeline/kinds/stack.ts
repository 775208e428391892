import { FileTree } from '../../fs/tree.js';
import { requireNoSources, type ElementKind } from './kind.js';

/** stack: groups dependencies; its own artifact is empty (docs/format.md#stack). */
export const stackKind: ElementKind = {
  name: 'stack',
  configKeys: [],
  defaults: new URL('./stack.yaml', import.meta.url),
  version: 1,
  strictRebuild: false,
  configure(element) {
    requireNoSources(element);
  },
  uniqueKey() {
    return 'stack';
  },
  async assemble() {
    return new FileTree();
  },
};
