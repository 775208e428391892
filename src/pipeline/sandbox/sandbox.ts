/**
 * The sandbox contract: run shell commands in a staged root directory. The one implementation
 * is bubblewrap (bwrap.ts); kinds and the shell command only see this interface.
 */

/**
 * What every sandbox mounts over the staged root itself: a fresh /proc and /tmp, and the few
 * device nodes in /dev (bwrap.ts). A staged root makes these its own directories.
 */
export const SANDBOX_OWN_MOUNTS = ['/proc', '/tmp', '/dev'] as const;

/** A directory that is writable inside the sandbox (a "marked directory" in BuildStream terms). */
export interface SandboxMount {
  /** Absolute path inside the sandbox, e.g. '/buildstream-install'. */
  path: string;
  /** Host directory to bind there; default: the same path inside the staged root. */
  host?: string;
  /** Default true: marked directories are the writable ones. */
  writable?: boolean;
}

export interface SandboxOptions {
  /** Working directory inside the sandbox (created if missing). Default '/'. */
  cwd?: string;
  /** Remount the staged root read-only; mounts stay writable. Default false. */
  rootReadOnly?: boolean;
  /** Network access (only `kiln shell`). Default false. */
  network?: boolean;
  /** An interactive session: terminal stdio and a full /dev (shell). Default false. */
  interactive?: boolean;
  /** A tmpfs at /dev/shm (BuildStream's `create-dev-shm`). Default false. */
  devShm?: boolean;
  uid?: number;
  gid?: number;
  /** Called before each command starts (progress display, logs). */
  onCommand?: (command: string) => void;
}

export interface SandboxLog {
  /** Host path of the log file; command output is appended to it. */
  path: string;
}

export interface Sandbox {
  /**
   * Runs each command as `sh -e -c "<command>\n"` in order, stopping at the first that fails
   * (a KilnError naming the command, its exit code and the log). `env` is the whole
   * environment: nothing of the host's leaks in.
   */
  run(commands: string[], root: string, mounts: SandboxMount[], env: Record<string, string>, log: SandboxLog, options?: SandboxOptions): Promise<void>;
}
