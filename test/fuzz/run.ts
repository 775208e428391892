/**
 * `npm run fuzz [-- OPTIONS]`: the reader fuzzer (harness.ts), bounded by iterations and time.
 *
 *   --seed N          run seed (default: random, printed)      env KILN_FUZZ_SEED
 *   --iterations N    most variants (default 5000)             env KILN_FUZZ_ITERATIONS
 *   --time SECONDS    wall-clock budget (default 300)          env KILN_FUZZ_TIME
 *   --only I,J        replay these variant indices of the seed
 *   --keep DIR        copy the images of failing variants to DIR
 *   --kiln-root DIR   the checkout (with dist/ built) whose readers are tested (default: this one)
 *   --workers N       parallel children (default: 2)
 *   --cli-every N     also run the CLI on every Nth variant (default 8; structural ones always)
 *   --timeout MS      per variant and CLI run (default 5000)
 *   --rss MB          resident memory limit per process (default 512)
 *   --e2fsprogs       also read e2fsprogs's test images (tests/<name>/image.gz from its Debian
 *                     source package) and compare with debugfs
 *   --e2fsprogs-only  only that comparison (no mutated images)
 *   --json FILE       write the summary as JSON
 *
 * Exits 1 when any variant crashed, hung, blew up memory or had a known-invalid image accepted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot, runFuzz } from './harness.js';
import { runE2fsprogsImages } from './e2fsprogs.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function num(name: string, env: string, fallback: number): number {
  const v = arg(name) ?? process.env[env];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} ${v} is not a number`);
  return n;
}

const seed = num('seed', 'KILN_FUZZ_SEED', Math.floor(Math.random() * 2 ** 31));
const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const workDir = mkdtempSync(join(shm, 'kiln-fuzz-'));
const only = arg('only')
  ?.split(',')
  .map((x) => Number(x))
  .filter((x) => Number.isInteger(x));
const keep = arg('keep');
let failed = false;
const e2fsprogsOnly = process.argv.includes('--e2fsprogs-only');
try {
  const summary = e2fsprogsOnly
    ? undefined
    : await runFuzz({
        seed,
        iterations: num('iterations', 'KILN_FUZZ_ITERATIONS', 5000),
        timeMs: num('time', 'KILN_FUZZ_TIME', 300) * 1000,
        kilnRoot: resolve(arg('kiln-root') ?? repoRoot),
        workers: num('workers', 'KILN_FUZZ_WORKERS', 2),
        variantTimeoutMs: num('timeout', 'KILN_FUZZ_TIMEOUT', 5000),
        rssLimitMb: num('rss', 'KILN_FUZZ_RSS', 512),
        heapMb: 256,
        cliEvery: num('cli-every', 'KILN_FUZZ_CLI_EVERY', 8),
        workDir,
        log: (line) => process.stdout.write(`${line}\n`),
        ...(only && only.length > 0 ? { only } : {}),
        ...(keep ? { keepDir: resolve(keep) } : {}),
      });
  failed = (summary?.failures.length ?? 0) > 0;
  const json = arg('json');
  if (e2fsprogsOnly || process.argv.includes('--e2fsprogs')) {
    const e = await runE2fsprogsImages({ kilnRoot: resolve(arg('kiln-root') ?? repoRoot), log: (line) => process.stdout.write(`${line}\n`) });
    failed ||= e.crashes + e.differ > 0;
    if (json) writeFileSync(json, JSON.stringify({ fuzz: summary, e2fsprogs: e }, null, 2));
  } else if (json) writeFileSync(json, JSON.stringify({ fuzz: summary }, null, 2));
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
