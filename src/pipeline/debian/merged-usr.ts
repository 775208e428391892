import { posix } from 'node:path';

/**
 * Merged /usr, done while staging instead of by the usrmerge package: bookworm's packages still
 * ship /bin, /sbin, /lib*, which land under /usr, and the top-level names become symlinks
 * (`bin -> usr/bin`). A real directory must never stand where the symlink goes, so paths are
 * rewritten before they enter the tree.
 */

/** The top-level directories that move under /usr. */
export const MERGED_DIRS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libo32', 'libx32'] as const;
/** These get their symlink even when no package ships anything there. */
const ALWAYS = new Set(['bin', 'sbin', 'lib']);
const MERGED = new Set<string>(MERGED_DIRS);

export class MergedUsr {
  /** Top-level directories some package used (their symlinks are needed). */
  readonly used = new Set<string>(ALWAYS);

  /** Where a package path ('bin/sh', no leading slash) lives in the merged tree. */
  map(path: string): string {
    const slash = path.indexOf('/');
    const top = slash < 0 ? path : path.slice(0, slash);
    if (!MERGED.has(top)) return path;
    this.used.add(top);
    return `usr/${path}`;
  }

  /** Maps without recording usage (for looking things up). */
  lookup(path: string): string {
    const top = path.split('/')[0]!;
    return MERGED.has(top) ? `usr/${path}` : path;
  }

  /**
   * A relative symlink target that still names the same file after its link moved from
   * `from` to `to` (both tree paths). Absolute targets resolve through the top-level links.
   */
  relink(from: string, to: string, target: string): string {
    if (from === to || target.startsWith('/')) return target;
    const intended = this.lookup(posix.normalize(posix.join('/', posix.dirname(from), target)).slice(1));
    const naive = this.lookup(posix.normalize(posix.join('/', posix.dirname(to), target)).slice(1));
    if (naive === intended) return target;
    return posix.relative(posix.join('/', posix.dirname(to)), posix.join('/', intended)) || '.';
  }

  /** The top-level symlinks to create, sorted: [name, target]. */
  links(): [string, string][] {
    return [...this.used].sort().map((d) => [d, `usr/${d}`]);
  }
}
