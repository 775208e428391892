/**
 * `npm run conformance`: kiln's loader against bst 1.x on BuildStream's own test projects.
 * Every element of every project in BuildStream 1.6.8's tests/ (and the option, --except and
 * user-configuration invocations of its Python tests) is shown by `bst show --format` and by
 * `kiln show --format`; element lists, order, variables, config, public data and environment
 * are compared. Prints a table (agree / both-error / deliberate / disagree) and every
 * disagreement. Not part of `npm test`: it takes minutes and needs Debian's buildstream package.
 *
 *   --only REGEX     cases whose id matches
 *   --verbose        print every case's verdict
 *   --json FILE      write all results as JSON
 *   --jobs N         cases run at once (default 2)
 *   --no-split       a project that does not agree as a whole is not rerun element by element
 *   --kiln FILE      the kiln CLI to compare (default: this checkout's dist/cli/main.js)
 *
 * The fixtures come from Debian's `buildstream` source package (test/helpers/debian-source.ts),
 * or from $KILN_BST_TESTS, a BuildStream source tree's tests/ directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { curatedCases, discoveredCases, type Case } from '../test/conformance/cases.js';
import { compare, type Result, type Verdict } from '../test/conformance/compare.js';
import { runCase } from '../test/conformance/run.js';
import { unpackedSourcePackage } from '../test/helpers/debian-source.js';
import { requireTool } from '../test/helpers/tools.js';

const repo = new URL('../', import.meta.url).pathname;
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const only = arg('--only') !== undefined ? new RegExp(arg('--only')!) : undefined;
const verbose = process.argv.includes('--verbose');
const jsonOut = arg('--json');
const jobs = Number(arg('--jobs') ?? 2);

requireTool('bst');
const version = spawnSync('bst', ['--version'], { encoding: 'utf8' }).stdout.trim();
const kilnMain = resolve(arg('--kiln') ?? join(repo, 'dist/cli/main.js'));
const split = !process.argv.includes('--no-split');
if (!existsSync(kilnMain)) throw new Error(`${kilnMain} is missing: run npm run build first`);
const testsDir = process.env.KILN_BST_TESTS ?? (await unpackedSourcePackage({ pkg: 'buildstream', keep: 'tests', log: (l) => process.stderr.write(`${l}\n`) }));

const cases: Case[] = [...discoveredCases(testsDir), ...curatedCases()].filter((c) => !only || only.test(c.id));
const work = mkdtempSync(join(tmpdir(), 'kiln-conformance-'));
const results: Result[][] = new Array<Result[]>(cases.length);
let next = 0;
let done = 0;
let scratch = 0;
const run = async (c: Case): Promise<Result> => {
  const id = scratch++;
  const r = await runCase(c, testsDir, { kilnMain, work, timeoutMs: 120_000 }, id);
  rmSync(join(work, `case-${id}`), { recursive: true, force: true });
  const result = compare(c, r.bst, r.kiln);
  if (verbose) process.stderr.write(`${result.verdict.padEnd(10)} ${c.id}\n`);
  return result;
};
const worker = async (): Promise<void> => {
  while (next < cases.length) {
    const i = next++;
    const c = cases[i]!;
    const whole = await run(c);
    results[i] = [whole];
    if (whole.verdict !== 'agree' && c.split && split) {
      results[i] = [];
      for (const part of c.split) results[i]!.push(await run(part));
    }
    done++;
    if (!verbose) process.stderr.write(`\r${done}/${cases.length}`);
  }
};
try {
  await Promise.all(Array.from({ length: jobs }, worker));
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.stderr.write('\n');
const flat = results.flat();

const VERDICTS: Verdict[] = ['agree', 'both-error', 'deliberate', 'disagree'];
const count = (v: Verdict): number => flat.filter((r) => r.verdict === v).length;
const out: string[] = [
  `bst ${version} vs kiln on ${flat.length} cases from BuildStream's tests/ (a case is one show of one or more targets)`,
  '',
  '| verdict | cases |',
  '| --- | ---: |',
];
for (const v of VERDICTS) out.push(`| ${v} | ${count(v)} |`);
out.push('');
for (const r of flat.filter((x) => x.verdict === 'deliberate')) out.push(`deliberate: ${r.case.id}\n    ${r.reason}`);
for (const r of flat.filter((x) => x.verdict === 'disagree')) out.push(`DISAGREE: ${r.case.id}\n${r.details.map((d) => `    ${d}`).join('\n')}`);
process.stdout.write(`${out.join('\n')}\n`);
if (jsonOut)
  writeFileSync(
    jsonOut,
    JSON.stringify(
      flat.map((r) => ({ id: r.case.id, verdict: r.verdict, details: r.details, reason: r.reason })),
      null,
      2,
    ),
  );
