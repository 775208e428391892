import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { FileTree } from '../../fs/tree.js';
import { integrate, sandboxRelative, stageArtifacts } from '../kinds/staging.js';
import type { Element } from '../model.js';
import type { SandboxMount } from '../sandbox/sandbox.js';
import { materialize } from '../cache/materialize.js';
import { removeTree } from '../util/remove-tree.js';
import { makeAssembleContext } from './builder.js';
import type { Session } from './session.js';

/** A staged, integrated root for `kiln shell`, ready for `BwrapSandbox.exec`. */
export interface ShellRoot {
  root: string;
  cwd: string;
  env: Record<string, string>;
  mounts: SandboxMount[];
  /** Removes the staged root. */
  dispose(): void;
}

/**
 * Stages what `kiln shell` runs in (docs/format.md#kiln-shell): RUN(element) at '/' and integrated, or with
 * `build` the element's build staging — BUILD(element) integrated plus its sources at
 * %{build-root}. Every needed artifact must be cached; the error lists the missing ones.
 */
export async function prepareShell(session: Session, element: Element, build: boolean): Promise<ShellRoot> {
  const staged = build ? session.dependencies(element, 'build') : session.dependencies(element, 'run');
  const missing = staged.filter((e) => !session.isCached(e));
  if (missing.length > 0) {
    throw new KilnError(
      'shell-missing-artifacts',
      `cannot stage a shell for ${element.name}: these elements are not cached:\n${missing.map((e) => `  ${e.name}`).join('\n')}`,
      `build them first: kiln build ${element.name}`,
    );
  }
  if (build && !session.sourcesCached(element)) {
    throw new KilnError('shell-missing-sources', `cannot stage the build shell of ${element.name}: its sources are not fetched`, `kiln fetch ${element.name}`);
  }
  mkdirSync(session.cache.tmpDir, { recursive: true });
  const workDir = join(session.cache.tmpDir, `shell-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(workDir);
  try {
    const ctx = makeAssembleContext(session, element, workDir, join(workDir, 'shell.log'));
    const combined = new FileTree();
    stageArtifacts(ctx, combined, staged);
    const buildRoot = element.variables['build-root'] ?? '/';
    const installRoot = element.variables['install-root'] ?? '/buildstream-install';
    if (build) {
      combined.mkdirp(sandboxRelative(buildRoot, 'build-root'));
      combined.mkdirp(sandboxRelative(installRoot, 'install-root'));
    }
    const root = join(workDir, 'root');
    // a private copy, not a staged root of links and binds: the shell may change anything
    materialize(combined, root);
    await integrate(ctx, root, staged);
    if (build) await ctx.materialize(await ctx.stageSources(), join(root, sandboxRelative(buildRoot, 'build-root')), { merge: true });
    const subdir = element.variables['command-subdir'];
    return {
      root,
      cwd: build ? (subdir ? `${buildRoot}/${subdir}` : buildRoot) : '/',
      env: { ...element.environment, ...element.project.shell.environment },
      mounts: [],
      dispose: () => removeTree(workDir),
    };
  } catch (e) {
    removeTree(workDir);
    throw e;
  }
}
