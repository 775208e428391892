import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { Paragraph, parseDeb822, words } from './deb822.js';

/**
 * The machine's apt sources, read where the machine's apt configuration says they are, and the
 * private sources kiln derives from them: the same archives with `deb-src` added (for source
 * packages) and, when asked, another suite of the same distribution. No archive address is
 * ever written in kiln itself.
 */

export interface HostSourcePaths {
  /** The one-line-format file (sources.list). */
  list: string;
  /** The directory of *.list and *.sources files. */
  parts: string;
}

/** One-line options (`[arch=amd64 signed-by=...]`) → their deb822 field names. */
const OPTION_FIELDS: Record<string, string> = {
  arch: 'Architectures',
  lang: 'Languages',
  target: 'Targets',
  'signed-by': 'Signed-By',
  trusted: 'Trusted',
  'check-valid-until': 'Check-Valid-Until',
  'valid-until-min': 'Valid-Until-Min',
  'valid-until-max': 'Valid-Until-Max',
  'check-date': 'Check-Date',
  'date-max-future': 'Date-Max-Future',
  pdiffs: 'PDiffs',
  'by-hash': 'By-Hash',
  'allow-insecure': 'Allow-Insecure',
  'allow-weak': 'Allow-Weak',
  'allow-downgrade-to-insecure': 'Allow-Downgrade-To-Insecure',
  inrelease: 'InRelease-Path',
};

/** Converts a one-line-format source line into a deb822 paragraph (undefined for blank/comment lines). */
export function oneLineToParagraph(line: string, where: string): Paragraph | undefined {
  const text = line.replace(/#.*$/, '').trim();
  if (text === '') return undefined;
  const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(text);
  if (!m) throw new KilnError('apt-sources', `${where}: cannot read the apt source line '${text}'`, "fix the machine's apt sources (see sources.list(5))");
  const p = new Paragraph();
  p.set('Types', m[1]!);
  p.set('URIs', m[3]!);
  p.set('Suites', m[4]!);
  if (m[5]!.trim()) p.set('Components', m[5]!.trim());
  for (const opt of words(m[2])) {
    const eq = opt.indexOf('=');
    if (eq <= 0) continue;
    const key = opt.slice(0, eq).replace(/[+-]$/, '');
    const field = OPTION_FIELDS[key] ?? key.replace(/(^|-)([a-z])/g, (_s, d: string, c: string) => `${d}${c.toUpperCase()}`);
    p.set(
      field,
      opt
        .slice(eq + 1)
        .split(',')
        .join(' '),
    );
  }
  return p;
}

/** Every enabled source entry of the machine, in apt's reading order. */
export function readHostSources(paths: HostSourcePaths): Paragraph[] {
  const out: Paragraph[] = [];
  const addList = (file: string): void => {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const p = oneLineToParagraph(line, `${file}:${i + 1}`);
        if (p) out.push(p);
      });
  };
  if (existsSync(paths.list)) addList(paths.list);
  if (existsSync(paths.parts)) {
    // apt reads the parts directory in name order; only *.list and *.sources count
    for (const name of readdirSync(paths.parts).sort()) {
      const file = join(paths.parts, name);
      if (name.endsWith('.list')) addList(file);
      else if (name.endsWith('.sources')) {
        for (const p of parseDeb822(readFileSync(file, 'utf8'), { comments: true })) {
          if ((p.get('Enabled') ?? 'yes').toLowerCase() === 'no') continue;
          out.push(p);
        }
      }
    }
  }
  return out;
}

export interface DeriveOptions {
  /** The suite to use instead of the host's (e.g. 'trixie'); its -updates/-security follow. */
  suite?: string;
  /** The host's release codename (from /etc/os-release), the name `suite` replaces. */
  hostCodename?: string;
  /**
   * False: the release suite alone (e.g. bookworm), without its -updates, -security,
   * -backports and -proposed-updates suites, so pins change only at point releases.
   */
  updates?: boolean;
}

/** Suites that follow a release between point releases (they supersede versions weekly). */
const UPDATE_SUITE = /-(updates|security|backports|backports-sloppy|proposed-updates)$/;

/**
 * The private sources: every binary entry also as a source entry, suites renamed when another
 * suite is asked for. Fails when no entry serves the requested suite.
 */
export function derivePrivateSources(host: Paragraph[], options: DeriveOptions = {}): Paragraph[] {
  const out: Paragraph[] = [];
  const seen = new Set<string>();
  for (const entry of host) {
    const types = words(entry.get('Types'));
    if (!types.includes('deb') && !types.includes('deb-src')) continue;
    const p = new Paragraph();
    for (const [k, v] of entry.fields) p.fields.push([k, v]);
    p.set('Types', 'deb deb-src');
    let suites = words(entry.get('Suites'));
    const code = options.hostCodename;
    if (options.suite && code && options.suite !== code) {
      suites = suites.map((s) => (s === code ? options.suite! : s.startsWith(`${code}-`) ? `${options.suite}${s.slice(code.length)}` : s));
    }
    if (options.updates === false) suites = suites.filter((s) => !UPDATE_SUITE.test(s));
    if (suites.length === 0) continue;
    p.set('Suites', suites.join(' '));
    const text = p.toString();
    if (seen.has(text)) continue;
    seen.add(text);
    out.push(p);
  }
  if (out.length === 0) {
    throw new KilnError(
      'apt-no-sources',
      `the machine has no apt sources (deb entries)${options.updates === false ? ' for a release suite' : ''} to take packages from`,
      options.updates === false
        ? "add the release suite (e.g. bookworm) to the machine's apt sources, or set `updates: true`"
        : 'configure apt on this machine (sources.list(5)), then try again',
    );
  }
  if (options.suite) {
    const all = out.flatMap((p) => words(p.get('Suites')));
    if (!all.some((s) => s === options.suite || s.startsWith(`${options.suite}-`))) {
      throw new KilnError(
        'apt-no-suite',
        `no apt source of this machine serves suite '${options.suite}' (its suites: ${[...new Set(all)].join(', ')})`,
        "leave out `suite` to use the machine's release, or add a source for that suite to the machine's apt configuration",
      );
    }
  }
  return out;
}

/** The host's release codename from os-release, if it names one. */
export function hostCodename(osRelease = '/etc/os-release'): string | undefined {
  try {
    const m = /^VERSION_CODENAME=["']?([^"'\n]+)/m.exec(readFileSync(osRelease, 'utf8'));
    return m?.[1];
  } catch {
    return undefined;
  }
}
