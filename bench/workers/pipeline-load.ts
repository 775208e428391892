/** Loads a project and its target's ALL scope in-process; prints `bench:` timings. */
import { report } from '../harness.js';
import { loadProject } from '../../src/pipeline/load/index.js';

const [dir, target = 'top.bst'] = process.argv.slice(2);
if (!dir) throw new Error('usage: pipeline-load DIR [TARGET]');
const t0 = performance.now();
const p = loadProject(dir);
const all = p.scope(p.element(target), 'all');
report('load', t0);
const t1 = performance.now();
const again = loadProject(dir);
again.scope(again.element(target), 'all');
report('reload', t1);
process.stdout.write(`elements: ${all.length}\n`);
