/**
 * The `update-alternatives --install` calls of maintainer scripts, read (never run): a root
 * staged without maintainer scripts still needs /usr/bin/awk, cc, c++, yacc, which, … Only
 * literal calls are understood (a variable or command substitution ends the parse of a call),
 * which is how Debian's packages write the ones build tools need.
 */

export interface Alternative {
  /** The generic name (`awk`). */
  name: string;
  /** The generic path (`/usr/bin/awk`). */
  link: string;
  /** The real file (`/usr/bin/mawk`). */
  path: string;
  priority: number;
  /** Slave links that follow the master. */
  slaves: { name: string; link: string; path: string }[];
  /** The package whose script declared it. */
  package: string;
}

/** Shell words of one logical line, up to a comment; `undefined` marks a word with expansions. */
function shellWords(line: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const raw of line.trim().split(/\s+/)) {
    if (raw === '') continue;
    if (raw.startsWith('#')) break;
    const unquoted = raw.replace(/^(["'])(.*)\1$/, '$2');
    out.push(/[$`()*?;|&<>"'\\]/.test(unquoted) ? undefined : unquoted);
  }
  return out;
}

/** Every literal `update-alternatives ... --install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]...` of a script. */
export function parseAlternatives(script: string, pkg: string): Alternative[] {
  const logical = script.replace(/\\\n/g, ' ').split('\n');
  const out: Alternative[] = [];
  for (const line of logical) {
    if (line.trim().startsWith('#') || !line.includes('update-alternatives')) continue;
    const w = shellWords(line);
    const start = w.indexOf('update-alternatives');
    if (start < 0) continue;
    const inst = w.indexOf('--install', start);
    if (inst < 0) continue;
    const [link, name, path, prio] = w.slice(inst + 1, inst + 5);
    if (!link || !name || !path || !prio || !link.startsWith('/') || !path.startsWith('/') || !/^-?\d+$/.test(prio)) continue;
    const alt: Alternative = { name, link, path, priority: Number(prio), slaves: [], package: pkg };
    for (let i = inst + 5; w[i] === '--slave'; i += 4) {
      const [sl, sn, sp] = w.slice(i + 1, i + 4);
      if (!sl || !sn || !sp || !sl.startsWith('/') || !sp.startsWith('/')) break;
      alt.slaves.push({ link: sl, name: sn, path: sp });
    }
    out.push(alt);
  }
  return out;
}

/**
 * What update-alternatives' automatic mode picks: per name, the highest priority; ties go to
 * the byte-wise smaller path so the choice never depends on installation order.
 */
export function chooseAlternatives(all: Alternative[]): Alternative[] {
  const best = new Map<string, Alternative>();
  for (const a of all) {
    const cur = best.get(a.name);
    if (!cur || a.priority > cur.priority || (a.priority === cur.priority && a.path < cur.path)) best.set(a.name, a);
  }
  return [...best.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
