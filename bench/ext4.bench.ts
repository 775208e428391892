/**
 * ext4: `kiln mkfs ext4 --size auto` against `mke2fs -t ext4 -d` (given kiln's size) and
 * `tar -cf` (the copy limit) on the same trees, in paired rounds: (a) many small files, a copy
 * of /usr/share; (b) a few large files, 2 GiB in all (KILN_BENCH_LARGE_MIB); with
 * KILN_BENCH_HUGE=1 also generated trees of 100,000 files / 1 GiB and 1,000,000 files / 10 GiB,
 * and how the time grows between them.
 * Goals (issue 13): kiln ÷ tar ≤ 1.3 and kiln ÷ mke2fs < 1 on (a) and (b); peak RSS ≤ 256 MiB
 * on (a); on the 1 M file tree time linear in the tree and peak RSS ≤ 512 MiB.
 * `bench/workers/write-ext4.ts` runs the library in-process with a breakdown (tree, plan, write).
 */
import { spawnSync } from 'node:child_process';
import { generatedTree, largeFiles, shareCopy, type Fixture } from './fixtures.js';
import { workerArgs, type BenchSuite } from './harness.js';
import { hugeRows, printLinearity, writerRow } from './writer-row.js';

function ext4Row(title: string, tree: Fixture, inner = true, rounds?: number) {
  return writerRow({
    title,
    tree,
    ...(rounds !== undefined && { rounds }),
    kiln: (out) => ['mkfs', 'ext4', '--size', 'auto', tree.dir, out],
    peer: { label: 'mke2fs -d', command: (out, size) => `mke2fs -q -F -t ext4 -d '${tree.dir}' '${out}' ${Math.ceil(size / 1024)}k` },
    extra: inner
      ? [
          (out) => {
            const [cmd, args] = workerArgs('write-ext4', [tree.dir, out]);
            return { label: 'kiln writeExt4', cmd, args };
          },
        ]
      : [],
    check(image) {
      const r = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' });
      return r.status === 0 ? undefined : `e2fsck -fn: exit ${r.status}\n${r.stdout}`;
    },
  });
}

const suite: BenchSuite = {
  description: 'kiln mkfs ext4 vs mke2fs -t ext4 -d vs tar -cf: a copy of /usr/share; 2 GiB of large files; KILN_BENCH_HUGE=1: 100k and 1M generated files',
  run() {
    ext4Row('ext4 (a) many small files', shareCopy());
    ext4Row('ext4 (b) few large files', largeFiles());
    if (hugeRows()) {
      const tenth = generatedTree(100_000, 2 ** 30);
      const tenthRows = ext4Row('ext4 (c) 100,000 files, 1 GiB', tenth, false, 1);
      const huge = generatedTree(1_000_000, 10 * 2 ** 30);
      const hugeRowsOut = ext4Row('ext4 (d) 1,000,000 files, 10 GiB', huge, false, 1);
      printLinearity('ext4', { tree: tenth, rows: tenthRows }, { tree: huge, rows: hugeRowsOut });
    }
  },
};

export default suite;
