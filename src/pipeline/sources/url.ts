import type { Project } from '../model.js';

/**
 * Source URLs (docs/format.md#aliases-and-mirrors). `alias:rest` becomes `aliases[alias] + rest`
 * (plain concatenation, split at the first ':'); a prefix that is not a defined alias leaves the
 * URL verbatim (`https://…`, `file:///…`).
 */

export function splitAlias(url: string): { alias: string; rest: string } | undefined {
  const i = url.indexOf(':');
  if (i <= 0) return undefined;
  return { alias: url.slice(0, i), rest: url.slice(i + 1) };
}

export function translateUrl(url: string, project: Project): string {
  const s = splitAlias(url);
  if (s && Object.prototype.hasOwnProperty.call(project.aliases, s.alias)) return project.aliases[s.alias] + s.rest;
  return url;
}

/**
 * Every URL to try, in order. Fetch: the default (first) mirror, the other mirrors, then the
 * upstream alias. Track uses the reverse order (upstream first).
 */
export function candidateUrls(url: string, project: Project, purpose: 'fetch' | 'track'): string[] {
  const s = splitAlias(url);
  const mirrored: string[] = [];
  if (s) {
    for (const mirror of project.mirrors) {
      for (const prefix of mirror.aliases[s.alias] ?? []) mirrored.push(prefix + s.rest);
    }
  }
  const all = [...mirrored, translateUrl(url, project)];
  const unique = [...new Set(all)];
  return purpose === 'fetch' ? unique : unique.reverse();
}

/** URI schemes that are never aliases (bst 1.x's list): `https://…` is a URL written without one. */
const SCHEMES = ['http', 'https', 'ftp', 'file', 'git', 'sftp', 'ssh'];

/** Whether a URL is written without a project alias (the `unaliased-url` warning). */
export function isUnaliased(url: string): boolean {
  const s = splitAlias(url);
  return !s || SCHEMES.includes(s.alias.toLowerCase());
}

/** The cache directory name of a URL: every character outside [A-Za-z0-9%_] becomes '_'. */
export function urlDirectoryName(url: string): string {
  return url.replace(/[^A-Za-z0-9%_]/g, '_');
}

/** The URL schemes kiln can download from. */
export const FETCHABLE = /^(https?|file):/;
