// Runs every test/**/*.test.ts through uvu (TypeScript via tsx), one file per process so that
// a crash names its file, and ends with the plain "N passed, N failed" line CI reads.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'fixtures' && name !== 'e2e') walk(p);
    } else if (name.endsWith('.test.ts') && (!filter || filter.test(p))) files.push(p);
  }
})(root);

let passed = 0;
let failed = 0;
let skipped = 0;
const failedFiles = [];
for (const file of files) {
  const rel = relative(process.cwd(), file);
  process.stdout.write(`\n# ${rel}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
  process.stdout.write(r.stdout ?? '');
  const num = (label) => Number((new RegExp(`${label}:\\s+(\\d+)`).exec(r.stdout ?? '') ?? [])[1] ?? 0);
  const total = num('Total');
  const ok = num('Passed');
  skipped += num('Skipped');
  passed += ok;
  let bad = total - ok - num('Skipped');
  if (r.status !== 0 && bad === 0) bad = 1; // a crash before uvu reported
  if (bad > 0) failedFiles.push(rel);
  failed += bad;
}
if (failedFiles.length) process.stdout.write(`\nfailed in: ${failedFiles.join(', ')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
