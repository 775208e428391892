import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

/** Shared set-up of the robustness tests (issue 9: never lose a byte, never crash, never hang). */

export const repo = new URL('../../', import.meta.url).pathname;
export const cli = join(repo, 'src/cli/main.ts');

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  all: string;
}

/** The kiln CLI from source, as a user sees it (optionally as another user: ['runuser', '-u', 'nobody', '--']). */
export function kiln(args: string[], opts: { user?: string[]; cwd?: string; env?: NodeJS.ProcessEnv; shell?: string } = {}): Run {
  const argv = [...(opts.user ?? []), process.execPath, '--import', 'tsx', cli, ...args];
  const r =
    opts.shell !== undefined
      ? spawnSync('sh', ['-c', `${opts.shell} && exec "$@"`, 'sh', ...argv], {
          cwd: opts.cwd ?? repo,
          encoding: 'utf8',
          env: opts.env ?? process.env,
          maxBuffer: 1 << 26,
        })
      : spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd ?? repo, encoding: 'utf8', env: opts.env ?? process.env, maxBuffer: 1 << 26 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

/** Starts the kiln CLI without waiting. */
export function startKiln(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** These tests mount filesystems and switch users: they need root (CI runs as root) and fail, not skip, without it. */
export function requireRoot(what: string): void {
  assert.ok(process.getuid?.() === 0, `${what} needs root (to mount a small tmpfs or run as another user); run the tests as root, as CI does`);
}

/** The uid of `nobody`, for the tests that run kiln as a non-root user. */
export function nobody(): number {
  const has = spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8' });
  assert.is(has.status, 0, 'runuser is needed to run kiln as a non-root user (Debian package util-linux)');
  const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  assert.ok(uid > 0, 'the nobody user exists');
  return uid;
}

export const AS_NOBODY = ['runuser', '-u', 'nobody', '--'];

/** Writes `mib` MiB of incompressible bytes (a random MiB varied per chunk, fast to make). */
export function writeNoise(path: string, mib: number): void {
  const chunk = randomBytes(1 << 20);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      chunk.writeUInt32LE(i, 0);
      chunk.writeUInt32LE((i * 2654435761) >>> 0, 4096);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
}

/** Names in `dir` that are kiln temp files (`.NAME.kiln-PID.tmp`). */
export function temps(dir: string): string[] {
  return readdirSync(dir).filter((n) => /\.kiln-\d+\.tmp$/.test(n));
}

export function mountTmpfs(dir: string, size: string): void {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0777`, 'tmpfs', dir], { encoding: 'utf8' });
  assert.is(r.status, 0, `mount tmpfs on ${dir}: ${r.stderr}`);
}

export function umount(dir: string): void {
  spawnSync('umount', [dir]);
}

/** Resolves when the child has exited (and been reaped: its PID is then free). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** Polls `check` every 2 ms until it is true; fails after `ms`. */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.unreachable(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
