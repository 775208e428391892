/**
 * One row of the writer benches (ext4.bench.ts, fat.bench.ts): on one tree, kiln's CLI against
 * its C peer and against `tar -cf` of the same tree (the cost of reading every byte once and
 * writing it once: the copy limit), in paired rounds, with the peak RSS of each.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Fixture } from './fixtures.js';
import { benchRunDir, CommandFailed, kilnArgs, paired, printPaired, type Contender, type PairedRow } from './harness.js';

export interface WriterRow {
  /** The row's title. */
  title: string;
  tree: Fixture;
  /** kiln's arguments after `kiln`, given the output path. */
  kiln(out: string): string[];
  /**
   * The peer as a shell command line, given the output path and an image size: kiln's, grown
   * by a tenth up to three times when the peer's own layout needs more (found in the warm-up).
   * A peer that fails is reported in the row (with the last line it printed), not fatal.
   */
  peer: { label: string; command(out: string, size: number): string };
  /** Extra contenders (e.g. the library in-process), given an output path. */
  extra?: ((out: string) => Contender)[];
  /** Checks kiln's image (fsck): returns a problem, or undefined. */
  check(image: string): string | undefined;
  /**
   * Paired rounds (default KILN_BENCH_REPEAT or 3). With one round (the million-file rows, where
   * mke2fs -d alone takes many minutes) the peer is not run to warm up: it gets kiln's size plus
   * a tenth.
   */
  rounds?: number;
}

const TAR = 'tar -cf';

/** Runs a row and prints it; returns the rows (medians and paired ratios). */
export function writerRow(row: WriterRow): PairedRow[] {
  const work = benchRunDir();
  const out = (name: string): string => join(work, `row-${name}.out`);
  const clean = (name: string) => () => rmSync(out(name), { force: true });
  const { tree } = row;
  process.stdout.write(`\n${row.title}: ${tree.files} files, ${(tree.bytes / 2 ** 20).toFixed(0)} MiB in ${tree.dir}\n`);

  // Warm-up, outside the rounds: fills the page cache with the tree (through a pipe: GNU tar
  // writing to /dev/null does not read the files) and checks both outputs.
  spawnSync('sh', ['-c', `tar -cf - -C '${tree.dir}' . | cat >/dev/null`]);
  const [node, kilnArgv] = kilnArgs(row.kiln(out('kiln')));
  // Each build of kiln keeps its V8 code cache (src/cli/code-cache.ts) in a directory of its own,
  // written by its warm-up run: builds run in turn would otherwise remove each other's.
  const codeCache = (name: string): NodeJS.ProcessEnv => ({ ...process.env, XDG_CACHE_HOME: join(work, `code-cache-${name}`) });
  const compare = process.env.KILN_BENCH_COMPARE;
  const compareArgv = compare ? [compare, ...row.kiln(out('compare'))] : undefined;
  const warmUp = (name: string, argv: string[]): void => {
    const warm = spawnSync(node, argv, { encoding: 'utf8', env: codeCache(name) });
    if (warm.status !== 0) throw new Error(`${name}: ${argv.join(' ')}: exit ${warm.status}\n${warm.stderr}`);
  };
  warmUp('kiln', kilnArgv);
  if (compareArgv) {
    warmUp('compare', compareArgv);
    clean('compare')();
  }
  const problem = row.check(out('kiln'));
  const kilnSize = statSync(out('kiln')).size;
  clean('kiln')();
  const rounds = row.rounds ?? (Number(process.env.KILN_BENCH_REPEAT) || 3);
  let peerSize = rounds === 1 ? Math.ceil((kilnSize * 1.1) / 2 ** 20) * 2 ** 20 : kilnSize;
  // Why the peer failed in the warm-up at every size tried: it is then left out of the rounds.
  let peerFailed: string | undefined;
  for (let attempt = 0; rounds > 1; attempt++) {
    clean('peer')();
    const peer = spawnSync('sh', ['-c', row.peer.command(out('peer'), peerSize)], { encoding: 'utf8' });
    clean('peer')();
    if (peer.status === 0) break;
    if (attempt === 3) {
      const failure = new CommandFailed(row.peer.command(out('peer'), peerSize), peer);
      process.stderr.write(`${failure.message}\n`);
      peerFailed = failure.reason;
      break;
    }
    peerSize = Math.ceil((peerSize * 1.1) / 2 ** 20) * 2 ** 20;
  }

  const contenders: Contender[] = [
    { label: TAR, cmd: 'tar', args: ['-cf', out('tar'), '-C', tree.dir, '.'], before: clean('tar'), after: clean('tar') },
    { label: 'kiln', cmd: node, args: kilnArgv, env: codeCache('kiln'), before: clean('kiln'), after: clean('kiln') },
    ...(peerFailed === undefined
      ? [
          {
            label: row.peer.label,
            cmd: 'sh',
            args: ['-c', row.peer.command(out('peer'), peerSize)],
            before: clean('peer'),
            after: clean('peer'),
            mayFail: true,
          },
        ]
      : []),
    // Another build of kiln in the same rounds (KILN_BENCH_COMPARE: its dist/cli/main.js), to measure a change.
    ...(compareArgv
      ? [
          {
            label: 'kiln (compare)',
            cmd: node,
            args: compareArgv,
            env: codeCache('compare'),
            before: clean('compare'),
            after: clean('compare'),
          },
        ]
      : []),
    ...(row.extra ?? []).map((make, i) => {
      const c = make(out(`extra-${i}`));
      return { ...c, before: clean(`extra-${i}`), after: clean(`extra-${i}`) };
    }),
  ];
  const rows = paired(contenders, [TAR, row.peer.label], rounds);
  if (peerFailed !== undefined)
    rows.splice(2, 0, { label: row.peer.label, wall: NaN, user: NaN, sys: NaN, peakRss: NaN, inner: {}, ratios: {}, failed: peerFailed });
  printPaired(row.title, rows, [TAR, row.peer.label], rounds);
  const failed = rows.find((r) => r.label === row.peer.label)?.failed;
  const peerNote =
    failed !== undefined
      ? ` failed (${failed})${peerFailed !== undefined ? ' in the warm-up at every size up to this' : ''}`
      : rounds === 1
        ? " (kiln's plus a tenth, untried)"
        : peerSize > kilnSize
          ? " (did not fit in kiln's size)"
          : '';
  process.stdout.write(
    `image: kiln ${(kilnSize / 2 ** 20).toFixed(1)} MiB (${problem ?? 'fsck clean'}), ${row.peer.label} ${(peerSize / 2 ** 20).toFixed(1)} MiB${peerNote}\n`,
  );
  return rows;
}

/**
 * Whether the opt-in rows of generated trees run (KILN_BENCH_HUGE=1): 100,000 and 1,000,000
 * files, one round each; generating the large one takes minutes and its rows over an hour
 * (mke2fs -d and mcopy), with about 40 GiB of disk.
 */
export function hugeRows(): boolean {
  return process.env.KILN_BENCH_HUGE === '1';
}

/**
 * Prints how the time per file and per byte grows from one tree to a ten times larger one, and
 * how the copy limit's does on the same trees: when the larger tree and its image outgrow the
 * page cache, both grow with the disk, and only the comparison says whether kiln's growth is its own.
 */
export function printLinearity(label: string, small: { tree: Fixture; rows: PairedRow[] }, large: { tree: Fixture; rows: PairedRow[] }): void {
  const row = (r: PairedRow[], name: string): PairedRow | undefined => r.find((x) => x.label === name);
  const growth = (name: string, per: 'files' | 'bytes'): number =>
    row(large.rows, name)!.wall / large.tree[per] / (row(small.rows, name)!.wall / small.tree[per]);
  const kiln = (r: PairedRow[]): PairedRow => row(r, 'kiln')!;
  const perFile = (x: { tree: Fixture; rows: PairedRow[] }): number => kiln(x.rows).wall / x.tree.files;
  const limit = row(small.rows, TAR) && row(large.rows, TAR) ? `; ${TAR}: ×${growth(TAR, 'files').toFixed(2)} per file` : '';
  process.stdout.write(
    `${label} linearity: ${(perFile(small) * 1e6).toFixed(1)} µs/file at ${small.tree.files} files, ${(perFile(large) * 1e6).toFixed(1)} µs/file at ${large.tree.files} (×${growth('kiln', 'files').toFixed(2)} per file, ×${growth('kiln', 'bytes').toFixed(2)} per byte; 1 is linear${limit}); peak ${kiln(small.rows).peakRss.toFixed(0)} → ${kiln(large.rows).peakRss.toFixed(0)} MiB\n`,
  );
}
