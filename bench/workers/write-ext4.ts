/**
 * Bench worker: `writeExt4` on a directory, in its own process (so GNU time sees only it).
 * Uses the built library (dist/) like a library user would. Prints in-process timings as
 * `bench:KEY=SECONDS` lines and the image size as `bench-size:BYTES`.
 *
 *   node --import tsx bench/workers/write-ext4.ts SRC_DIR OUT_IMAGE
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { report, repoRoot } from '../harness.js';
import type * as Kiln from '../../src/index.js';

const [src, out] = process.argv.slice(2);
if (!src || !out) throw new Error('usage: write-ext4.ts SRC_DIR OUT_IMAGE');

// The built library, not the TypeScript sources: the numbers are what users get.
const kiln = (await import(pathToFileURL(join(repoRoot, 'dist', 'index.js')).href)) as typeof Kiln;

const t0 = performance.now();
const tree = kiln.treeFromDirectory(src, { owners: 'keep' });
report('tree', t0);
const t1 = performance.now();
const plan = kiln.planExt4(tree);
report('plan', t1);
const t2 = performance.now();
await kiln.withSparseFile(out, plan.minimumSize, (target) => kiln.writeExt4(tree, target));
report('write', t2);
process.stdout.write(`bench-size:${plan.minimumSize}\n`);
