import { elementError, type ElementKind } from './kind.js';

/**
 * junction: a link to another project (docs/format.md#junctions). The loader reads it to load the
 * sub-project its sources hold (at `path`, with `options`); it has no artifact, so it is never
 * built or staged, and nothing may depend on it.
 */
export const junctionKind: ElementKind = {
  name: 'junction',
  configKeys: ['path', 'options'],
  version: 1,
  strictRebuild: false,
  configure() {},
  uniqueKey() {
    return 1;
  },
  async assemble(ctx) {
    throw elementError(
      ctx.element,
      'junction-build',
      'a junction element has no artifact: it cannot be built or staged',
      'build the elements of the sub-project: JUNCTION.bst:ELEMENT.bst',
    );
  },
};
