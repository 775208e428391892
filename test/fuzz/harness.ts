/**
 * The fuzzing harness: mutates the base images (corpus.ts, mutate.ts) and runs every reader
 * entry point on each variant in a child process (child.ts) under a time and a memory bound,
 * plus `kiln image ls -R -l` and `kiln image cat` from the CLI for structural mutations and a
 * sample of the rest. A crash (an exception that is not a KilnError, exit 70), a hang, a memory
 * blow-up, or a known-invalid image read without complaint is a failure, reported with the seed
 * and the variant index that replay it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Answer, Request } from './child.js';
import { buildCorpus } from './corpus.js';
import type { BaseImage } from './model.js';
import { makeVariant, type Variant } from './mutate.js';

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const childPath = new URL('./child.ts', import.meta.url).pathname;

export interface FuzzOptions {
  seed: number;
  /** Most variants to run. */
  iterations: number;
  /** Wall-clock budget: no new variant starts after it. */
  timeMs: number;
  /** A kiln checkout whose dist/ is built: the code under test. */
  kilnRoot: string;
  workers: number;
  /** Per variant in the child, and per CLI run. */
  variantTimeoutMs: number;
  /** Resident memory a process may reach. */
  rssLimitMb: number;
  /** V8 heap limit of every process (--max-old-space-size). */
  heapMb: number;
  /** Run the CLI on every Nth variant (structural ones always); 0: never. */
  cliEvery: number;
  /** Only these variant indices (replay). */
  only?: number[];
  /** Copy the images of failing variants here. */
  keepDir?: string;
  workDir: string;
  log: (line: string) => void;
  bases?: BaseImage[];
}

export type Outcome = 'ok' | 'error' | 'crash' | 'hang' | 'memory' | 'accepted';

export interface Failure {
  index: number;
  base: string;
  kind: Variant['kind'];
  description: string;
  outcome: Outcome;
  entry: string;
  detail: string;
}

export interface FuzzSummary {
  seed: number;
  kilnRoot: string;
  variants: number;
  ok: number;
  cleanErrors: number;
  crashes: number;
  hangs: number;
  memory: number;
  /** Known-invalid images (loops, impossible sizes) read without any error. */
  accepted: number;
  cliRuns: number;
  steps: number;
  maxRssMb: number;
  elapsedMs: number;
  byKind: Record<string, number>;
  failures: Failure[];
}

// ---- process supervision: time and memory ----

/** Resident and peak resident memory of a process, in KiB (0 when it is gone). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

interface Bounded {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdoutBytes: number;
  hwmKb: number;
  timedOut: boolean;
  overMemory: boolean;
  capped: boolean;
}

/** Runs a command with a time limit, a memory limit and a cap on its output (then it is cut off, as `| head` would). */
function runBounded(cmd: string, args: string[], o: { timeoutMs: number; rssLimitKb: number; stdoutCap: number }): Promise<Bounded> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdoutBytes = 0;
    let hwmKb = 0;
    let timedOut = false;
    let overMemory = false;
    let capped = false;
    const stop = (): void => {
      p.kill('SIGKILL');
    };
    p.stdout!.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
      if (stdoutBytes > o.stdoutCap && !capped) {
        capped = true;
        stop();
      }
    });
    p.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 65536) stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, o.timeoutMs);
    const poll = setInterval(() => {
      const m = memoryOf(p.pid!);
      hwmKb = Math.max(hwmKb, m.hwm);
      if (m.rss > o.rssLimitKb) {
        overMemory = true;
        stop();
      }
    }, 20);
    p.on('close', (status, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ status, signal, stderr, stdoutBytes, hwmKb, timedOut, overMemory, capped });
    });
  });
}

/** A long-lived child (child.ts) answering one request at a time. */
export class Worker {
  private proc: ChildProcess | undefined;
  private buffer = '';
  private stderr = '';
  private waiting: ((line: string | undefined) => void) | undefined;

  constructor(private readonly o: Pick<FuzzOptions, 'heapMb' | 'kilnRoot' | 'rssLimitMb' | 'variantTimeoutMs'>) {}

  private async start(): Promise<void> {
    this.buffer = '';
    this.stderr = '';
    const p = spawn(process.execPath, [`--max-old-space-size=${this.o.heapMb}`, '--import', 'tsx', childPath, this.o.kilnRoot], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc = p;
    // Events of a process already replaced (killed after a hang) must not answer the new one.
    p.stdout!.on('data', (d: Buffer) => {
      if (this.proc !== p) return;
      this.buffer += d.toString('utf8');
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const w = this.waiting;
        this.waiting = undefined;
        w?.(line);
      }
    });
    p.stderr!.on('data', (d: Buffer) => {
      if (this.proc !== p) return;
      this.stderr = (this.stderr + d.toString('utf8')).slice(-8192);
    });
    p.on('close', () => {
      if (this.proc !== undefined && this.proc !== p) return;
      this.proc = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(undefined);
    });
    p.stdin!.on('error', () => {});
    const ready = await this.next(60_000);
    if (ready === undefined) throw new Error(`the fuzz child did not start:\n${this.stderr}`);
  }

  private next(timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  kill(): void {
    const p = this.proc;
    this.proc = undefined;
    p?.kill('SIGKILL');
  }

  async run<A extends { maxRssKb?: number } = Answer>(req: Request): Promise<{ answer?: A; outcome?: Outcome; detail?: string }> {
    if (!this.proc) await this.start();
    const p = this.proc!;
    const limitKb = this.o.rssLimitMb * 1024;
    let overMemory = false;
    const poll = setInterval(() => {
      if (memoryOf(p.pid!).rss > limitKb) {
        overMemory = true;
        this.kill();
      }
    }, 20);
    const pending = this.next(this.o.variantTimeoutMs);
    p.stdin!.write(`${JSON.stringify(req)}\n`);
    const line = await pending;
    clearInterval(poll);
    if (line !== undefined) {
      const answer = JSON.parse(line) as A;
      if ((answer.maxRssKb ?? 0) > limitKb) {
        this.kill();
        return { answer, outcome: 'memory', detail: `peak resident memory ${Math.round((answer.maxRssKb ?? 0) / 1024)} MiB` };
      }
      // Keep the baseline low so the next variant's memory is its own.
      if (memoryOf(p.pid!).rss > limitKb / 2) this.kill();
      return { answer };
    }
    // No answer: killed for memory, out of time, or died.
    const alive = this.proc === p;
    this.kill();
    await new Promise((r) => setTimeout(r, 50));
    const err = this.stderr;
    if (overMemory) return { outcome: 'memory', detail: `resident memory over ${this.o.rssLimitMb} MiB` };
    if (/heap out of memory|Allocation failed|Array buffer allocation failed/i.test(err)) return { outcome: 'memory', detail: err.slice(-600) };
    if (alive) return { outcome: 'hang', detail: `no answer within ${this.o.variantTimeoutMs} ms` };
    return { outcome: 'crash', detail: `the child died:\n${err.slice(-1500)}` };
  }
}

// ---- the CLI ----

async function cli(o: FuzzOptions, args: string[]): Promise<{ outcome: Outcome; detail: string; hwmKb: number }> {
  const main = join(o.kilnRoot, 'dist', 'cli', 'main.js');
  const r = await runBounded(process.execPath, [`--max-old-space-size=${o.heapMb}`, main, ...args], {
    timeoutMs: o.variantTimeoutMs,
    rssLimitKb: o.rssLimitMb * 1024,
    stdoutCap: 64 << 20,
  });
  const what = `kiln ${args.join(' ')}`;
  if (r.overMemory) return { outcome: 'memory', detail: `${what}: resident memory over ${o.rssLimitMb} MiB`, hwmKb: r.hwmKb };
  if (r.timedOut) return { outcome: 'hang', detail: `${what}: still running after ${o.variantTimeoutMs} ms (${r.stdoutBytes} bytes out)`, hwmKb: r.hwmKb };
  if (r.capped || r.status === 0) return { outcome: 'ok', detail: '', hwmKb: r.hwmKb };
  if (/heap out of memory|Allocation failed/i.test(r.stderr)) return { outcome: 'memory', detail: `${what}: ${r.stderr.slice(-600)}`, hwmKb: r.hwmKb };
  if (r.status === 1 && /^kiln: error: /.test(r.stderr) && !/internal error/.test(r.stderr))
    return { outcome: 'error', detail: r.stderr.split('\n')[0]!, hwmKb: r.hwmKb };
  return { outcome: 'crash', detail: `${what}: exit ${r.status ?? r.signal}\n${r.stderr.slice(0, 2000)}`, hwmKb: r.hwmKb };
}

// ---- the run ----

const RANK: Outcome[] = ['ok', 'error', 'accepted', 'crash', 'hang', 'memory'];

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const t0 = Date.now();
  if (!existsSync(join(o.kilnRoot, 'dist', 'cli', 'main.js'))) throw new Error(`${o.kilnRoot} has no dist/cli/main.js: build it first (npm run build)`);
  mkdirSync(o.workDir, { recursive: true });
  const bases = o.bases ?? buildCorpus(join(o.workDir, 'corpus'));
  o.log(`[fuzz] seed ${o.seed}; ${bases.length} base images (${bases.map((b) => b.name).join(', ')}); code under test: ${o.kilnRoot}`);
  const s: FuzzSummary = {
    seed: o.seed,
    kilnRoot: o.kilnRoot,
    variants: 0,
    ok: 0,
    cleanErrors: 0,
    crashes: 0,
    hangs: 0,
    memory: 0,
    accepted: 0,
    cliRuns: 0,
    steps: 0,
    maxRssMb: 0,
    elapsedMs: 0,
    byKind: {},
    failures: [],
  };
  const indices = o.only ?? Array.from({ length: o.iterations }, (_, i) => i);
  let nextAt = 0;
  let lastReport = Date.now();

  const one = async (worker: Worker, index: number): Promise<void> => {
    const v = makeVariant(bases, o.seed, index);
    const image = join(o.workDir, `variant-${index}.img`);
    writeFileSync(image, v.bytes);
    const results: { outcome: Outcome; entry: string; detail: string }[] = [];
    const r = await worker.run({ id: index, path: image, specs: v.base.specs });
    let sawError = false;
    if (r.answer) {
      s.steps += r.answer.steps;
      s.maxRssMb = Math.max(s.maxRssMb, Math.round(r.answer.maxRssKb / 1024));
      sawError ||= r.answer.errors > 0;
      if (r.answer.outcome === 'crash')
        results.push({ outcome: 'crash', entry: r.answer.crashes[0]!.step, detail: r.answer.crashes.map((c) => `${c.step}: ${c.message}`).join('\n') });
      else results.push({ outcome: r.answer.outcome, entry: 'library', detail: r.answer.sample.map((x) => `${x.code}: ${x.message}`).join(' | ') });
    }
    if (r.outcome) results.push({ outcome: r.outcome, entry: 'library', detail: r.detail ?? '' });
    if (o.cliEvery > 0 && (v.kind === 'structural' || index % o.cliEvery === 0)) {
      const spec = v.base.specs[index % v.base.specs.length]!;
      const runs: string[][] = [['image', 'ls', '-R', '-l', image + spec]];
      if (v.base.cat) runs.push(['image', 'cat', image + v.base.cat.spec, v.base.cat.path]);
      for (const args of runs) {
        s.cliRuns++;
        const c = await cli(o, args);
        s.maxRssMb = Math.max(s.maxRssMb, Math.round(c.hwmKb / 1024));
        sawError ||= c.outcome === 'error';
        results.push({ outcome: c.outcome, entry: `cli ${args[1]}`, detail: c.detail });
      }
    }
    if (v.mustFail && !sawError && !results.some((x) => RANK.indexOf(x.outcome) > RANK.indexOf('accepted'))) {
      results.push({ outcome: 'accepted', entry: 'all', detail: 'a known-invalid image was read without any error' });
    }
    const worst = results.reduce((a, b) => (RANK.indexOf(b.outcome) > RANK.indexOf(a.outcome) ? b : a), { outcome: 'ok' as Outcome, entry: '', detail: '' });
    s.variants++;
    s.byKind[v.kind] = (s.byKind[v.kind] ?? 0) + 1;
    if (worst.outcome === 'ok') s.ok++;
    else if (worst.outcome === 'error') s.cleanErrors++;
    else if (worst.outcome === 'crash') s.crashes++;
    else if (worst.outcome === 'hang') s.hangs++;
    else if (worst.outcome === 'memory') s.memory++;
    else s.accepted++;
    if (RANK.indexOf(worst.outcome) > RANK.indexOf('error')) {
      s.failures.push({
        index,
        base: v.base.name,
        kind: v.kind,
        description: v.description,
        outcome: worst.outcome,
        entry: worst.entry,
        detail: worst.detail.slice(0, 3000),
      });
      o.log(
        `[fuzz] ${worst.outcome.toUpperCase()} variant ${index} (${v.base.name}): ${v.description}\n        ${worst.entry}: ${worst.detail.split('\n').slice(0, 6).join('\n        ')}`,
      );
      if (o.keepDir) {
        mkdirSync(o.keepDir, { recursive: true });
        copyFileSync(image, join(o.keepDir, `seed-${o.seed}-variant-${index}.img`));
      }
    }
    rmSync(image, { force: true });
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      o.log(`[fuzz] ${progress(s, t0)}`);
    }
  };

  const loop = async (): Promise<void> => {
    const worker = new Worker(o);
    try {
      while (nextAt < indices.length && Date.now() - t0 < o.timeMs) await one(worker, indices[nextAt++]!);
    } finally {
      worker.kill();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.workers) }, loop));
  s.elapsedMs = Date.now() - t0;
  o.log(`[fuzz] done: ${progress(s, t0)}; max RSS ${s.maxRssMb} MiB; ${s.cliRuns} CLI runs; ${s.steps} entry-point calls`);
  if (s.failures.length > 0) o.log(`[fuzz] replay one: npm run fuzz -- --seed ${o.seed} --only ${s.failures[0]!.index} --keep DIR`);
  return s;
}

export function progress(s: FuzzSummary, t0: number): string {
  return `${s.variants} variants in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${s.ok} read cleanly, ${s.cleanErrors} clean errors, ${s.crashes} crashes, ${s.hangs} hangs, ${s.memory} memory blow-ups, ${s.accepted} invalid images accepted`;
}
