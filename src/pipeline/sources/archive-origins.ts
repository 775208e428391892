import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KilnError } from '../../errors.js';
import type { Project } from '../model.js';
import { downloadToCache } from './download.js';
import { FETCHABLE } from './url.js';

/**
 * Where a pinned Debian archive file (a .deb or a source package file) can still come from once
 * the machine's apt sources no longer offer it: the project's source mirrors of the alias
 * `debian` (BuildStream's `mirrors:`, default mirror first), the project's own `debian` alias, and
 * Debian's snapshot archive at the time the pin was tracked (alias `debian-snapshot`, which a
 * project may point elsewhere or set to '' to skip). Every URL is `<prefix><pool path>`; whatever
 * answers, the file is accepted only if its sha256 is the pinned one.
 */

export const DEBIAN_ALIAS = 'debian';
export const SNAPSHOT_ALIAS = 'debian-snapshot';
/** Debian's snapshot archive; `<prefix><archive>/<YYYYMMDDTHHMMSSZ>/<pool path>`. */
export const DEFAULT_SNAPSHOT_PREFIX = 'https://snapshot.debian.org/archive/';
/** A snapshot server that does not answer must not stall a build for long. */
const SNAPSHOT_ANSWER_TIMEOUT_MS = 15_000;

const TRACKED = /^\d{8}T\d{6}Z$/;

/** A time as the snapshot archive writes it: 20261206T073000Z (UTC, seconds). */
export function snapshotTime(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export function isSnapshotTime(text: string): boolean {
  return TRACKED.test(text);
}

export interface ArchiveOrigin {
  /** How messages name it: "mirror 'team'", "the snapshot archive". */
  name: string;
  url: string;
  answerTimeoutMs?: number;
}

function own(map: Record<string, string>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

/** Every URL to try for `filename` (a pool path), in order. */
export function archiveOrigins(project: Project, filename: string, tracked: string | undefined): ArchiveOrigin[] {
  const out: ArchiveOrigin[] = [];
  for (const mirror of project.mirrors) {
    for (const prefix of mirror.aliases[DEBIAN_ALIAS] ?? []) out.push({ name: `mirror '${mirror.name}'`, url: prefix + filename });
  }
  const upstream = own(project.aliases, DEBIAN_ALIAS);
  if (upstream) out.push({ name: `alias '${DEBIAN_ALIAS}'`, url: upstream + filename });
  const snapshot = own(project.aliases, SNAPSHOT_ALIAS) ?? DEFAULT_SNAPSHOT_PREFIX;
  if (snapshot && tracked && TRACKED.test(tracked)) {
    // the security archive keeps its files under pool/updates/ and is a separate snapshot archive
    const archive = filename.startsWith('pool/updates/') ? 'debian-security' : 'debian';
    out.push({ name: 'the snapshot archive', url: `${snapshot}${archive}/${tracked}/${filename}`, answerTimeoutMs: SNAPSHOT_ANSWER_TIMEOUT_MS });
  }
  return out;
}

/**
 * Tries each origin of `filename` until one delivers a file with sha256 `sha256`, which then
 * lands at `dest` (atomically). Returns whether it did and one line per origin tried.
 */
export async function fetchFromArchiveOrigins(
  project: Project,
  file: { filename?: string | undefined; tracked?: string | undefined; sha256: string },
  dest: string,
  where: string,
  info?: (message: string) => void,
): Promise<{ ok: boolean; tried: string[] }> {
  const tried: string[] = [];
  if (!file.filename) {
    tried.push(`${where}: the ref records no archive path, so no mirror can be asked (track it again to record one)`);
    return { ok: false, tried };
  }
  const origins = archiveOrigins(project, file.filename, file.tracked);
  if (origins.length === 0)
    tried.push(`${where}: no mirror of alias '${DEBIAN_ALIAS}' is configured, and the ref records no tracking time for the snapshot archive`);
  mkdirSync(dirname(dest), { recursive: true });
  const work = mkdtempSync(join(dirname(dest), `.mirror-${process.pid}-`));
  try {
    for (const o of origins) {
      if (!FETCHABLE.test(o.url)) {
        tried.push(`${o.name}: '${o.url}' is not an http, https or file URL`);
        continue;
      }
      try {
        info?.(`${where}: fetching ${o.url} (${o.name})`);
        const { path } = await downloadToCache(o.url, work, where, file.sha256, o.answerTimeoutMs === undefined ? {} : { answerTimeoutMs: o.answerTimeoutMs });
        renameSync(path, dest);
        info?.(`${where}: got ${file.filename} from ${o.name}`);
        return { ok: true, tried };
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        tried.push(`${o.name}: ${e.message.replace(`${where}: `, '')}`);
      }
    }
    return { ok: false, tried };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
