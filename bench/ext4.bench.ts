/**
 * ext4: kiln (the writeExt4 function, and the `kiln mkfs ext4` CLI with its start-up) against
 * `mke2fs -t ext4 -d` and `tar -cf` (the cost of just copying the bytes once) on the same trees:
 * (a) ~30,000 small files copied from /usr, (b) a few large files, 2 GiB in all.
 * Goals (issue 2): kiln/mke2fs ≤ 0.5 and kiln/tar ≤ 1.3 on both; peak RSS ≤ 256 MiB on (a).
 * KILN_BENCH_SMALL (file count) and KILN_BENCH_LARGE_MIB (total) shrink the inputs for a quick look.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { largeFiles, smallFiles } from './fixtures.js';
import { benchWorkDir, kilnArgs, measure, printTable, workerArgs, type BenchSuite, type Measurement } from './harness.js';

function dataset(label: string, info: { dir: string; files: number; bytes: number }): void {
  const work = benchWorkDir();
  const out = (name: string): string => join(work, `ext4-${name}.out`);
  const fresh = (path: string) => () => rmSync(path, { force: true });
  process.stdout.write(`\n${label}: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(0)} MiB in ${info.dir}\n`);

  // Warm the page cache so the first contender does not pay for cold reads.
  spawnSync('tar', ['-cf', out('warm'), '-C', info.dir, '.']);
  rmSync(out('warm'), { force: true });

  const rows: Measurement[] = [];
  rows.push(measure('tar -cf', 'tar', ['-cf', out('tar'), '-C', info.dir, '.'], { before: fresh(out('tar')) }));

  const [node, workerArgv] = workerArgs('write-ext4', [info.dir, out('kiln-fn')]);
  const fn = measure('kiln writeExt4', node, workerArgv, { before: fresh(out('kiln-fn')) });
  rows.push(fn);
  const size = statSync(out('kiln-fn')).size;

  const [cli, cliArgv] = kilnArgs(['mkfs', 'ext4', '--size', 'auto', info.dir, out('kiln-cli')]);
  rows.push(measure('kiln mkfs ext4', cli, cliArgv, { before: fresh(out('kiln-cli')) }));

  // mke2fs gets the size kiln chose; its own layout may need a little more.
  let mkeSize = size;
  for (let attempt = 0; ; attempt++) {
    try {
      rows.push(measure('mke2fs -d', 'mke2fs', ['-q', '-F', '-t', 'ext4', '-d', info.dir, out('mke2fs'), `${Math.ceil(mkeSize / 1024)}k`], { before: fresh(out('mke2fs')) }));
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      mkeSize = Math.ceil(mkeSize * 1.1);
    }
  }

  const fsck = spawnSync('e2fsck', ['-fn', out('kiln-cli')], { encoding: 'utf8' });
  printTable(label, rows, ['mke2fs -d', 'tar -cf']);
  // The worker's own timings leave out node + tsx start-up: the library's cost alone.
  const inside = Object.values(fn.inner).reduce((a, b) => a + b, 0);
  const mke = rows.find((r) => r.label === 'mke2fs -d')!;
  const tar = rows.find((r) => r.label === 'tar -cf')!;
  process.stdout.write(`writeExt4 in-process (tree + plan + write): ${inside.toFixed(2)} s, ÷ mke2fs ${(inside / mke.wall).toFixed(2)}, ÷ tar ${(inside / tar.wall).toFixed(2)}\n`);
  process.stdout.write(
    `image: kiln ${(size / 2 ** 20).toFixed(1)} MiB, mke2fs ${(mkeSize / 2 ** 20).toFixed(1)} MiB${mkeSize > size ? ' (grown: mke2fs did not fit in kiln\'s size)' : ''}; e2fsck -fn on kiln's image: ${fsck.status === 0 ? 'clean' : `exit ${fsck.status}\n${fsck.stdout}`}\n`,
  );
  for (const f of ['tar', 'kiln-fn', 'kiln-cli', 'mke2fs']) rmSync(out(f), { force: true });
}

const suite: BenchSuite = {
  description: 'kiln writeExt4 / kiln mkfs ext4 vs mke2fs -t ext4 -d vs tar -cf: ~30,000 small files from /usr; 2 GiB of large files',
  run() {
    const small = Number(process.env.KILN_BENCH_SMALL ?? 30_000);
    dataset('(a) small files', smallFiles(small));
    const largeMiB = Number(process.env.KILN_BENCH_LARGE_MIB ?? 2048);
    const sizes = [largeMiB / 2, (largeMiB * 3) / 8, largeMiB / 8].map((m) => Math.floor(m) * 2 ** 20);
    dataset('(b) large files', largeFiles(sizes));
  },
};

export default suite;
