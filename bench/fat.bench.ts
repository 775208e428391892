/**
 * FAT32: `kiln mkfs fat --fat 32` against `mkfs.fat -F 32` + `mcopy -s` (mtools) on the same tree:
 * 6,000 small files in 60 directories plus three large files, ≥ 200 MiB in all (KILN_BENCH_FAT_FILES
 * and KILN_BENCH_FAT_LARGE_MIB change it). Both get the same image size. Goal (issue 3): ratio ≤ 0.1.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { benchWorkDir, kilnArgs, measure, printTable, type BenchSuite, type Measurement } from './harness.js';

/** Deterministic pseudo-random bytes (xorshift32), never all zeros. */
function fill(buf: Uint8Array, seed: number): void {
  let x = (seed * 0x9e3779b9) >>> 0 || 1;
  const words = new Uint32Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 4));
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < buf.length; i++) buf[i] = (seed + i) & 0xff | 1;
}

export function fatTree(files: number, largeMiB: number): { dir: string; files: number; bytes: number } {
  const dir = join(benchWorkDir(), `fat-tree-${files}-${largeMiB}`);
  const stamp = `${dir}.done`;
  if (existsSync(stamp)) return JSON.parse(readFileSync(stamp, 'utf8')) as { dir: string; files: number; bytes: number };
  rmSync(dir, { recursive: true, force: true });
  let bytes = 0;
  const buf = new Uint8Array(64 * 1024);
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `dir-${String(i % 60).padStart(2, '0')}`);
    if (i < 60) mkdirSync(sub, { recursive: true });
    const size = (i * 7919) % 40_000; // 0 … 40 KB, ~20 KB on average
    fill(buf, i + 1);
    writeFileSync(join(sub, `file-${String(i).padStart(5, '0')}.dat`), buf.subarray(0, size));
    bytes += size;
  }
  const big = new Uint8Array(1 << 20);
  [largeMiB / 2, largeMiB / 4, largeMiB / 4].forEach((mib, f) => {
    const fd = openSync(join(dir, `large-${f}.bin`), 'w');
    for (let m = 0; m < Math.floor(mib); m++) {
      fill(big, 100_000 + f * 10_000 + m);
      writeSync(fd, big);
      bytes += big.length;
    }
    closeSync(fd);
  });
  const info = { dir, files: files + 3, bytes };
  writeFileSync(stamp, JSON.stringify(info));
  return info;
}

const suite: BenchSuite = {
  description: 'kiln mkfs fat --fat 32 vs mkfs.fat -F 32 + mcopy -s: 6,000 small files + 3 large files (≥ 200 MiB)',
  run() {
    const files = Number(process.env.KILN_BENCH_FAT_FILES ?? 6000);
    const largeMiB = Number(process.env.KILN_BENCH_FAT_LARGE_MIB ?? 160);
    const info = fatTree(files, largeMiB);
    process.stdout.write(`tree: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(0)} MiB in ${info.dir}\n`);
    const work = benchWorkDir();
    const kilnOut = join(work, 'fat-kiln.img');
    const peerOut = join(work, 'fat-peer.img');
    spawnSync('tar', ['-cf', '/dev/null', '-C', info.dir, '.']); // warm the page cache
    // One size for both: what kiln picks for the tree, plus room for mtools' own choices.
    const sizeMiB = Math.ceil((info.bytes * 1.15) / 2 ** 20) + 64;
    const rows: Measurement[] = [];
    const [node, argv] = kilnArgs(['mkfs', 'fat', '--fat', '32', '--size', `${sizeMiB}M`, info.dir, kilnOut]);
    rows.push(measure('kiln mkfs fat', node, argv, { before: () => rmSync(kilnOut, { force: true }) }));
    const peer = `mkfs.fat -F 32 -C '${peerOut}' ${sizeMiB * 1024} >/dev/null && MTOOLS_SKIP_CHECK=1 mcopy -s -i '${peerOut}' '${info.dir}'/* ::`;
    rows.push(measure('mkfs.fat + mcopy -s', 'sh', ['-c', peer], { before: () => rmSync(peerOut, { force: true }) }));
    printTable(`FAT32, ${sizeMiB} MiB image`, rows, ['mkfs.fat + mcopy -s']);
    const fsck = spawnSync('fsck.fat', ['-n', kilnOut], { encoding: 'utf8' });
    process.stdout.write(`fsck.fat -n on kiln's image: ${fsck.status === 0 ? 'clean' : `exit ${fsck.status}\n${fsck.stdout}`}\n`);
    process.stdout.write(`allocated: kiln ${(statSync(kilnOut).blocks / 2048).toFixed(0)} MiB, peer ${(statSync(peerOut).blocks / 2048).toFixed(0)} MiB\n`);
    rmSync(kilnOut, { force: true });
    rmSync(peerOut, { force: true });
  },
};

export default suite;
