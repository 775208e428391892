/**
 * `npm run bench [-- NAME...]`: runs every bench/*.bench.ts, or the named ones (`ext4` runs
 * bench/ext4.bench.ts); `--list` lists them. See bench/README.md.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, type BenchSuite } from './harness.js';

const dir = join(repoRoot, 'bench');
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();

async function load(name: string): Promise<BenchSuite> {
  const mod = (await import(pathToFileURL(join(dir, `${name}.bench.ts`)).href)) as { default: BenchSuite };
  return mod.default;
}

const args = process.argv.slice(2);
if (args.includes('--list')) {
  for (const name of all) process.stdout.write(`${name.padEnd(12)} ${(await load(name)).description}\n`);
} else {
  const unknown = args.filter((a) => !all.includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`no bench named ${unknown.join(', ')} (have: ${all.join(', ')})\n`);
    process.exit(2);
  }
  for (const name of args.length > 0 ? args : all) {
    const suite = await load(name);
    process.stdout.write(`\n# ${name}: ${suite.description}\n`);
    await suite.run();
  }
}
