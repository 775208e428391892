import { KilnError } from '../../errors.js';
import { AptError, type AptState } from './apt-state.js';

/**
 * Resolution: the dependency closure of a package list as apt computes it for an empty system
 * (the private state's dpkg status is empty), and the exact file of every package in it.
 */

/** One resolved binary package. */
export interface ResolvedPackage {
  /** As apt names it: plain for the native architecture and `all`, `name:arch` for foreign ones. */
  package: string;
  version: string;
  arch: string;
  /** The file's path in the archive (`pool/main/...`), as apt reports it. */
  filename: string;
  sha256: string;
  size: number;
  /** Where apt would download it from (from the machine's apt configuration; never stored). */
  uri: string;
}

/** A package pinned by a ref. */
export interface PinnedPackage {
  package: string;
  version: string;
  sha256: string;
  /** Its path in the archive (`pool/main/...`): where mirrors and the snapshot archive keep it. */
  filename?: string;
  /** When it was tracked, as the snapshot archive writes times (`20261206T073000Z`). */
  tracked?: string;
}

export interface ClosureOptions {
  /** Add every Essential: yes package (`?essential`), as a base system needs (default true). */
  essential?: boolean;
  /** Exact versions to keep (`name=version`): apt resolves the rest around them. */
  keep?: string[];
}

/** The name apt-get download uses for a package file: `name_version_arch.deb`, ':' as %3a. */
export function debFileName(name: string, version: string, arch: string): string {
  return `${name.replace(/:.*$/, '')}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
}

/** Parses apt's `--print-uris` lines: `'URI' file size SHA256:hex` (other hash names ignored). */
export function parsePrintUris(text: string): { uri: string; file: string; size: number; sha256: string | undefined }[] {
  const out: { uri: string; file: string; size: number; sha256: string | undefined }[] = [];
  for (const line of text.split('\n')) {
    const m = /^'([^']+)' (\S+) (\d+) (\S+)/.exec(line);
    if (!m) continue;
    const hash = /^SHA256:([0-9a-f]{64})$/.exec(m[4]!);
    out.push({ uri: m[1]!, file: m[2]!, size: Number(m[3]), sha256: hash?.[1] });
  }
  return out;
}

/** The archive path of a URI: from its `pool/` component on (Debian archives keep every file there). */
function archivePath(uri: string, file: string): string {
  const at = uri.indexOf('/pool/');
  return at >= 0 ? decodeURIComponent(uri.slice(at + 1)) : file;
}

function explain(e: unknown, what: string): never {
  if (e instanceof AptError) {
    const lines = `${e.stderr}\n${e.stdout}`.split('\n').filter((l) => /^E:|^ |unmet|Depends|Unable|not found|has no installation candidate/.test(l));
    throw new KilnError(
      'deb-resolve',
      `apt cannot ${what}:\n${lines.join('\n').trim() || e.message}`,
      'check the package names and versions (apt-cache policy NAME on a machine with the same sources)',
    );
  }
  throw e;
}

/** The download URIs, sizes and sha256 of exact package versions (`name=version` specs). */
export async function locatePackages(apt: AptState, specs: string[]): Promise<ReturnType<typeof parsePrintUris>> {
  if (specs.length === 0) return [];
  const r = await apt.run('apt-get', ['download', '--print-uris', ...specs]);
  return parsePrintUris(r.stdout);
}

/**
 * Resolves `packages` (plus ?essential) to the full closure, sorted by package name. Each entry
 * has the exact version, file and sha256 apt would install on an empty system.
 */
export async function resolveClosure(apt: AptState, packages: string[], options: ClosureOptions = {}): Promise<ResolvedPackage[]> {
  await apt.ensureLists();
  const wanted = [...((options.essential ?? true) ? ['?essential'] : []), ...packages, ...(options.keep ?? [])];
  if (wanted.length === 0) return [];
  let sim: string;
  try {
    sim = (await apt.run('apt-get', ['-s', '-y', 'install', ...wanted])).stdout;
  } catch (e) {
    explain(e, `resolve ${packages.join(', ') || '?essential'}`);
  }
  const insts: { package: string; version: string; arch: string }[] = [];
  for (const line of sim.split('\n')) {
    // Inst NAME (VERSION RELEASE[, RELEASE…] [ARCH]) [extra]
    const m = /^Inst (\S+) \((\S+) .*\[([^\]]+)\]\)/.exec(line);
    if (m) insts.push({ package: m[1]!, version: m[2]!, arch: m[3]! });
  }
  if (insts.length === 0) throw new KilnError('deb-resolve', `apt resolved nothing to install for ${wanted.join(' ')}`, 'is the package list empty?');
  insts.sort((a, b) => (a.package < b.package ? -1 : a.package > b.package ? 1 : 0));
  let located: ReturnType<typeof parsePrintUris>;
  try {
    located = await locatePackages(
      apt,
      insts.map((p) => `${p.package.replace(/:.*$/, '')}:${p.arch}=${p.version}`),
    );
  } catch (e) {
    explain(e, 'locate the resolved package files');
  }
  const byFile = new Map(located.map((l) => [l.file, l]));
  return insts.map((p) => {
    const file = debFileName(p.package, p.version, p.arch);
    const l = byFile.get(file);
    if (!l?.sha256)
      throw new KilnError(
        'deb-resolve',
        `apt did not report a SHA256 for ${p.package} ${p.version} (${file})`,
        "the archive's index lacks SHA256 sums; kiln needs them to pin packages",
      );
    return { package: p.package, version: p.version, arch: p.arch, filename: archivePath(l.uri, l.file), sha256: l.sha256, size: l.size, uri: l.uri };
  });
}
