/**
 * Stages one element's build root as a build element does — its build dependencies at '/'
 * (timed as `deps`), then its sources at %{build-root} (`sources`) — in a scratch directory of
 * the cache, removes it again (`remove`), and prints `bench:` timings. The element's
 * dependencies must be built and its sources fetched.
 */
import { join } from 'node:path';
import { FileTree } from '../../src/fs/tree.js';
import { sandboxRelative, stageArtifacts } from '../../src/pipeline/kinds/staging.js';
import { loadProject } from '../../src/pipeline/load/index.js';
import { makeAssembleContext } from '../../src/pipeline/plan/builder.js';
import { Session } from '../../src/pipeline/plan/session.js';
import { report } from '../harness.js';

const [projectDir, cacheDir, name] = process.argv.slice(2);
if (!projectDir || !cacheDir || !name) throw new Error('usage: pipeline-staging PROJECT CACHE ELEMENT');
const element = loadProject(projectDir).element(name);
const session = new Session({ cacheDir });
const deps = session.dependencies(element, 'build');
const workDir = session.makeWorkDir(element);
const ctx = makeAssembleContext(session, element, workDir, join(workDir, 'bench.log'));
const buildRoot = sandboxRelative(element.variables['build-root'] ?? `/buildstream/${element.project.name}/${element.name}`, 'build-root');
try {
  const t0 = performance.now();
  const combined = new FileTree();
  stageArtifacts(ctx, combined, deps);
  combined.mkdirp(sandboxRelative(element.variables['install-root'] ?? '/buildstream-install', 'install-root'));
  combined.mkdirp(buildRoot);
  await ctx.materialize(combined, join(workDir, 'root'));
  report('deps', t0);
  const t1 = performance.now();
  await ctx.materialize(await ctx.stageSources(), join(workDir, 'root', buildRoot), { merge: true });
  report('sources', t1);
} finally {
  const t2 = performance.now();
  session.discardScratch(workDir, element);
  report('remove', t2);
  session.close();
}
