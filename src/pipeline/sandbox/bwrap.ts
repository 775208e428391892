import type { ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { delimiter, join, posix } from 'node:path';
import { KilnError } from '../../errors.js';
import { tailOfFile } from './log-tail.js';
import { SANDBOX_OWN_MOUNTS, type Sandbox, type SandboxLog, type SandboxMount, type SandboxOptions } from './sandbox.js';

/** The only device nodes a build sees (docs/format.md#sandbox). */
export const SANDBOX_DEVICES = ['/dev/full', '/dev/null', '/dev/random', '/dev/urandom', '/dev/zero'] as const;

/** Finds `bwrap` on the host PATH, or explains which Debian package provides it. */
export function findBwrap(path = process.env.PATH ?? ''): string {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'bwrap');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new KilnError(
    'no-bwrap',
    "the build sandbox needs bubblewrap, but 'bwrap' is not on PATH",
    'install the Debian package bubblewrap (apt-get install bubblewrap)',
  );
}

/** Paths inside the root as host paths; `inner` is absolute inside the sandbox. */
function hostPath(root: string, inner: string): string {
  return join(root, posix.normalize(inner).replace(/^\/+/, ''));
}

/**
 * Mount points bwrap would create in the staged root. We create them ourselves first (so a
 * read-only root is no obstacle) and remember which ones were new, so they can be removed
 * afterwards and never leak into compose or script outputs.
 */
class MountPoints {
  private readonly created: string[] = [];
  constructor(private readonly root: string) {}

  dir(inner: string): void {
    const parts = posix.normalize(inner).split('/').filter(Boolean);
    let cur = this.root;
    for (const part of parts) {
      cur = join(cur, part);
      let st;
      try {
        st = lstatSync(cur);
      } catch {
        mkdirSync(cur);
        this.created.push(cur);
        continue;
      }
      if (st.isSymbolicLink()) {
        // A symlink would be followed on the host: refuse rather than bind something outside the root.
        throw new KilnError(
          'sandbox-mount',
          `cannot mount at '${inner}' in the sandbox: '${cur.slice(this.root.length)}' is a symlink`,
          'stage a real directory there',
        );
      }
      if (!st.isDirectory())
        throw new KilnError('sandbox-mount', `cannot mount at '${inner}' in the sandbox: '${cur.slice(this.root.length)}' is not a directory`);
    }
  }

  file(inner: string): void {
    this.dir(posix.dirname(inner));
    const p = hostPath(this.root, inner);
    if (existsSync(p) || isLink(p)) return;
    closeSync(openSync(p, 'w', 0o644));
    this.created.push(p);
  }

  /** Removes what `dir`/`file` created, deepest first, leaving anything a command put there. */
  cleanup(): void {
    for (const p of this.created.reverse()) {
      try {
        const st = lstatSync(p);
        if (st.isDirectory()) {
          if (readdirSync(p).length === 0) rmdirSync(p);
        } else unlinkSync(p);
      } catch {
        // already gone
      }
    }
    this.created.length = 0;
  }
}

/**
 * mkdir -p of a sandbox path on the host, stopping at a symlink: the link is resolved inside the
 * sandbox by bwrap, and following it here could create directories outside the staged root.
 */
function mkdirInside(root: string, inner: string): void {
  let cur = root;
  for (const part of posix.normalize(inner).split('/').filter(Boolean)) {
    cur = join(cur, part);
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      mkdirSync(cur);
      continue;
    }
    if (!st.isDirectory()) return;
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The host path of sandbox path `inner` (normalized, absolute): in the last, innermost mount holding it, else in the root. */
function hostOf(root: string, mounts: readonly SandboxMount[], inner: string): string {
  let best: { at: string; host: string } | undefined;
  for (const m of mounts) {
    const at = posix.normalize(m.path).replace(/\/+$/, '');
    if ((inner === at || inner.startsWith(`${at}/`)) && (!best || at.length >= best.at.length)) best = { at, host: m.host ?? hostPath(root, at) };
  }
  return best ? join(best.host, inner.slice(best.at.length)) : hostPath(root, inner);
}

/**
 * Whether `inner` exists in the staged root, following symlinks the way the sandbox will
 * (inside the root), and looking into `mounts` where they cover a path.
 */
export function existsInside(root: string, inner: string, mounts: readonly SandboxMount[] = []): boolean {
  let pending = inner.split('/').filter((p) => p !== '' && p !== '.');
  const real: string[] = [];
  for (let hops = 0; pending.length > 0; ) {
    const part = pending.shift()!;
    if (part === '..') {
      real.pop();
      continue;
    }
    const host = hostOf(root, mounts, `/${[...real, part].join('/')}`);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      return false;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return false;
      const target = readlinkSync(host);
      if (target.startsWith('/')) real.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    real.push(part);
  }
  return true;
}

/** Checks that the staged root provides the shell on the element's PATH (docs/format.md#sandbox). */
function checkShell(root: string, mounts: readonly SandboxMount[], env: Record<string, string>): void {
  const path = env.PATH ?? '/usr/bin:/bin';
  for (const dir of path.split(':')) {
    if (dir.startsWith('/') && existsInside(root, `${dir}/sh`, mounts)) return;
  }
  throw new KilnError(
    'no-shell',
    `Staged artifacts do not provide command 'sh' (searched PATH=${path} in the sandbox)`,
    'add a dependency that provides /bin/sh, such as a base system or busybox',
  );
}

export interface BwrapArgsInput {
  root: string;
  mounts: SandboxMount[];
  env: Record<string, string>;
  options: SandboxOptions;
  command: string[];
}

/** The bwrap command line for one command; exported for tests and for `kiln shell`. */
export function bwrapArgs({ root, mounts, env, options, command }: BwrapArgsInput): string[] {
  const args = ['--unshare-user', '--uid', String(options.uid ?? 0), '--gid', String(options.gid ?? 0), '--unshare-pid', '--die-with-parent'];
  if (!options.network) args.push('--unshare-net', '--unshare-uts', '--hostname', 'buildstream', '--unshare-ipc');
  // No capabilities, even when kiln runs as root: a staged root links files of the cache, and
  // CAP_SYS_ADMIN could remount its read-only binds writable (a rootless sandbox has none anyway).
  if (!options.interactive) args.push('--new-session', '--cap-drop', 'ALL');
  args.push('--bind', root, '/', '--proc', '/proc', '--tmpfs', '/tmp');
  if (options.interactive) args.push('--dev', '/dev');
  else for (const dev of SANDBOX_DEVICES) args.push('--dev-bind', dev, dev);
  if (options.devShm) args.push('--tmpfs', '/dev/shm');
  for (const m of mounts) {
    const host = m.host ?? hostPath(root, m.path);
    args.push(m.writable === false ? '--ro-bind' : '--bind', host, m.path);
  }
  if (options.rootReadOnly) args.push('--remount-ro', '/');
  args.push('--chdir', options.cwd ?? '/', '--clearenv');
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) args.push('--setenv', k, v);
  args.push('--', ...command);
  return args;
}

/** Bubblewrap: a rootless user namespace with uid 0 inside, one `sh -e -c` process per command. */
export class BwrapSandbox implements Sandbox {
  private bwrap: string | undefined;

  async run(
    commands: string[],
    root: string,
    mounts: SandboxMount[],
    env: Record<string, string>,
    log: SandboxLog,
    options: SandboxOptions = {},
  ): Promise<void> {
    this.bwrap ??= findBwrap();
    if (!statSync(root).isDirectory()) throw new KilnError('sandbox-root', `sandbox root '${root}' is not a directory`);
    checkShell(root, mounts, env);
    const points = new MountPoints(root);
    try {
      for (const p of SANDBOX_OWN_MOUNTS) points.dir(p);
      if (!options.interactive) for (const dev of SANDBOX_DEVICES) points.file(dev);
      for (const m of mounts) points.dir(m.path);
      // The working directory is part of the staged tree (it stays), not a mount point.
      mkdirInside(root, options.cwd ?? '/');
      for (const command of commands) {
        options.onCommand?.(command);
        const code = await this.spawnOne(root, mounts, env, log, options, command);
        if (code !== 0) {
          // bwrap reports its own failures as 'bwrap: ...' (no user namespaces, a bad mount).
          const own = tailOfFile(log.path, 3).find((l) => l.startsWith('bwrap: '));
          if (own) {
            throw new KilnError(
              'sandbox-failed',
              `the sandbox could not run '${command}': ${own}`,
              'bubblewrap needs unprivileged user namespaces (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone = 1 where it exists)',
            );
          }
          throw new KilnError('command-failed', `Command '${command}' failed with exitcode ${code}`, `see the build log ${log.path}`);
        }
      }
    } finally {
      points.cleanup();
    }
  }

  /**
   * Runs one program (argv, no shell wrapping) with the terminal attached, for `kiln shell`;
   * returns its exit code. Mount points are prepared and removed as for `run`.
   */
  async exec(argv: string[], root: string, mounts: SandboxMount[], env: Record<string, string>, options: SandboxOptions = {}): Promise<number> {
    this.bwrap ??= findBwrap();
    const points = new MountPoints(root);
    try {
      for (const p of SANDBOX_OWN_MOUNTS) points.dir(p);
      for (const m of mounts) points.dir(m.path);
      mkdirInside(root, options.cwd ?? '/');
      return await this.spawnArgv(root, mounts, env, undefined, { ...options, interactive: true }, argv);
    } finally {
      points.cleanup();
    }
  }

  private spawnOne(
    root: string,
    mounts: SandboxMount[],
    env: Record<string, string>,
    log: SandboxLog,
    options: SandboxOptions,
    command: string,
  ): Promise<number> {
    return this.spawnArgv(root, mounts, env, log, options, ['sh', '-e', '-c', `${command}\n`], command);
  }

  private spawnArgv(
    root: string,
    mounts: SandboxMount[],
    env: Record<string, string>,
    log: SandboxLog | undefined,
    options: SandboxOptions,
    argv: string[],
    shown = argv.join(' '),
  ): Promise<number> {
    const args = bwrapArgs({ root, mounts, env, options, command: argv });
    const fd = options.interactive || !log ? -1 : openSync(log.path, 'a');
    if (fd >= 0) writeSync(fd, `+ ${shown}\n`);
    return new Promise<number>((resolveRun, reject) => {
      // Builds see umask 022 whatever the invoking shell has, so modes of what they create do
      // not depend on the user (the child inherits the umask at spawn).
      const hostUmask = process.umask(0o022);
      let child: ChildProcess;
      try {
        child = process.getBuiltinModule('node:child_process').spawn(this.bwrap!, args, {
          stdio: options.interactive ? 'inherit' : ['ignore', fd, fd],
          env: {},
        });
      } finally {
        process.umask(hostUmask);
      }
      child.on('error', (e) => {
        if (fd >= 0) closeSync(fd);
        reject(new KilnError('sandbox-spawn', `cannot start bwrap: ${e.message}`, 'install the Debian package bubblewrap'));
      });
      child.on('close', (code, signal) => {
        if (fd >= 0) closeSync(fd);
        resolveRun(code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1));
      });
    });
  }
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return table[signal];
}
