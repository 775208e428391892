import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { derivePrivateSources, hostCodename, readHostSources } from './host-sources.js';

/**
 * apt against a private state directory: its own sources (derived from the machine's), package
 * lists, cache and an EMPTY dpkg status, so resolution never depends on what the host has
 * installed and nothing of the host's apt state is touched. Everything else (proxies, keyrings,
 * pinning) is the machine's own apt configuration. Works rootless (no locking, user-owned dirs).
 *
 * Layout of `<dir>`: apt.conf, sources.list (empty), sources.list.d/kiln.sources, status (empty),
 * lists/, cache/.
 */

export interface AptTarget {
  /** dpkg architecture (default: the machine's). */
  arch?: string;
  /** Release suite (default: the machine's sources as they are). */
  suite?: string;
  /** False: the release suite without its -updates/-security suites (see DeriveOptions). */
  updates?: boolean;
}

export interface AptResult {
  stdout: string;
  stderr: string;
}

/** A failed apt command, with what it printed. */
export class AptError extends KilnError {
  constructor(
    readonly command: string,
    readonly stdout: string,
    readonly stderr: string,
    hint?: string,
  ) {
    super('apt-failed', `${command} failed:\n${(stderr.trim() || stdout.trim()).split('\n').slice(-20).join('\n')}`, hint);
  }
}

function exec(cmd: string, args: string[], cwd?: string): Promise<AptResult & { code: number }> {
  return new Promise((resolve, reject) => {
    process
      .getBuiltinModule('node:child_process')
      .execFile(cmd, args, { cwd, maxBuffer: 1 << 28, env: { ...process.env, LC_ALL: 'C', LANGUAGE: '' } }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(
            new KilnError('no-apt', `cannot run '${cmd}': ${err.message}`, "kiln uses the machine's apt to resolve and download Debian packages; install apt"),
          );
          return;
        }
        resolve({ stdout, stderr, code: err ? Number(err.code) : 0 });
      });
  });
}

/** A value of the machine's apt configuration (`apt-config shell`, with /f and /d path suffixes). */
export async function aptConfig(key: string): Promise<string> {
  const r = await exec('apt-config', ['shell', 'V', key]);
  const m = /^V='(.*)'$/m.exec(r.stdout);
  return m ? m[1]!.replace(/'\\''/g, "'") : '';
}

let machineArch: Promise<string> | undefined;
export function hostArchitecture(): Promise<string> {
  machineArch ??= aptConfig('APT::Architecture').then((a) => a || 'amd64');
  return machineArch;
}

const updated = new Map<string, Promise<void>>();

export class AptState {
  private prepared = false;

  private constructor(
    readonly dir: string,
    readonly arch: string,
    readonly suite: string | undefined,
    readonly updates: boolean,
  ) {}

  /** The state for one (architecture, suite) under `root` (e.g. `<sources>/deb/apt`). */
  static async open(root: string, target: AptTarget = {}): Promise<AptState> {
    const arch = target.arch ?? (await hostArchitecture());
    if (!/^[a-z0-9-]+$/.test(arch)) throw new KilnError('deb-bad-arch', `'${arch}' is not a Debian architecture name`);
    if (target.suite !== undefined && !/^[A-Za-z0-9._-]+$/.test(target.suite)) throw new KilnError('deb-bad-suite', `'${target.suite}' is not a suite name`);
    const updates = target.updates ?? true;
    return new AptState(join(root, `${arch}-${target.suite ?? 'host'}${updates ? '' : '-release'}`), arch, target.suite, updates);
  }

  get configFile(): string {
    return join(this.dir, 'apt.conf');
  }

  /** Writes the private configuration and sources (cheap; redone once per process). */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    if (this.dir.includes('"')) throw new KilnError('deb-bad-path', `the cache path '${this.dir}' contains '"', which apt's configuration syntax cannot hold`);
    for (const d of ['sources.list.d', 'lists/partial', 'cache/archives/partial']) mkdirSync(join(this.dir, d), { recursive: true });
    const host = readHostSources({ list: await aptConfig('Dir::Etc::SourceList/f'), parts: await aptConfig('Dir::Etc::SourceParts/d') });
    const derived = derivePrivateSources(host, {
      ...(this.suite ? { suite: this.suite } : {}),
      ...(hostCodename() ? { hostCodename: hostCodename()! } : {}),
      updates: this.updates,
    });
    replaceFile(join(this.dir, 'sources.list.d', 'kiln.sources'), derived.map((p) => p.toString()).join('\n'));
    replaceFile(join(this.dir, 'sources.list'), '');
    if (!existsSync(join(this.dir, 'status'))) replaceFile(join(this.dir, 'status'), '');
    const d = this.dir;
    const lines = [
      `Dir::Etc::SourceList "${d}/sources.list";`,
      `Dir::Etc::SourceParts "${d}/sources.list.d";`,
      `Dir::State "${d}";`,
      `Dir::State::Lists "${d}/lists";`,
      `Dir::State::status "${d}/status";`,
      `Dir::Cache "${d}/cache";`,
      `Dir::Cache::archives "${d}/cache/archives";`,
      `Dir::Cache::pkgcache "${d}/cache/pkgcache.bin";`,
      `Dir::Cache::srcpkgcache "${d}/cache/srcpkgcache.bin";`,
      'Debug::NoLocking "true";',
      'APT::Install-Recommends "false";',
      'APT::Install-Suggests "false";',
      'Acquire::Languages "none";',
      `APT::Architecture "${this.arch}";`,
      '#clear APT::Architectures;',
      `APT::Architectures { "${this.arch}"; };`,
      // the machine's hooks clean ITS caches; they have no business running for a private state
      '#clear APT::Update::Pre-Invoke;',
      '#clear APT::Update::Post-Invoke;',
      '#clear APT::Update::Post-Invoke-Success;',
      '#clear DPkg::Pre-Invoke;',
      '#clear DPkg::Post-Invoke;',
    ];
    // root would hand downloads to the _apt user, who cannot write into a private root-owned dir
    if (process.getuid?.() === 0) lines.push('APT::Sandbox::User "root";');
    replaceFile(this.configFile, `${lines.join('\n')}\n`);
    this.prepared = true;
  }

  /** Whether package lists were downloaded into this state. */
  hasLists(): boolean {
    try {
      return readdirSync(join(this.dir, 'lists')).some((n) => n.includes('_Packages'));
    } catch {
      return false;
    }
  }

  /**
   * `apt-get update` into the private lists, once per process per state; `force` refreshes again
   * (the lists named a file the archive no longer has).
   */
  update(force = false): Promise<void> {
    let p = force ? undefined : updated.get(this.dir);
    if (!p) {
      p = (async () => {
        await this.prepare();
        const r = await this.run('apt-get', ['-q', 'update']);
        // apt-get update exits 0 even when some index could not be fetched; its W:/E: lines say so
        const failed = r.stderr.split('\n').filter((l) => /^(E:|W: Failed to fetch|W: Some index files failed)/.test(l));
        if (failed.length > 0 || !this.hasLists()) {
          throw new AptError(
            'apt-get update (private kiln state)',
            r.stdout,
            r.stderr,
            'check that this machine reaches its apt archives (`apt-get update` as usual works)',
          );
        }
      })();
      updated.set(this.dir, p);
      p.catch(() => updated.delete(this.dir));
    }
    return p;
  }

  /** Makes sure package lists exist (downloads them the first time). */
  async ensureLists(): Promise<void> {
    await this.prepare();
    if (!this.hasLists()) await this.update();
  }

  /** Runs apt-get/apt-cache with the private configuration; a non-zero exit is an AptError. */
  async run(cmd: 'apt-get' | 'apt-cache', args: string[], options: { cwd?: string; allowFail?: boolean } = {}): Promise<AptResult & { code: number }> {
    await this.prepare();
    const r = await exec(cmd, ['-c', this.configFile, ...args], options.cwd);
    if (r.code !== 0 && !options.allowFail) throw new AptError(`${cmd} ${args.join(' ')}`, r.stdout, r.stderr);
    return r;
  }
}

/**
 * Several sources (and processes) share one state and each prepares it while another may be
 * running apt-get on it: a file rewritten in place can be read empty, and apt then falls back to
 * the machine's own lists (and their root-owned lock). Unchanged files are left alone; changed
 * ones appear whole, by rename.
 */
function replaceFile(path: string, text: string): void {
  try {
    if (readFileSync(path, 'utf8') === text) return;
  } catch {
    // not there yet
  }
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}
