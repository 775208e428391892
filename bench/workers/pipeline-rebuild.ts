/**
 * Builds one element again in-process — its cached artifact removed first; its dependencies
 * must be cached — and prints `bench:build=SECONDS` (the build alone: staging, commands,
 * writing, caching), after `bench:load` (project and keys).
 */
import { loadProject } from '../../src/pipeline/load/index.js';
import { buildElement } from '../../src/pipeline/plan/builder.js';
import { Session } from '../../src/pipeline/plan/session.js';
import { report } from '../harness.js';

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
