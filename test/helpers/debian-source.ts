/**
 * Upstream test data from Debian source packages, for harnesses that compare kiln with a real
 * tool on that tool's own test files (e2fsprogs's damaged images, BuildStream's test projects).
 * The orig tarball comes through kiln's own Debian code (deb-src entries derived from this
 * machine's apt sources), is checked by sha256, and is unpacked once into a cache outside the
 * repository: $KILN_TEST_CACHE/<package>, default ~/.cache/kiln-test/<package>.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AptState } from '../../src/pipeline/debian/apt-state.js';
import { defaultSourceFile, fetchSourceFile, sourcePackageFiles } from '../../src/pipeline/debian/source-package.js';

export interface UnpackRequest {
  /** Source package name. */
  pkg: string;
  /** The cache directory; default $KILN_TEST_CACHE/<pkg> or ~/.cache/kiln-test/<pkg>. */
  cache?: string;
  /** The directory of the unpacked tree to keep, relative to the tarball's top directory (e.g. `tests`). */
  keep: string;
  /** tar --wildcards patterns of the members to extract (default: everything under `keep`). */
  members?: string[];
  log?: (line: string) => void;
}

export function testCacheDir(pkg: string): string {
  return join(process.env.KILN_TEST_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kiln-test'), pkg);
}

/** `keep` of the package's orig tarball, fetched and unpacked once; returns its directory. */
export async function unpackedSourcePackage(r: UnpackRequest): Promise<string> {
  const cache = r.cache ?? testCacheDir(r.pkg);
  const unpacked = join(cache, r.keep);
  if (existsSync(join(unpacked, '.complete'))) return unpacked;
  mkdirSync(cache, { recursive: true });
  const orig = new RegExp(`^${r.pkg.replace(/[.+]/g, '\\$&')}_.*\\.orig\\.tar\\.[a-z0-9]+$`);
  let tarball = readdirSync(cache).find((f) => orig.test(f));
  if (!tarball) {
    const apt = await AptState.open(join(cache, 'apt'));
    const pkg = await sourcePackageFiles(apt, r.pkg);
    const file = defaultSourceFile(pkg.files);
    if (!file) throw new Error(`source package ${r.pkg} ${pkg.version} has no orig tarball (${pkg.files.map((f) => f.file).join(', ')})`);
    r.log?.(`[${r.pkg}] fetching ${file.file} (${file.size} bytes) through apt's deb-src entries`);
    await fetchSourceFile(apt, r.pkg, pkg.version, file.sha256, join(cache, file.file));
    tarball = file.file;
  }
  rmSync(unpacked, { recursive: true, force: true });
  const scratch = mkdtempSync(join(cache, 'unpack-'));
  const members = r.members ?? [`*/${r.keep}/*`];
  const t = spawnSync('tar', ['-xf', join(cache, tarball), '-C', scratch, '--wildcards', ...members], { encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`tar -xf ${tarball}: ${t.stderr}`);
  const top = readdirSync(scratch)[0]!;
  mkdirSync(join(unpacked, '..'), { recursive: true });
  renameSync(join(scratch, top, r.keep), unpacked);
  rmSync(scratch, { recursive: true, force: true });
  writeFileSync(join(unpacked, '.complete'), `${tarball}\n`);
  return unpacked;
}
