import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { AptError, type AptState } from './apt-state.js';
import { parsePrintUris } from './closure.js';
import { parseDeb822, words } from './deb822.js';
import { verifySha256 } from './download.js';

/**
 * Debian source packages as a source of upstream tarballs: the files of a source package
 * (`.dsc`, `.orig.tar.*`, `.debian.tar.*`) as apt lists them from the deb-src entries kiln
 * derives from the machine's sources, one of them pinned by sha256.
 */

export interface SourceFile {
  file: string;
  size: number;
  sha256: string;
}

/** The default file: the main orig tarball (no `-component`), or the tarball of a native package. */
export function defaultSourceFile(files: SourceFile[]): SourceFile | undefined {
  return files.find((f) => /^[^_]+_[^_]+\.orig\.tar\.[a-z0-9]+$/.test(f.file)) ?? files.find((f) => /^[^_]+_[^_]+\.tar\.[a-z0-9]+$/.test(f.file));
}

function noSource(pkg: string, version: string | undefined, e: AptError, known: string[]): KilnError {
  const detail = e.stderr
    .split('\n')
    .filter((l) => l.startsWith('E:'))
    .join('\n');
  return new KilnError(
    'debsrc-not-found',
    `the archive has no source package ${pkg}${version ? ` version ${version}` : ''}${detail ? `\n${detail}` : ''}`,
    version
      ? `Debian drops superseded versions, and versions include their epoch ('1:1.35.0-4'); ${known.length ? `the lists have: ${known.join(', ')}` : 'the lists have no version of it'}. Change \`version\` and run \`kiln track\``
      : 'check the source package name (apt-cache showsrc NAME)',
  );
}

/** Where a source package's files live in the archive: `pool/main/m/musl`, `pool/main/libx/libxml2`. */
export function sourcePoolDirectory(pkg: string, component = 'main'): string {
  return `pool/${component}/${pkg.startsWith('lib') ? pkg.slice(0, 4) : pkg[0]}/${pkg}`;
}

/**
 * The files of a source package version (default: the one `apt-get source` picks), with sizes
 * and sha256, the exact version (epoch included) and the package's directory in the archive.
 */
export async function sourcePackageFiles(apt: AptState, pkg: string, version?: string): Promise<{ version: string; directory: string; files: SourceFile[] }> {
  await apt.ensureLists();
  let out: string;
  try {
    out = (await apt.run('apt-get', ['source', '--print-uris', version ? `${pkg}=${version}` : pkg])).stdout;
  } catch (e) {
    if (e instanceof AptError) throw noSource(pkg, version, e, version ? [...new Set((await sourceVersions(apt, pkg)).map((v) => v.version))] : []);
    throw e;
  }
  const located = parsePrintUris(out);
  const files = located.map((l) => {
    if (!l.sha256) throw new KilnError('debsrc-no-hash', `apt did not report a SHA256 for ${l.file} of source package ${pkg}`);
    return { file: l.file, size: l.size, sha256: l.sha256 };
  });
  // the .dsc names the version: find the showsrc record that lists the same .dsc digest
  const dsc = files.find((f) => f.file.endsWith('.dsc'));
  const record = (await sourceVersions(apt, pkg)).find((v) => v.files.some((f) => f.file === dsc?.file && f.sha256 === dsc.sha256));
  const uri = located[0]?.uri ?? '';
  const at = uri.indexOf('/pool/');
  const directory = record?.directory ?? (at >= 0 ? decodeURIComponent(uri.slice(at + 1, uri.lastIndexOf('/'))) : sourcePoolDirectory(pkg));
  return { version: record?.version ?? version ?? '', directory, files };
}

/** Picks the file a debsrc source means: `name` exactly, or the default (orig tarball). */
export function chooseSourceFile(files: SourceFile[], pkg: string, name?: string): SourceFile {
  const f = name ? files.find((x) => x.file === name) : defaultSourceFile(files);
  if (!f) {
    throw new KilnError(
      'debsrc-no-file',
      `source package ${pkg} has ${name ? `no file '${name}'` : 'no orig tarball'} (its files: ${files.map((x) => x.file).join(', ')})`,
      'set `file` to one of its files',
    );
  }
  return f;
}

/** Every version of a source package the lists know, with the sha256 of each of its files. */
export async function sourceVersions(apt: AptState, pkg: string): Promise<{ version: string; directory: string | undefined; files: SourceFile[] }[]> {
  await apt.ensureLists();
  const r = await apt.run('apt-cache', ['showsrc', pkg], { allowFail: true });
  const all = parseDeb822(r.stdout);
  // a binary package name finds the source packages that build it; an exact source name wins
  const exact = all.filter((p) => p.get('Package') === pkg);
  return (exact.length > 0 ? exact : all).map((p) => ({
    version: p.get('Version') ?? '',
    directory: p.get('Directory'),
    files: (p.get('Checksums-Sha256') ?? '')
      .split('\n')
      .map((l) => words(l))
      .filter((w) => w.length === 3)
      .map(([sha256, size, file]) => ({ sha256: sha256!, size: Number(size), file: file! })),
  }));
}

/**
 * Downloads the file pinned by `sha256` of source package `pkg` into `dest`, verified. The
 * version is `version` or, if not given, whichever version in the lists has a file with that
 * digest (the lists are refreshed once before giving up).
 */
export async function fetchSourceFile(
  apt: AptState,
  pkg: string,
  version: string | undefined,
  sha256: string,
  dest: string,
  info?: (m: string) => void,
): Promise<void> {
  const find = async (): Promise<{ version: string; file: SourceFile } | undefined> => {
    for (const v of await sourceVersions(apt, pkg)) {
      if (version !== undefined && v.version !== version) continue;
      const file = v.files.find((f) => f.sha256 === sha256);
      if (file) return { version: v.version, file };
    }
    return undefined;
  };
  let hit = await find();
  if (!hit) {
    await apt.update();
    hit = await find();
  }
  if (!hit) {
    throw new KilnError(
      'debsrc-gone',
      `no file with sha256 ${sha256} in source package ${pkg}${version ? ` version ${version}` : ''} is in the archive any more`,
      'Debian drops superseded versions; run `kiln track` on the element to pin a current file',
    );
  }
  // a directory of its own: another element may fetch the same source package at the same time
  mkdirSync(join(dest, '..'), { recursive: true });
  const dir = mkdtempSync(join(dest, '..', `.download-${process.pid}-`));
  try {
    info?.(`downloading source package ${pkg} ${hit.version} (${hit.file.file}, ${hit.file.size} bytes)`);
    try {
      await apt.run('apt-get', ['-q', 'source', '--download-only', `${pkg}=${hit.version}`], { cwd: dir });
    } catch (e) {
      if (e instanceof AptError)
        throw new KilnError('debsrc-download', `apt-get source failed:\n${e.stderr.trim()}`, 'check that this machine reaches its apt archives');
      throw e;
    }
    const got = join(dir, hit.file.file);
    if (!existsSync(got)) throw new KilnError('debsrc-download', `apt-get source did not produce ${hit.file.file}`);
    await verifySha256(got, sha256, `downloaded ${hit.file.file}`, 'the download does not match the pin; try again, and if it persists run `kiln track`');
    renameSync(got, dest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
