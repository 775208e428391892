import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { BytesContent } from '../../fs/bytes-content.js';
import { addTarEntry } from '../../fs/tree-from-tar.js';
import { FileTree, EPOCH, compareNames, makeInode, parentOf, type Timestamp } from '../../fs/tree.js';
import { chooseAlternatives, parseAlternatives, type Alternative } from './alternatives.js';
import { openDeb, readControlFiles, readPlainTar, unpackDataTar } from './deb-file.js';
import { MergedUsr } from './merged-usr.js';

/**
 * A root built from binary packages that works as a build root although no maintainer script
 * ran: every package's files straight from its data archive (owners, modes, hard links as in
 * the headers), in package-name order, with merged /usr, then what the scripts would have
 * added and builds rely on — alternatives links (awk, cc, c++, yacc, which, …), /bin/sh,
 * /etc/passwd and /etc/group, /etc/shells, /etc/profile, a dpkg status listing the packages.
 * No ld.so.cache: Debian's loader searches its multiarch directories without one.
 */

export interface PackageFile {
  package: string;
  version: string;
  sha256: string;
  /** The verified .deb in the source cache. */
  path: string;
}

export interface BuildRootOptions {
  /** Where decompressed data archives are kept, by sha256 (`<dir>/<sha256>.data.tar`); reused. */
  unpackDir: string;
  /** mtime of the entries the fix-ups create (default: the epoch). */
  mtime?: Timestamp;
  /** Packages unpacked at once (default 2). */
  concurrency?: number;
}

export interface BuildRoot {
  tree: FileTree;
  /** The alternatives that were set up. */
  alternatives: Alternative[];
  /** Files shipped by more than one package: "path (first → winner)". The later package wins. */
  overwritten: string[];
}

interface Prepared {
  pkg: PackageFile;
  tarPath: string;
  control: string;
  postinst: string | undefined;
}

/** What staging needs from a package's control archive, cached next to its unpacked data. */
interface ControlInfo {
  control: string;
  postinst?: string;
}

async function prepare(pkg: PackageFile, unpackDir: string): Promise<Prepared> {
  const tarPath = join(unpackDir, `${pkg.sha256}.data.tar`);
  const infoPath = join(unpackDir, `${pkg.sha256}.control.json`);
  let info: ControlInfo | undefined;
  if (existsSync(infoPath) && existsSync(tarPath)) {
    try {
      info = JSON.parse(readFileSync(infoPath, 'utf8')) as ControlInfo;
    } catch {
      info = undefined; // a damaged cache entry is simply rebuilt
    }
  }
  if (!info) {
    const deb = openDeb(pkg.path);
    const files = await readControlFiles(deb);
    const control = files.get('control');
    if (!control) throw new KilnError('deb-corrupt', `${pkg.path} (${pkg.package} ${pkg.version}) has no control file`);
    const postinst = files.get('postinst');
    const dec = new TextDecoder();
    info = { control: dec.decode(control), ...(postinst ? { postinst: dec.decode(postinst) } : {}) };
    await unpackDataTar(deb, tarPath);
    writeFileSync(`${infoPath}.tmp`, JSON.stringify(info));
    renameSync(`${infoPath}.tmp`, infoPath);
  }
  return { pkg, tarPath, control: info.control, postinst: info.postinst };
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

function byPackage(a: PackageFile, b: PackageFile): number {
  return compareNames(a.package, b.package) || compareNames(a.version, b.version);
}

export async function stageBuildRoot(packages: PackageFile[], options: BuildRootOptions): Promise<BuildRoot> {
  mkdirSync(options.unpackDir, { recursive: true });
  const sorted = [...packages].sort(byPackage);
  const prepared = await mapLimited(sorted, options.concurrency ?? 2, (p) => prepare(p, options.unpackDir));
  const tree = new FileTree({ mode: 0o755 });
  const usr = new MergedUsr();
  const owner = new Map<string, string>();
  const overwritten: string[] = [];
  for (const { pkg, tarPath } of prepared) {
    await readPlainTar(tarPath, (entry, content) => {
      const original = entry.path.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
      const path = usr.map(original);
      const e = { ...entry, path };
      if (entry.type === 'hardlink') e.linkname = usr.map(entry.linkname.replace(/^(\.?\/)+/, ''));
      if (entry.type === 'symlink') e.linkname = usr.relink(original, path, entry.linkname);
      if (entry.type !== 'dir' && path !== '') {
        const prev = owner.get(path);
        if (prev !== undefined && prev !== pkg.package) overwritten.push(`${path} (${prev} → ${pkg.package})`);
        owner.set(path, pkg.package);
      }
      addTarEntry(tree, e, content, 'keep');
    });
  }
  const mtime = options.mtime ?? EPOCH;
  for (const [name, target] of usr.links()) {
    if (!tree.has(name)) tree.symlink(name, target, { mtime });
  }
  const alternatives = setAlternatives(tree, usr, prepared, mtime);
  fixups(tree, usr, prepared, mtime);
  return { tree, alternatives, overwritten };
}

function setAlternatives(tree: FileTree, usr: MergedUsr, prepared: Prepared[], mtime: Timestamp): Alternative[] {
  const all = prepared.flatMap((p) => (p.postinst ? parseAlternatives(p.postinst, p.pkg.package) : []));
  const exists = (abs: string): boolean => tree.has(usr.lookup(abs.replace(/^\/+/, '')));
  const chosen = chooseAlternatives(all).filter((a) => exists(a.path));
  if (chosen.length > 0) tree.mkdirp('etc/alternatives', { mtime });
  for (const a of chosen) {
    for (const l of [{ name: a.name, link: a.link, path: a.path }, ...a.slaves]) {
      if (!exists(l.path)) continue; // update-alternatives skips slaves whose file is missing
      const linkPath = usr.lookup(l.link.replace(/^\/+/, ''));
      const altPath = `etc/alternatives/${l.name}`;
      if (!tree.has(altPath)) tree.symlink(altPath, l.path, { mtime });
      if (tree.has(linkPath)) continue; // a package ships the real thing
      tree.mkdirp(parentOf(linkPath), { mtime });
      tree.symlink(linkPath, `/etc/alternatives/${l.name}`, { mtime });
    }
  }
  return chosen;
}

/** Files a maintainer script copies into /etc on installation: target ← first existing template. */
const TEMPLATES: [string, string[], number][] = [
  ['etc/passwd', ['usr/share/base-passwd/passwd.master'], 0o644],
  ['etc/group', ['usr/share/base-passwd/group.master'], 0o644],
  ['etc/profile', ['usr/share/base-files/profile'], 0o644],
  ['etc/nsswitch.conf', ['usr/share/base-files/nsswitch.conf', 'usr/share/libc-bin/nsswitch.conf'], 0o644],
  ['root/.profile', ['usr/share/base-files/dot.profile'], 0o644],
  ['root/.bashrc', ['usr/share/base-files/dot.bashrc'], 0o644],
];

function fixups(tree: FileTree, usr: MergedUsr, prepared: Prepared[], mtime: Timestamp): void {
  const text = (path: string, body: string, mode = 0o644): void => {
    tree.mkdirp(parentOf(path), { mtime });
    const inode = makeInode('file', mode, { mode, mtime });
    inode.content = new BytesContent(new TextEncoder().encode(body));
    tree.set(path, inode);
  };
  for (const [target, sources, mode] of TEMPLATES) {
    if (tree.has(target)) continue;
    const from = sources.map((s) => tree.get(s)).find((i) => i?.type === 'file');
    if (!from?.content) continue;
    tree.mkdirp(parentOf(target), { mtime });
    const inode = makeInode('file', mode, { mode, mtime });
    inode.content = from.content;
    tree.add(target, inode);
  }
  const bin = usr.lookup('bin');
  if (!tree.has(`${bin}/sh`)) {
    const shell = ['dash', 'bash'].find((s) => tree.get(`${bin}/${s}`)?.type === 'file');
    if (shell) tree.symlink(`${bin}/sh`, shell, { mtime });
  }
  if (!tree.has('etc/shells')) {
    const shells = ['sh', 'bash', 'rbash', 'dash'].filter((s) => tree.has(`${bin}/${s}`));
    if (shells.length > 0) text('etc/shells', `# /etc/shells: valid login shells\n${shells.flatMap((s) => [`/bin/${s}`, `/usr/bin/${s}`]).join('\n')}\n`);
  }
  for (const dir of ['tmp', 'var/tmp']) {
    const d = tree.get(dir);
    if (!d) tree.mkdirp(dir, { mode: 0o1777, mtime });
    else if (d.type === 'dir') d.mode = 0o1777;
  }
  // dpkg's database as it would be after installing exactly these packages
  const status = prepared
    .map(({ control }) => {
      const lines = control.replace(/\n+$/, '').split('\n');
      return [lines[0], 'Status: install ok installed', ...lines.slice(1)].join('\n');
    })
    .join('\n\n');
  text('var/lib/dpkg/status', `${status}\n`);
  tree.mkdirp('var/lib/dpkg/info', { mtime });
  tree.mkdirp('var/lib/dpkg/updates', { mtime });
}
