import type { FileTree } from '../../fs/tree.js';
import type { Element } from '../model.js';
import { KindConfig, elementError, requireNoSources, type AssembleContext, type ElementKind, type KeyValue } from './kind.js';
import { computeManifest, selectPaths, splitRules, type SplitSelection } from './split-rules.js';

/** filter: part of one build dependency's artifact, selected by its split rules (docs/format.md#filter). */
function config(element: Element): SplitSelection {
  const c = new KindConfig(element);
  c.bool('pass-integration', false);
  return { include: c.stringList('include'), exclude: c.stringList('exclude'), orphans: c.bool('include-orphans', false) };
}

function parent(element: Element): Element {
  const builds = element.dependencies.filter((d) => d.type !== 'runtime');
  if (builds.length !== 1) {
    throw elementError(
      element,
      'filter-parent',
      `a filter element needs exactly one build dependency, found ${builds.length}`,
      'list the element to filter under build-depends',
      'depends',
    );
  }
  // as bst: the filtered element may not also be a runtime dependency (its whole artifact would come along)
  if (builds[0]!.type === 'all') {
    throw elementError(
      element,
      'filter-parent',
      `the element it filters, ${builds[0]!.element.name}, is also a runtime dependency`,
      'list it under build-depends only',
      'depends',
    );
  }
  return builds[0]!.element;
}

export const filterKind: ElementKind = {
  name: 'filter',
  configKeys: ['include', 'exclude', 'include-orphans', 'pass-integration'],
  defaults: new URL('./filter.yaml', import.meta.url),
  version: 1,
  strictRebuild: false,
  configure(element) {
    config(element);
    requireNoSources(element);
    parent(element);
  },
  uniqueKey(element): KeyValue {
    const c = config(element);
    return { include: [...c.include].sort(), exclude: [...c.exclude].sort(), orphans: c.orphans };
  },
  async assemble(ctx: AssembleContext): Promise<FileTree> {
    const p = parent(ctx.element);
    const tree = ctx.artifact(p);
    return selectPaths(tree, computeManifest(tree, splitRules(p), config(ctx.element)));
  },
};
