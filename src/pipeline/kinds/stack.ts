import { FileTree } from '../../fs/tree.js';
import { KindConfig, requireNoSources, type ElementKind } from './kind.js';

/** stack: groups dependencies; its own artifact is empty (docs/format.md#stack). */
export const stackKind: ElementKind = {
  name: 'stack',
  version: 1,
  strictRebuild: false,
  configure(element) {
    new KindConfig(element, []);
    requireNoSources(element);
  },
  uniqueKey() {
    return 'stack';
  },
  async assemble() {
    return new FileTree();
  },
};
