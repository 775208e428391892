import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { AptError, type AptState } from './apt-state.js';
import { locatePackages, type parsePrintUris, type PinnedPackage } from './closure.js';

/**
 * Fetching pinned packages: exactly the pinned versions, into the source cache, each checked
 * against its pinned sha256 and kept under that digest (`<dir>/<sha256>.deb`), so a file once
 * fetched stays usable after the archive has moved on. Origins, in order: the cache; the
 * machine's apt (its proxies and mirrors apply); then a caller-supplied fallback (the project's
 * source mirrors and the snapshot archive). The digest decides what is accepted, never the origin.
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
    throw new KilnError(
      'deb-checksum',
      `${what}: ${path} has sha256 ${actual}, but the ref pins ${expected}`,
      hint ?? 'the file was altered or damaged; delete it and fetch again',
    );
  }
}

function spec(p: PinnedPackage): string {
  return `${p.package}=${p.version}`;
}

/** A pin no origin could supply, with the version the archive offers now (if any). */
export interface UnavailablePin {
  pin: PinnedPackage;
  current: string | undefined;
}

/**
 * Pinned files that neither the machine's apt sources nor any fallback origin offers. `tried`
 * says what each fallback answered, so the user sees why a mirror did not help.
 */
export class PinsUnavailable extends KilnError {
  constructor(
    readonly unavailable: UnavailablePin[],
    readonly tried: string[],
    hint: string,
  ) {
    const lines = unavailable.map(({ pin, current }) => `  ${pin.package} ${pin.version} (the archive now has ${current ?? 'no version of it'})`);
    const n = unavailable.length;
    super(
      'deb-version-gone',
      `the archive no longer offers ${n} pinned file${n === 1 ? '' : 's'}, and no mirror had ${n === 1 ? 'it' : 'them'}:\n${lines.join('\n')}${tried.length ? `\ntried:\n${tried.map((t) => `  ${t}`).join('\n')}` : ''}`,
      hint,
    );
  }
}

/** Fetches one pin from somewhere other than apt into `dest` (verified); returns what it tried. */
export type PinFallback = (pin: PinnedPackage, dest: string) => Promise<{ ok: boolean; tried: string[] }>;

export interface FetchPackagesOptions {
  info?: (message: string) => void;
  fallback?: PinFallback;
  /** What to tell the user when pins are gone everywhere. */
  goneHint?: string;
}

export interface FetchReport {
  downloaded: number;
  bytes: number;
  /** Pins that came from a fallback origin rather than apt. */
  fromFallback: PinnedPackage[];
}

/** The versions apt's lists offer now (candidates), by package name. */
export async function currentVersions(apt: AptState, packages: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (packages.length === 0) return out;
  const r = await apt.run('apt-cache', ['policy', ...packages], { allowFail: true });
  let name: string | undefined;
  for (const line of r.stdout.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) name = head[1];
    const cand = /^\s+Candidate: (\S+)/.exec(line);
    if (name && cand && cand[1] !== '(none)') out.set(name, cand[1]!);
  }
  return out;
}

/** Which of `pins` an apt error names as unknown ("Version 'V' for 'P' was not found", "Unable to locate package P"). */
function namedInError(e: AptError, pins: PinnedPackage[]): PinnedPackage[] {
  const text = `${e.stderr}\n${e.stdout}`;
  return pins.filter((p) => {
    const bare = p.package.replace(/:.*$/, '');
    return (
      text.includes(`'${p.version}' for '${p.package}'`) ||
      text.includes(`'${p.version}' for '${bare}'`) ||
      new RegExp(`Unable to locate package ${bare.replace(/[.+]/g, '\\$&')}\\b`).test(text)
    );
  });
}

type Located = ReturnType<typeof parsePrintUris>[number];

/**
 * Splits pins into those apt's lists offer (with their file) and those they do not. apt fails the
 * whole query on one unknown version, so the unknown ones are taken out and the rest asked again.
 */
async function locateOffered(apt: AptState, pins: PinnedPackage[]): Promise<{ offered: Map<PinnedPackage, Located>; missing: PinnedPackage[] }> {
  const missing: PinnedPackage[] = [];
  let ask = [...pins];
  for (;;) {
    if (ask.length === 0) return { offered: new Map(), missing };
    let located: Located[];
    try {
      located = await locatePackages(apt, ask.map(spec));
    } catch (e) {
      if (!(e instanceof AptError)) throw e;
      const named = namedInError(e, ask);
      // an error that names none of them is not about versions: report it as it is
      if (named.length === 0)
        throw new KilnError('deb-download', `apt cannot locate the pinned packages:\n${e.stderr.trim()}`, 'check that this machine reaches its apt archives');
      missing.push(...named);
      ask = ask.filter((p) => !named.includes(p));
      continue;
    }
    const offered = new Map<PinnedPackage, Located>();
    for (const p of ask) {
      const prefix = `${p.package.replace(/:.*$/, '')}_${p.version.replace(/:/g, '%3a')}_`;
      const l = located.find((x) => x.file.startsWith(prefix));
      if (!l) missing.push(p);
      else if (l.sha256 && l.sha256 !== p.sha256) {
        throw new KilnError(
          'deb-checksum',
          `the archive's ${p.package} ${p.version} (${l.file}) has sha256 ${l.sha256}, but the ref pins ${p.sha256}`,
          'the archive holds a different file under this version; if that is expected, run `kiln track` to pin it (never if you did not expect it)',
        );
      } else offered.set(p, l);
    }
    return { offered, missing };
  }
}

/** Downloads `pins` (all offered by apt) with one `apt-get download`, verifies and files them. */
async function downloadWithApt(apt: AptState, offered: Map<PinnedPackage, Located>, dir: string, info?: (m: string) => void): Promise<number> {
  const pins = [...offered.keys()];
  // a directory of its own: other sources of this process may download into `dir` at the same time
  const work = mkdtempSync(join(dir, `.download-${process.pid}-`));
  try {
    const total = [...offered.values()].reduce((n, l) => n + l.size, 0);
    info?.(`downloading ${pins.length} Debian package(s), ${total} bytes`);
    try {
      await apt.run('apt-get', ['-q', 'download', ...pins.map(spec)], { cwd: work });
    } catch (e) {
      if (e instanceof AptError)
        throw new KilnError('deb-download', `apt-get download failed:\n${e.stderr.trim()}`, 'check that this machine reaches its apt archives');
      throw e;
    }
    for (const p of pins) {
      const l = offered.get(p)!;
      const got = join(work, l.file);
      if (!existsSync(got)) throw new KilnError('deb-download', `apt-get download did not produce ${l.file}`);
      await verifySha256(
        got,
        p.sha256,
        `downloaded ${p.package} ${p.version}`,
        'the download does not match the pin; try again, and if it persists run `kiln track`',
      );
      renameSync(got, cachedDebPath(dir, p.sha256));
    }
    return total;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Makes every pinned package present in `dir` and verified. Files already there are checked
 * against their digest; the rest come from apt (the lists are refreshed once when they do not
 * offer a pin, or name a file the archive no longer has), then from `fallback`. Pins no origin has
 * are reported together, with the versions the archive has now.
 */
export async function fetchPackages(apt: AptState, pins: PinnedPackage[], dir: string, options: FetchPackagesOptions = {}): Promise<FetchReport> {
  mkdirSync(dir, { recursive: true });
  const wanted: PinnedPackage[] = [];
  for (const p of pins) {
    const path = cachedDebPath(dir, p.sha256);
    if (existsSync(path)) await verifySha256(path, p.sha256, `${p.package} ${p.version} in the source cache`, `delete ${path} and fetch again`);
    else wanted.push(p);
  }
  const report: FetchReport = { downloaded: 0, bytes: 0, fromFallback: [] };
  if (wanted.length === 0) return report;

  await apt.ensureLists();
  let { offered, missing } = await locateOffered(apt, wanted);
  let refreshed = false;
  if (missing.length > 0) {
    // the lists may just be old
    await apt.update();
    refreshed = true;
    ({ offered, missing } = await locateOffered(apt, wanted));
  }
  if (offered.size > 0) {
    try {
      report.bytes += await downloadWithApt(apt, offered, dir, options.info);
    } catch (e) {
      if (refreshed || !(e instanceof KilnError) || e.code !== 'deb-download') throw e;
      // lists older than the archive name files it has dropped: refresh and sort again
      await apt.update(true);
      ({ offered, missing } = await locateOffered(apt, wanted));
      if (offered.size > 0) report.bytes += await downloadWithApt(apt, offered, dir, options.info);
    }
    report.downloaded += offered.size;
  }
  if (missing.length === 0) return report;

  const tried: string[] = [];
  const still: PinnedPackage[] = [];
  for (const p of missing) {
    if (!options.fallback) {
      still.push(p);
      continue;
    }
    const r = await options.fallback(p, cachedDebPath(dir, p.sha256));
    tried.push(...r.tried);
    if (r.ok) {
      report.downloaded++;
      report.fromFallback.push(p);
    } else still.push(p);
  }
  if (still.length === 0) return report;
  const current = await currentVersions(apt, [...new Set(still.map((p) => p.package))]);
  throw new PinsUnavailable(
    still.map((pin) => ({ pin, current: current.get(pin.package) })),
    tried,
    options.goneHint ?? 'Debian drops superseded versions; re-pin what is gone with `kiln track --fix-missing ELEMENT`',
  );
}
