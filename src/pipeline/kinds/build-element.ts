import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileTree } from '../../fs/tree.js';
import type { Element } from '../model.js';
import { KindConfig, type AssembleContext, type ElementKind, type KeyValue } from './kind.js';
import { integrate, sandboxRelative, stageArtifacts } from './staging.js';

/**
 * BuildElement kinds (manual, autotools, make, cmake; docs/format.md#build-elements): the build dependencies at
 * '/', integrated, the sources at %{build-root}, then the configure, build, install and strip
 * command groups with the root read-only. The artifact is %{install-root}. The kinds differ only
 * in their default YAML (`<kind>.yaml` beside each kind's module), which the loader has already
 * composed in: a new one is a module calling buildElementKind and its YAML.
 */
const COMMAND_GROUPS = ['configure-commands', 'build-commands', 'install-commands', 'strip-commands'] as const;

function groups(element: Element): Record<(typeof COMMAND_GROUPS)[number], string[]> {
  const c = new KindConfig(element);
  return {
    'configure-commands': c.stringList('configure-commands'),
    'build-commands': c.stringList('build-commands'),
    'install-commands': c.stringList('install-commands'),
    'strip-commands': c.stringList('strip-commands'),
  };
}

function isTrue(v: string | undefined): boolean {
  return v === 'True' || v === 'true' || v === '1';
}

/** A BuildElement kind named `name` with the default YAML at `defaults`. */
export function buildElementKind(name: string, defaults: URL): ElementKind {
  return {
    name,
    // create-dev-shm: a tmpfs at /dev/shm for the commands (not part of the key, as in bst)
    configKeys: [...COMMAND_GROUPS, 'create-dev-shm'],
    defaults,
    version: 1,
    strictRebuild: false,
    configure(element) {
      groups(element);
      new KindConfig(element).bool('create-dev-shm', false);
    },
    uniqueKey(element): KeyValue {
      const key: { [k: string]: KeyValue } = { ...groups(element) };
      if (isTrue(element.variables.notparallel)) key.notparallel = true;
      return key;
    },
    async assemble(ctx: AssembleContext): Promise<FileTree> {
      const e = ctx.element;
      const commands = groups(e);
      const buildRoot = e.variables['build-root'] ?? `/buildstream/${e.project.name}/${e.name}`;
      const installRoot = e.variables['install-root'] ?? '/buildstream-install';
      const deps = ctx.dependencies(e, 'build');
      const combined = new FileTree();
      ctx.status(`Staging ${deps.length} dependencies`);
      stageArtifacts(ctx, combined, deps);
      combined.mkdirp(sandboxRelative(installRoot, 'install-root'));
      combined.mkdirp(sandboxRelative(buildRoot, 'build-root'));
      const root = join(ctx.workDir, 'root');
      await ctx.materialize(combined, root);
      await integrate(ctx, root, deps);
      ctx.status('Staging sources');
      const buildDir = join(root, sandboxRelative(buildRoot, 'build-root'));
      if (readdirSync(buildDir).length > 0) ctx.warn('build-root-not-empty', `the build root ${buildRoot} was not empty after integration`);
      await ctx.materialize(await ctx.stageSources(), buildDir, { merge: true });
      const subdir = e.variables['command-subdir'];
      const cwd = subdir ? `${buildRoot}/${subdir}` : buildRoot;
      const mounts = [{ path: buildRoot }, { path: installRoot }];
      for (const group of COMMAND_GROUPS) {
        if (commands[group].length === 0) continue;
        ctx.status(`Running ${group}`);
        await ctx.sandbox.run(commands[group], root, mounts, e.environment, ctx.log, {
          cwd,
          rootReadOnly: true,
          devShm: new KindConfig(e).bool('create-dev-shm', false),
          uid: e.sandbox.buildUid,
          gid: e.sandbox.buildGid,
          onCommand: (cmd) => ctx.status(`Running ${group}: ${cmd}`),
        });
      }
      const installDir = join(root, sandboxRelative(installRoot, 'install-root'));
      const tree = ctx.collect(installDir);
      if (tree.has(sandboxRelative(buildRoot, 'build-root')) && tree.children(sandboxRelative(buildRoot, 'build-root')).length > 0) {
        ctx.warn('install-root-has-build-root', `files were installed under ${installRoot}${buildRoot}; a DESTDIR is probably missing`);
      }
      return tree;
    },
  };
}
