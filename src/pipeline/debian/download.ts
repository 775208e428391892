import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { AptError, type AptState } from './apt-state.js';
import { locatePackages, parsePrintUris, type PinnedPackage } from './closure.js';

/**
 * Fetching pinned packages: exactly the pinned versions, downloaded by the machine's apt (its
 * proxies and mirrors apply) into the source cache, each checked against its pinned sha256 and
 * kept under that digest (`<dir>/<sha256>.deb`), so a file once fetched stays usable after the
 * archive has moved on.
 */

export function cachedDebPath(dir: string, sha256: string): string {
  return join(dir, `${sha256}.deb`);
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks a file against its pinned digest; the error names both digests. */
export async function verifySha256(path: string, expected: string, what: string, hint?: string): Promise<void> {
  const actual = await sha256OfFile(path);
  if (actual !== expected) {
    throw new KilnError('deb-checksum', `${what}: ${path} has sha256 ${actual}, but the ref pins ${expected}`, hint ?? 'the file was altered or damaged; delete it and fetch again');
  }
}

function spec(p: PinnedPackage): string {
  return `${p.package}=${p.version}`;
}

function gone(pins: PinnedPackage[], detail: string): KilnError {
  const names = pins.map((p) => `${p.package} ${p.version}`).join(', ');
  return new KilnError(
    'deb-version-gone',
    `the archive no longer offers ${names}${detail ? `\n${detail}` : ''}`,
    'Debian drops superseded versions (security updates); run `kiln track` on the element to pin the current versions',
  );
}

/** Which pins an apt error says are missing ("Version 'V' for 'P' was not found"). */
function missingFromError(e: AptError, pins: PinnedPackage[]): PinnedPackage[] {
  const text = `${e.stderr}\n${e.stdout}`;
  const hit = pins.filter((p) => text.includes(`'${p.version}' for '${p.package}'`) || text.includes(`package ${p.package}`) || text.includes(`'${p.package}'`));
  return hit.length > 0 ? hit : pins;
}

export interface FetchReport {
  downloaded: number;
  bytes: number;
}

/**
 * Makes every pinned package present in `dir` and verified. Files already there are checked
 * against their digest; the rest are located (refreshing the package lists once if a version
 * is not in them) and downloaded in one apt run.
 */
export async function fetchPackages(apt: AptState, pins: PinnedPackage[], dir: string, info?: (m: string) => void): Promise<FetchReport> {
  mkdirSync(dir, { recursive: true });
  const missing: PinnedPackage[] = [];
  for (const p of pins) {
    const path = cachedDebPath(dir, p.sha256);
    if (existsSync(path)) await verifySha256(path, p.sha256, `${p.package} ${p.version} in the source cache`, `delete ${path} and fetch again`);
    else missing.push(p);
  }
  if (missing.length === 0) return { downloaded: 0, bytes: 0 };

  await apt.ensureLists();
  let located: ReturnType<typeof parsePrintUris>;
  try {
    located = await locatePackages(apt, missing.map(spec));
  } catch (e) {
    if (!(e instanceof AptError)) throw e;
    // the lists may just be old: refresh once, then the version is really gone
    await apt.update();
    try {
      located = await locatePackages(apt, missing.map(spec));
    } catch (e2) {
      if (e2 instanceof AptError) throw gone(missingFromError(e2, missing), e2.stderr.trim());
      throw e2;
    }
  }
  const fileOf = new Map<PinnedPackage, (typeof located)[number]>();
  for (const p of missing) {
    const prefix = `${p.package.replace(/:.*$/, '')}_${p.version.replace(/:/g, '%3a')}_`;
    const l = located.find((x) => x.file.startsWith(prefix));
    if (!l) throw gone([p], '');
    if (l.sha256 && l.sha256 !== p.sha256) {
      throw new KilnError(
        'deb-checksum',
        `the archive's ${p.package} ${p.version} (${l.file}) has sha256 ${l.sha256}, but the ref pins ${p.sha256}`,
        'the archive holds a different file under this version; if that is expected, run `kiln track` to pin it (never if you did not expect it)',
      );
    }
    fileOf.set(p, l);
  }

  const work = join(dir, `.download-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const total = [...fileOf.values()].reduce((n, l) => n + l.size, 0);
    info?.(`downloading ${missing.length} Debian package(s), ${total} bytes`);
    try {
      await apt.run('apt-get', ['-q', 'download', ...missing.map(spec)], { cwd: work });
    } catch (e) {
      if (e instanceof AptError) throw new KilnError('deb-download', `apt-get download failed:\n${e.stderr.trim()}`, 'check that this machine reaches its apt archives');
      throw e;
    }
    for (const p of missing) {
      const l = fileOf.get(p)!;
      const got = join(work, l.file);
      if (!existsSync(got)) throw new KilnError('deb-download', `apt-get download did not produce ${l.file}`);
      await verifySha256(got, p.sha256, `downloaded ${p.package} ${p.version}`, 'the download does not match the pin; try again, and if it persists run `kiln track`');
      renameSync(got, cachedDebPath(dir, p.sha256));
    }
    return { downloaded: missing.length, bytes: total };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
