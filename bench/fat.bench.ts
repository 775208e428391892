/**
 * FAT32: `kiln mkfs fat --fat 32 --size auto` against `mkfs.fat -F 32` + `mcopy -s` (mtools,
 * given kiln's size) and `tar -cf` (the copy limit) on the same trees, in paired rounds: (a) many
 * small files, what FAT can hold of a copy of /usr/share; (b) a few large files, 2 GiB in all
 * (KILN_BENCH_LARGE_MIB); with KILN_BENCH_HUGE=1 also generated trees of 100,000 files / 1 GiB
 * and 1,000,000 files / 10 GiB, and how the time grows between them.
 * Goals (issue 13): kiln ÷ tar ≤ 1.3 and kiln ÷ mkfs.fat+mcopy < 1 on (a) and (b); peak RSS
 * ≤ 64 MiB on (a); on the 1 M file tree time linear in the tree and peak RSS ≤ 512 MiB.
 */
import { spawnSync } from 'node:child_process';
import { fatSafeCopy, generatedTree, largeFiles, type Fixture } from './fixtures.js';
import type { BenchSuite } from './harness.js';
import { hugeRows, printLinearity, writerRow } from './writer-row.js';

function fatRow(title: string, tree: Fixture, rounds?: number) {
  return writerRow({
    title,
    tree,
    ...(rounds !== undefined && { rounds }),
    kiln: (out) => ['mkfs', 'fat', '--fat', '32', '--size', 'auto', tree.dir, out],
    peer: {
      label: 'mkfs.fat + mcopy -s',
      command: (out, size) => `mkfs.fat -F 32 -C '${out}' ${Math.ceil(size / 1024)} >/dev/null && MTOOLS_SKIP_CHECK=1 mcopy -s -i '${out}' '${tree.dir}'/* ::`,
    },
    check(image) {
      const r = spawnSync('fsck.fat', ['-n', image], { encoding: 'utf8' });
      return r.status === 0 ? undefined : `fsck.fat -n: exit ${r.status}\n${r.stdout}`;
    },
  });
}

const suite: BenchSuite = {
  description:
    'kiln mkfs fat --fat 32 vs mkfs.fat -F 32 + mcopy -s vs tar -cf: /usr/share as FAT holds it; 2 GiB of large files; KILN_BENCH_HUGE=1: 100k and 1M generated files',
  run() {
    fatRow('FAT32 (a) many small files', fatSafeCopy());
    fatRow('FAT32 (b) few large files', largeFiles());
    if (hugeRows()) {
      const tenth = generatedTree(100_000, 2 ** 30);
      const tenthRows = fatRow('FAT32 (c) 100,000 files, 1 GiB', tenth, 1);
      const huge = generatedTree(1_000_000, 10 * 2 ** 30);
      const hugeRowsOut = fatRow('FAT32 (d) 1,000,000 files, 10 GiB', huge, 1);
      printLinearity('FAT32', { tree: tenth, rows: tenthRows }, { tree: huge, rows: hugeRowsOut });
    }
  },
};

export default suite;
