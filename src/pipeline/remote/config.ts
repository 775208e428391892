import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KilnError, formatPosition } from '../../errors.js';
import type { Node } from '../load/node.js';
import { checkKeys, expectList, expectMap, optString, parseBool, requireString } from '../load/validate.js';

/**
 * Remote caches as BuildStream configures artifact shares: `artifacts:` in the user configuration
 * and in project.conf, a mapping or a list of them, each `url:` and `push: true|false`.
 *
 *   artifacts:
 *   - url: https://cache.example.com/kiln/
 *     push: true
 *
 * The user's remotes come first, then the project's (BuildStream's priority); `--remote URL`
 * replaces both with that one remote, pulled from and pushed to. Credentials never live in these
 * files' URLs: they come from the environment (`KILN_REMOTE_TOKEN`, or `KILN_REMOTE_USER` and
 * `KILN_REMOTE_PASSWORD`) or a netrc file (`$NETRC`, default `~/.netrc`), matched by host.
 */

export interface RemoteSpec {
  /** Base URL (http or https), ending in '/'. */
  url: string;
  push: boolean;
  /** Where it was configured, for messages: "kiln.conf", "project.conf", "--remote". */
  from: string;
}

const KEYS = ['url', 'push'];

/** Normalizes a remote URL: http(s) only, always ending in '/'. Userinfo is refused (credentials do not belong in config). */
export function remoteUrl(url: string, where: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new KilnError('remote-bad-url', `${where}: '${url}' is not a URL`, 'give an http or https URL, e.g. https://cache.example.com/kiln/');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new KilnError(
      'remote-bad-url',
      `${where}: remote cache '${redactUrl(url)}' is not an http or https URL`,
      'kiln speaks the Bazel HTTP cache protocol: give an http or https URL',
    );
  if (u.username !== '' || u.password !== '') {
    throw new KilnError(
      'remote-credentials-in-url',
      `${where}: the remote cache URL carries credentials (${redactUrl(url)})`,
      'put them in ~/.netrc (machine HOST login USER password SECRET) or in KILN_REMOTE_USER/KILN_REMOTE_PASSWORD or KILN_REMOTE_TOKEN',
    );
  }
  u.search = '';
  u.hash = '';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.href;
}

/** A URL as messages may show it: never with userinfo. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.href;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/** Reads an `artifacts:` node (a mapping or a list of mappings). */
export function parseRemotes(node: Node, from: string): RemoteSpec[] {
  const items = node.type === 'list' ? expectList(node, 'artifacts').items : [node];
  return items.map((item, i) => {
    const label = node.type === 'list' ? `artifacts[${i}]` : 'artifacts';
    const map = expectMap(item, label);
    checkKeys(map, KEYS, `${from} ${label}`);
    const url = requireString(map, 'url', `${from} ${label}`);
    const push = optString(map, 'push', `${label}.push`);
    return {
      url: remoteUrl(url.value, `${formatPosition(url.pos)} (${from})`),
      push: push ? parseBool(push.value, push.pos, `${label}.push`) : false,
      from,
    };
  });
}

/** The remotes to use, in order: `--remote` alone if given, else the user's then the project's (duplicates once, push if any says so). */
export function effectiveRemotes(cli: string | undefined, user: readonly RemoteSpec[], project: readonly RemoteSpec[]): RemoteSpec[] {
  if (cli !== undefined) return [{ url: remoteUrl(cli, '--remote'), push: true, from: '--remote' }];
  const out: RemoteSpec[] = [];
  for (const r of [...user, ...project]) {
    const seen = out.find((o) => o.url === r.url);
    if (seen) seen.push ||= r.push;
    else out.push({ ...r });
  }
  return out;
}

/**
 * The Authorization header for `url`, if any: `KILN_REMOTE_TOKEN` (Bearer), else
 * `KILN_REMOTE_USER`/`KILN_REMOTE_PASSWORD` (Basic), else the netrc entry for its host.
 * The value is only ever put in a request header.
 */
export function authorizationFor(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KILN_REMOTE_TOKEN) return `Bearer ${env.KILN_REMOTE_TOKEN}`;
  if (env.KILN_REMOTE_USER !== undefined && env.KILN_REMOTE_USER !== '') return basic(env.KILN_REMOTE_USER, env.KILN_REMOTE_PASSWORD ?? '');
  const host = new URL(url).hostname;
  const entry = netrcEntry(env.NETRC && env.NETRC !== '' ? env.NETRC : join(homedir(), '.netrc'), host);
  return entry ? basic(entry.login, entry.password) : undefined;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The netrc entry for `host` (or the `default` entry); a missing or unreadable file has none. */
export function netrcEntry(file: string, host: string): { login: string; password: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const tokens = text
    .replace(/#.*$/gm, ' ')
    .split(/\s+/)
    .filter((t) => t !== '');
  let fallback: { login: string; password: string } | undefined;
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i]!;
    if (t !== 'machine' && t !== 'default') {
      i++;
      continue;
    }
    const name = t === 'machine' ? tokens[i + 1] : undefined;
    i += t === 'machine' ? 2 : 1;
    const entry = { login: '', password: '' };
    while (i < tokens.length && tokens[i] !== 'machine' && tokens[i] !== 'default') {
      const k = tokens[i]!;
      const v = tokens[i + 1] ?? '';
      if (k === 'login') entry.login = v;
      else if (k === 'password') entry.password = v;
      i += k === 'macdef' ? tokens.length : 2;
    }
    if (name === host) return entry;
    if (t === 'default') fallback ??= entry;
  }
  return fallback;
}
