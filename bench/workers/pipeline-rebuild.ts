/**
 * Builds one element again in-process — its cached artifact removed first; its dependencies
 * must be cached — and prints `bench:build=SECONDS` (the build alone: staging, commands,
 * writing, caching), after `bench:load` (project and keys). Runs the built pipeline (dist/),
 * with the modules a build imports lazily loaded first: through tsx's loader hooks, which this
 * process has, loading them took 0.1 s that the CLI's bundle does not pay.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { report, repoRoot } from '../harness.js';
import type * as Load from '../../src/pipeline/load/index.js';
import type * as Builder from '../../src/pipeline/plan/builder.js';
import type * as SessionModule from '../../src/pipeline/plan/session.js';

const built = async <T>(module: string): Promise<T> => (await import(pathToFileURL(join(repoRoot, 'dist', 'pipeline', module)).href)) as T;
const { loadProject } = await built<typeof Load>('load/index.js');
const { buildElement } = await built<typeof Builder>('plan/builder.js');
const { Session } = await built<typeof SessionModule>('plan/session.js');
for (const lazy of ['../partition/disk-file.js', '../partition/formats/fat.js', 'debian/build-root.js', 'debian/apt-state.js', '../fs/tar/decompress.js'])
  await built(lazy);

const [projectDir, cacheDir, name] = process.argv.slice(2);
if (!projectDir || !cacheDir || !name) throw new Error('usage: pipeline-rebuild PROJECT CACHE ELEMENT');
const t0 = performance.now();
const element = loadProject(projectDir).element(name);
const session = new Session({ cacheDir });
const ref = session.ref(element);
if (!ref) throw new Error(`${name} has sources without a ref`);
for (const d of session.dependencies(element, 'build')) if (!session.isCached(d)) throw new Error(`${d.name} is not cached: build ${name} once first`);
report('load', t0);
session.cache.artifacts.remove(ref);
const t1 = performance.now();
try {
  await buildElement(session, element);
} finally {
  session.close();
}
report('build', t1);
