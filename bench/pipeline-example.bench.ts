import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kilnArgs, paired, printPaired, repoRoot, workerArgs, type BenchSuite, type Contender } from './harness.js';

/**
 * The example system (examples/image) in a cache where it is built (KILN_EXAMPLE_CACHE, else
 * kiln's default cache; build it first: `npm run example`). Goals of issue 13:
 *   - a no-op `kiln build image-x86_64.bst` at most 0.12 s (median of 10 rounds, paired with a
 *     bare node start);
 *   - the x86image step (image-x86_64.bst built again alone, in-process) at most 0.5 s;
 *   - staging the build root of image/linux.bst: its dependencies, its sources, the removal.
 * The x86image step removes the image's artifact from that cache and builds it again.
 */

const project = join(repoRoot, 'examples/image');

/** The cache, once `kiln show --deps plan` says nothing is left to build there. */
function builtCache(): string {
  const dir = process.env.KILN_EXAMPLE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kiln');
  const [cmd, args] = kilnArgs(['--cache-dir', dir, '-C', project, 'show', '--deps', 'plan', 'image-x86_64.bst']);
  const plan = spawnSync(cmd, args, { encoding: 'utf8' });
  if (plan.status !== 0 || plan.stdout.trim() !== '') {
    throw new Error(
      `the example is not built in ${dir}: run 'npm run example' (or set KILN_EXAMPLE_CACHE to a cache where it is)\n${plan.stdout}${plan.stderr}`,
    );
  }
  return dir;
}

function contender(label: string, [cmd, args]: [string, string[]]): Contender {
  return { label, cmd, args };
}

const suite: BenchSuite = {
  description: 'the example: no-op build (goal ≤ 0.12 s), the x86image step (goal ≤ 0.5 s), staging linux.bst',
  run() {
    const cache = builtCache();
    const rounds = Number(process.env.KILN_BENCH_REPEAT) || 10;
    const start = contender('node start', [process.execPath, ['-e', '0']]);
    const noop = paired(
      [start, contender('no-op build', kilnArgs(['--cache-dir', cache, '-C', project, 'build', 'image-x86_64.bst']))],
      ['node start'],
      rounds,
    );
    printPaired('no-op kiln build of the example', noop, ['node start'], rounds);
    const image = paired([contender('x86image step', workerArgs('pipeline-rebuild', [project, cache, 'image-x86_64.bst']))], [], 5);
    printPaired('image-x86_64.bst built again alone', image, [], 5);
    const staging = paired([contender('stage linux.bst', workerArgs('pipeline-staging', [project, cache, 'image/linux.bst']))], [], 3);
    printPaired("linux.bst's build root staged", staging, [], 3);
    const goal = (what: string, seconds: number, limit: number): string =>
      `${what}: ${seconds.toFixed(3)} s (goal ≤ ${limit} s: ${seconds <= limit ? 'met' : 'NOT met'})\n`;
    process.stdout.write(goal('no-op build, median wall', noop[1]!.wall, 0.12));
    process.stdout.write(goal('x86image step, median', image[0]!.inner.build ?? Number.NaN, 0.5));
  },
};
export default suite;
