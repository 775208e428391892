import { join } from 'node:path';
import { FileTree } from '../../fs/tree.js';
import type { Element } from '../model.js';
import type { SandboxMount } from '../sandbox/sandbox.js';
import { KindConfig, elementError, requireBuildDepsOnly, requireNoSources, type AssembleContext, type ElementKind, type KeyValue } from './kind.js';
import { dependencies } from '../scope.js';
import { integrate, sandboxRelative, stageArtifacts } from './staging.js';

/**
 * script: runs commands over staged dependencies and keeps the install root (docs/format.md#script).
 * Staging follows `layout` (1.x) or, without one, each direct build dependency's runtime
 * closure at its `config: {location}` (2.x) or '/'.
 */
interface LayoutEntry {
  element: string;
  destination: string;
}

interface ScriptConfig {
  commands: string[];
  rootReadOnly: boolean;
  /** A tmpfs at /dev/shm (not part of the key, as in bst). */
  createDevShm: boolean;
  layout: LayoutEntry[] | undefined;
}

function config(element: Element): ScriptConfig {
  const c = new KindConfig(element);
  const raw = c.value('layout');
  let layout: LayoutEntry[] | undefined;
  if (raw !== undefined) {
    layout = c.mapList('layout').map((m, i) => {
      const el = m.element ?? '';
      const dest = m.destination;
      if (typeof el !== 'string') throw c.error('layout', 'bad-layout', `layout entry ${i + 1}: 'element' must be an element name`);
      if (typeof dest !== 'string' || dest === '') throw c.error('layout', 'bad-layout', `layout entry ${i + 1} needs a 'destination' path`);
      for (const k of Object.keys(m))
        if (k !== 'element' && k !== 'destination')
          throw c.error('layout', 'bad-layout', `layout entry ${i + 1}: unknown key '${k}'`, 'a layout entry has element and destination');
      return { element: el, destination: dest };
    });
    if (layout.length > 0 && !layout.some((l) => sandboxRelativeOk(l.destination) === '')) {
      throw c.error('layout', 'bad-layout', "the layout must stage something at '/'", "add an entry with destination: '/'");
    }
  }
  return {
    commands: c.stringList('commands'),
    rootReadOnly: c.bool('root-read-only', false),
    createDevShm: c.bool('create-dev-shm', false),
    layout: layout && layout.length > 0 ? layout : undefined,
  };
}

function sandboxRelativeOk(p: string): string | undefined {
  try {
    return sandboxRelative(p, 'destination');
  } catch {
    return undefined;
  }
}

/** Checks layout element names against the BUILD scope; returns them resolved. */
function layoutElements(ctx: AssembleContext | undefined, element: Element, layout: LayoutEntry[]): (Element | undefined)[] {
  const scope = new Map<string, Element>();
  for (const d of ctx ? ctx.dependencies(element, 'build') : dependencies(element, 'build')) scope.set(d.name, d);
  return layout.map((l) => {
    if (l.element === '') return undefined;
    const found = scope.get(l.element);
    if (!found)
      throw elementError(
        element,
        'bad-layout',
        `layout names '${l.element}', which is not among the build dependencies`,
        'add it as a build dependency (directly or through one)',
        'config.layout',
      );
    return found;
  });
}

export const scriptKind: ElementKind = {
  name: 'script',
  configKeys: ['commands', 'root-read-only', 'layout', 'create-dev-shm'],
  defaults: new URL('./script.yaml', import.meta.url),
  version: 1,
  strictRebuild: true,
  configure(element) {
    const c = config(element);
    requireNoSources(element);
    requireBuildDepsOnly(element);
    if (c.layout) layoutElements(undefined, element, c.layout);
  },
  uniqueKey(element): KeyValue {
    const c = config(element);
    const key: { [k: string]: KeyValue } = {
      commands: c.commands,
      cwd: element.variables.cwd ?? '/',
      'install-root': element.variables['install-root'] ?? '',
      'root-read-only': c.rootReadOnly,
    };
    if (c.layout) key.layout = c.layout.map((l) => ({ element: l.element, destination: l.destination }));
    return key;
  },
  async assemble(ctx: AssembleContext): Promise<FileTree> {
    const e = ctx.element;
    const c = config(e);
    const combined = new FileTree();
    const visited = new Set<Element>();
    const atRoot: Element[] = [];
    const writable: string[] = [];
    const stage = (dep: Element, at: string): void => {
      const closure = ctx.dependencies(dep, 'run').filter((x) => !visited.has(x));
      for (const x of closure) visited.add(x);
      stageArtifacts(ctx, combined, closure, at);
      if (sandboxRelative(at, 'destination') === '') atRoot.push(...closure);
    };
    if (c.layout) {
      const resolved = layoutElements(ctx, e, c.layout);
      c.layout.forEach((l, i) => {
        const dest = sandboxRelative(l.destination, 'layout destination');
        const el = resolved[i];
        if (el) stage(el, `/${dest}`);
        else combined.mkdirp(dest);
        if (dest !== '') writable.push(`/${dest}`);
      });
    } else {
      for (const dep of e.dependencies) {
        const location = dep.config?.location;
        stage(dep.element, typeof location === 'string' && location !== '' ? location : '/');
        if (typeof location === 'string' && sandboxRelative(location, 'location') !== '') writable.push(location);
      }
    }
    const installRoot = e.variables['install-root'] ?? '/buildstream-install';
    combined.mkdirp(sandboxRelative(installRoot, 'install-root'));
    const root = join(ctx.workDir, 'root');
    await ctx.materialize(combined, root);
    await integrate(ctx, root, atRoot);
    const mounts: SandboxMount[] = [installRoot, ...writable.filter((w) => w !== installRoot)].map((path) => ({ path }));
    ctx.status(`Running 'commands'`);
    await ctx.sandbox.run(c.commands, root, mounts, e.environment, ctx.log, {
      cwd: e.variables.cwd ?? '/',
      rootReadOnly: c.rootReadOnly,
      devShm: c.createDevShm,
      uid: e.sandbox.buildUid,
      gid: e.sandbox.buildGid,
      onCommand: (cmd) => ctx.status(`Running command: ${cmd}`),
    });
    return ctx.collect(join(root, sandboxRelative(installRoot, 'install-root')));
  },
};
