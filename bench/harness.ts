/**
 * The bench harness: runs commands as child processes under GNU time (wall clock, CPU, peak
 * RSS), runs kiln and its peers on the same input in one run, and prints a table with ratios.
 *
 * Needs: GNU time as /usr/bin/time (Debian package `time`), a built dist/ (`npm run bench`
 * builds it), and whatever peers a suite compares with. Benches are never run by CI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const kilnCli = join(repoRoot, 'dist', 'cli', 'main.js');

export interface Measurement {
  label: string;
  /** Seconds. */
  wall: number;
  user: number;
  sys: number;
  /** Peak resident set of the measured process, MiB. */
  peakRss: number;
  /** What the process itself reported on stdout as `bench:KEY=SECONDS` (in-process timings). */
  inner: Record<string, number>;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Repeat this many times and keep the fastest run (default: KILN_BENCH_REPEAT or 1). */
  repeat?: number;
  /** Run before each repetition (e.g. remove the previous output). */
  before?: () => void;
}

const TIME = '/usr/bin/time';

function requireGnuTime(): void {
  const r = spawnSync(TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench needs GNU time at ${TIME} (Debian package 'time'): ${r.error?.message ?? r.stderr}`);
}

export function defaultRepeat(): number {
  const n = Number(process.env.KILN_BENCH_REPEAT);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** A measured command that exited non-zero: `reason` is its status and the last line it printed. */
export class CommandFailed extends Error {
  readonly reason: string;
  constructor(command: string, r: { status: number | null; stdout: string; stderr: string }) {
    const said = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
    super(`${command}: exit ${r.status}\n${said.join('\n')}`);
    this.reason = `exit ${r.status}: ${said.at(-1) ?? 'no output'}`;
  }
}

/** One run of `cmd args` under GNU time; throws CommandFailed if the command fails. */
function measureOnce(label: string, cmd: string, args: string[], opts: RunOptions): Measurement {
  const report = join(benchRunDir(), 'time');
  opts.before?.();
  const r = spawnSync(TIME, ['-o', report, '-f', '%e %U %S %M', cmd, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    rmSync(report, { force: true });
    throw new CommandFailed(`${label}: ${cmd} ${args.join(' ')}`, r);
  }
  const fields = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(report, { force: true });
  const inner: Record<string, number> = {};
  for (const m of r.stdout.matchAll(/^bench:([\w-]+)=([\d.]+)$/gm)) inner[m[1]!] = Number(m[2]);
  return { label, wall: fields[0]!, user: fields[1]!, sys: fields[2]!, peakRss: fields[3]! / 1024, inner };
}

/** Runs `cmd args` under GNU time (`repeat` times, keeping the fastest); fails loudly if the command fails. */
export function measure(label: string, cmd: string, args: string[], opts: RunOptions = {}): Measurement {
  requireGnuTime();
  let best: Measurement | undefined;
  for (let i = 0; i < (opts.repeat ?? defaultRepeat()); i++) {
    const m = measureOnce(label, cmd, args, opts);
    if (!best || m.wall < best.wall) best = m;
  }
  return best!;
}

/** One command of a paired comparison. */
export interface Contender extends Omit<RunOptions, 'repeat'> {
  label: string;
  cmd: string;
  args: string[];
  /** Run after each of its runs (e.g. remove the output, so the disk does not fill). */
  after?: () => void;
  /**
   * A failure of this contender (a peer tool) is reported in its row instead of ending the
   * suite; it is not run again. Without this, a failed run throws.
   */
  mayFail?: boolean;
}

/** A contender's median run, and the medians of its per-round ratios to each baseline. */
export interface PairedRow extends Measurement {
  ratios: Record<string, number>;
  /** Why a `mayFail` contender failed (its times are then NaN). */
  failed?: string;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Paired runs: each round runs every contender once, one after the other (the order rotates
 * from round to round), so that they share the machine's state of the moment; a ratio is taken
 * within each round and the median over rounds is reported. Between two runs the page cache's
 * dirty data is written out (sync), outside the timing. Times are medians, peak RSS the
 * largest seen. `rounds` defaults to KILN_BENCH_REPEAT or 3.
 */
export function paired(contenders: Contender[], baselines: string[], rounds = Number(process.env.KILN_BENCH_REPEAT) || 3): PairedRow[] {
  requireGnuTime();
  // runs[i][round]: undefined once contender i has failed.
  const runs = contenders.map(() => [] as (Measurement | undefined)[]);
  const failed = new Map<number, string>();
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round) % contenders.length;
      const c = contenders[i]!;
      if (failed.has(i)) {
        runs[i]![round] = undefined;
        continue;
      }
      try {
        runs[i]![round] = measureOnce(c.label, c.cmd, c.args, c);
      } catch (e) {
        if (!(c.mayFail && e instanceof CommandFailed)) throw e;
        failed.set(i, e.reason);
        process.stderr.write(`${e.message}\n`);
      }
      c.after?.();
      // The next contender must not pay for this one's writeback (tar leaves gigabytes dirty).
      spawnSync('sync');
    }
  }
  return contenders.map((c, i) => {
    const mine = runs[i]!.filter((m): m is Measurement => m !== undefined);
    const reason = failed.get(i);
    if (reason !== undefined) return { label: c.label, wall: NaN, user: NaN, sys: NaN, peakRss: NaN, inner: {}, ratios: {}, failed: reason };
    const ratios: Record<string, number> = {};
    for (const b of baselines) {
      const j = contenders.findIndex((x) => x.label === b);
      // Rounds where the baseline failed have no ratio.
      const within = runs[i]!.flatMap((m, r) => (m && runs[j]?.[r] ? [m.wall / runs[j]![r]!.wall] : []));
      if (j >= 0 && j !== i && within.length > 0) ratios[b] = median(within);
    }
    const inner: Record<string, number> = {};
    for (const key of Object.keys(mine[0]!.inner)) inner[key] = median(mine.map((m) => m.inner[key] ?? 0));
    return {
      label: c.label,
      wall: median(mine.map((m) => m.wall)),
      user: median(mine.map((m) => m.user)),
      sys: median(mine.map((m) => m.sys)),
      peakRss: Math.max(...mine.map((m) => m.peakRss)),
      inner,
      ratios,
    };
  });
}

/** Prints paired rows: median times, peak RSS, and the median paired ratio to each baseline. */
export function printPaired(title: string, rows: PairedRow[], baselines: string[], rounds = Number(process.env.KILN_BENCH_REPEAT) || 3): void {
  const header = ['', 'wall s', 'user s', 'sys s', 'peak MiB', ...baselines.map((b) => `÷ ${b}`), 'inside'];
  const lines = rows.map((r) =>
    r.failed !== undefined
      ? [r.label, '-', '-', '-', '-', ...baselines.map(() => '-'), `FAILED (${r.failed})`]
      : [
          r.label,
          fmt(r.wall),
          fmt(r.user),
          fmt(r.sys),
          fmt(r.peakRss, 0),
          ...baselines.map((b) => (b === r.label ? '1' : r.ratios[b] === undefined ? '' : fmt(r.ratios[b]!))),
          Object.entries(r.inner)
            .map(([k, v]) => `${k} ${fmt(v)}s`)
            .join(', '),
        ],
  );
  printLines(`${title} (medians of ${rounds} paired rounds)`, header, lines);
}

/** Where benches keep their inputs between runs (KILN_BENCH_DIR, or a temp dir). */
export function benchWorkDir(): string {
  const dir = process.env.KILN_BENCH_DIR ?? join(tmpdir(), 'kiln-bench');
  mkdirSync(dir, { recursive: true });
  return dir;
}

let runDir: string | undefined;

/**
 * This run's outputs (images, tar files, GNU time's reports): `run-PID` in the work directory,
 * removed when the run ends. Two runs sharing KILN_BENCH_DIR once wrote the same image file:
 * one mke2fs read back directory blocks the other had written, and failed with "Directory
 * block checksum does not match". Directories of runs whose process is gone are removed.
 */
export function benchRunDir(): string {
  if (runDir !== undefined) return runDir;
  const work = benchWorkDir();
  for (const name of readdirSync(work)) {
    const pid = /^run-(\d+)$/.exec(name)?.[1];
    if (pid !== undefined && !alive(Number(pid))) rmSync(join(work, name), { recursive: true, force: true });
  }
  const dir = join(work, `run-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  runDir = dir;
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs the kiln CLI (the built one, so start-up is what users get). */
export function kilnArgs(args: string[]): [string, string[]] {
  if (!existsSync(kilnCli)) throw new Error(`${kilnCli} is missing: run 'npm run build' (npm run bench does)`);
  return [process.execPath, [kilnCli, ...args]];
}

/**
 * Runs a bench worker module (bench/workers/NAME.ts) in its own node process through tsx, so
 * its peak RSS is its own. Workers print `bench:KEY=SECONDS` lines for in-process timings.
 */
export function workerArgs(name: string, args: string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', 'workers', `${name}.ts`), ...args]];
}

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

/** Prints measurements as a table, with each one's wall-time ratio to every baseline label. */
export function printTable(title: string, rows: Measurement[], baselines: string[]): void {
  const base = baselines.map((b) => rows.find((r) => r.label === b)).filter((r): r is Measurement => r !== undefined);
  const header = ['', 'wall s', 'user s', 'sys s', 'peak MiB', ...base.map((b) => `÷ ${b.label}`), 'inside'];
  const lines = rows.map((r) => [
    r.label,
    fmt(r.wall),
    fmt(r.user),
    fmt(r.sys),
    fmt(r.peakRss, 0),
    ...base.map((b) => (b === r ? '1' : fmt(r.wall / b.wall))),
    Object.entries(r.inner)
      .map(([k, v]) => `${k} ${fmt(v)}s`)
      .join(', '),
  ]);
  printLines(title, header, lines);
}

function printLines(title: string, header: string[], lines: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`\n## ${title}\n${row(header)}\n${row(widths.map((w) => '-'.repeat(w)))}\n${lines.map(row).join('\n')}\n`);
}

/** One bench file (bench/NAME.bench.ts) default-exports a suite. */
export interface BenchSuite {
  /** Shown in `npm run bench -- --list`. */
  description: string;
  run(): Promise<void> | void;
}

/** Seconds since `start` (from performance.now()), for workers' `bench:` lines. */
export function report(key: string, startMs: number): void {
  process.stdout.write(`bench:${key}=${((performance.now() - startMs) / 1000).toFixed(3)}\n`);
}
