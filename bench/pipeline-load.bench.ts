import { join } from 'node:path';
import { benchWorkDir, measure, printTable, workerArgs, type BenchSuite } from './harness.js';
import { generatePipelineProject } from './pipeline-project.js';

/** Loading a generated 200-element project (project.conf, .bst files, composition, graph). */
const suite: BenchSuite = {
  description: 'load a generated 200-element project and its ALL scope (goal: well under 1 s)',
  run() {
    const dir = generatePipelineProject(join(benchWorkDir(), 'pipeline-200'), 200);
    const [cmd, args] = workerArgs('pipeline-load', [dir, 'top.bst']);
    printTable('pipeline load, 200 elements', [measure('kiln load', cmd, args)], []);
  },
};
export default suite;
