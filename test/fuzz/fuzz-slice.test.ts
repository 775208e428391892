/**
 * A bounded slice of `npm run fuzz`: a fixed seed, about 25 seconds of mutated images (after the
 * base images are made) through every reader entry point and the CLI, against this checkout's
 * dist/ (npm test builds it first). Any crash, hang, memory blow-up or known-invalid image read
 * without complaint fails, naming the seed and the variant to replay:
 *   npm run fuzz -- --seed SEED --only INDEX --keep DIR
 * KILN_FUZZ_SEED and KILN_FUZZ_TIME widen it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runFuzz } from './harness.js';

const seed = Number(process.env.KILN_FUZZ_SEED ?? 9001);
const seconds = Number(process.env.KILN_FUZZ_TIME ?? 25);

test(`fuzz slice (seed ${seed}, ${seconds} s): no crash, hang, memory blow-up or accepted invalid image`, async () => {
  assert.ok(existsSync(join(repoRoot, 'dist', 'cli', 'main.js')), 'dist/ is not built: run npm run build (npm test does)');
  const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'kiln-fuzz-slice-'));
  try {
    const s = await runFuzz({
      seed,
      iterations: 400,
      timeMs: seconds * 1000,
      kilnRoot: repoRoot,
      workers: 2,
      variantTimeoutMs: 10_000,
      rssLimitMb: 512,
      heapMb: 256,
      cliEvery: 8,
      workDir: work,
      log: () => {},
    });
    const report = s.failures
      .map((f) => `variant ${f.index} (${f.base}): ${f.description}\n  ${f.outcome} in ${f.entry}: ${f.detail.split('\n').slice(0, 4).join('\n  ')}`)
      .join('\n');
    assert.ok(s.variants >= 10, `only ${s.variants} variants ran`);
    assert.is(
      s.failures.length,
      0,
      `seed ${seed}: ${s.failures.length} of ${s.variants} variants failed; replay with npm run fuzz -- --seed ${seed} --only ${s.failures.map((f) => f.index).join(',')}\n${report}`,
    );
    console.log(`  fuzz slice: ${s.variants} variants, ${s.ok} read cleanly, ${s.cleanErrors} clean errors, max RSS ${s.maxRssMb} MiB`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
