import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { requireTool, run, runBuffer } from './tools.js';

/**
 * A real Debian archive on the local disk, built on the fly for pipeline tests of the `deb` and
 * `debsrc` source kinds: packages made by dpkg-deb and dpkg-source, indices by dpkg-scanpackages
 * and dpkg-scansources, an unsigned Release that apt takes through a `file:` URI with
 * `Trusted: yes`. Needs only dpkg and dpkg-dev (no network, no signing keys).
 *
 * Everything lives under `root` and is world-readable, so apt run as root, as its _apt sandbox
 * user or as an ordinary user can read it. Built packages are byte-for-byte reproducible
 * (fixed timestamps, owners and modes).
 *
 *   const archive = new LocalArchive(dir);
 *   archive.addBinary({ name: 'hello', version: '1.0-1', files: { 'usr/bin/hello': '#!/bin/sh\necho hi\n' } });
 *   archive.addSource({ name: 'hello', version: '1.0-1', files: { 'hello.c': '...' } });
 *   archive.publish();
 *   process.env.APT_CONFIG = archive.aptConfig(join(dir, 'apt'));
 */

export interface BinarySpec {
  name: string;
  version: string;
  /** dpkg architecture or 'all' (default 'amd64'). */
  architecture?: string;
  /** The source package it is built from (default: `name`); decides its pool directory. */
  source?: string;
  /** The Depends field, as written in a control file. */
  depends?: string;
  /** Files of the package: path in the package (no leading '/') → content; '#!' content is made executable. */
  files?: Record<string, string>;
}

export interface SourceSpec {
  name: string;
  /** '1.0-1' or '2:1.0-1': a Debian revision is required (the format is 3.0 (quilt)). */
  version: string;
  /** The upstream tree (what the orig tarball holds, under `<name>-<upstream>/`): path → content. */
  files?: Record<string, string>;
}

export interface ArchiveFile {
  /** Relative to the archive root, e.g. pool/main/h/hello/hello_1.0-1_amd64.deb. */
  filename: string;
  sha256: string;
  size: number;
}

/** What the tools' packages are called, for the error when one is missing. */
const TOOL_PACKAGES: Record<string, string> = {
  'dpkg-deb': 'dpkg',
  'dpkg-source': 'dpkg-dev',
  'dpkg-scanpackages': 'dpkg-dev',
  'dpkg-scansources': 'dpkg-dev',
  tar: 'tar',
  env: 'coreutils',
};

function need(tool: string): void {
  try {
    requireTool(tool);
  } catch {
    throw new Error(`LocalArchive needs '${tool}' (Debian package: ${TOOL_PACKAGES[tool] ?? tool}); apt-get install it`);
  }
}

/** A fixed point in the past: Release dates must not be in the future for apt, and contents must not depend on the clock. */
const EPOCH = 1_700_000_000;
const MAINTAINER = 'kiln tests <kiln-tests@example.invalid>';
const NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const VERSION = /^(?:\d+:)?[0-9][A-Za-z0-9.+~:-]*$/;

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Debian's pool layout: pool/<component>/<first letter, or lib + letter>/<source>/. */
function poolDir(component: string, source: string): string {
  return `pool/${component}/${source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source[0]}/${source}`;
}

function splitVersion(version: string): { noEpoch: string; upstream: string; revision: string | undefined } {
  const noEpoch = version.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  return dash < 0 ? { noEpoch, upstream: noEpoch, revision: undefined } : { noEpoch, upstream: noEpoch.slice(0, dash), revision: noEpoch.slice(dash + 1) };
}

/** RFC 2822 date as Debian changelogs and Release files write it. */
function rfc2822(seconds: number): string {
  return new Date(seconds * 1000).toUTCString().replace(/GMT$/, '+0000');
}

/** Splits deb822 text into paragraphs (verbatim, without the separating blank lines). */
function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

function field(paragraph: string, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(paragraph)?.[1]?.trim();
}

export class LocalArchive {
  readonly suite: string;
  readonly component: string;
  /** Architectures the Release names besides those of the binaries (e.g. the host's, for a pool of only 'all' packages). */
  private readonly architectures: string[];
  /** Counts publish() calls: each Release gets a later Date, so apt always sees a newer one. */
  private generation = 0;

  /** `root` is created if missing; suite 'kiln-test' and component 'main' unless given. */
  constructor(
    readonly root: string,
    options: { suite?: string; component?: string; architectures?: string[] } = {},
  ) {
    this.suite = options.suite ?? 'kiln-test';
    this.component = options.component ?? 'main';
    this.architectures = options.architectures ?? [];
    for (const n of [this.suite, this.component, ...this.architectures])
      if (!/^[A-Za-z0-9._-]+$/.test(n)) throw new Error(`LocalArchive: '${n}' is not a suite, component or architecture name`);
    mkdirSync(root, { recursive: true });
    // mkdtemp makes 0700 directories: apt's _apt sandbox user or a non-root test must get in
    chmodSync(root, 0o755);
    this.mkdirs('pool');
  }

  /** file:// URL of the archive root (apt's file method reads it in place). */
  get url(): string {
    return pathToFileURL(this.root).href;
  }

  /**
   * Builds `<name>_<version>_<arch>.deb` with dpkg-deb into the pool; returns where it went. The
   * same name, version and architecture again replaces the file (an archive that changed a file
   * under a pinned version).
   */
  addBinary(spec: BinarySpec): ArchiveFile {
    need('dpkg-deb');
    const arch = spec.architecture ?? 'amd64';
    const source = spec.source ?? spec.name;
    this.check(spec.name, spec.version);
    if (!NAME.test(source)) throw new Error(`LocalArchive: '${source}' is not a source package name`);
    const work = this.workDir();
    try {
      const tree = join(work, 'tree');
      this.writeTree(tree, spec.files ?? {});
      const control = [
        `Package: ${spec.name}`,
        ...(source !== spec.name ? [`Source: ${source}`] : []),
        `Version: ${spec.version}`,
        `Architecture: ${arch}`,
        `Maintainer: ${MAINTAINER}`,
        ...(spec.depends ? [`Depends: ${spec.depends}`] : []),
        'Section: misc',
        'Priority: optional',
        `Description: ${spec.name}, a kiln test package`,
        '',
      ].join('\n');
      this.writeTree(tree, { 'DEBIAN/control': control });
      const dest = `${poolDir(this.component, source)}/${spec.name}_${splitVersion(spec.version).noEpoch}_${arch}.deb`;
      this.mkdirs(dirname(dest));
      // --root-owner-group: root:root whoever builds; -Zxz: as Debian's own packages
      run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', tree, join(this.root, dest)], { env: this.env() });
      return this.published(dest);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Builds a 3.0 (quilt) source package (orig tarball, debian tarball, .dsc) with dpkg-source into the pool. */
  addSource(spec: SourceSpec): ArchiveFile[] {
    need('dpkg-source');
    need('tar');
    need('env');
    this.check(spec.name, spec.version);
    const { noEpoch, upstream, revision } = splitVersion(spec.version);
    if (revision === undefined)
      throw new Error(`LocalArchive: source version '${spec.version}' has no Debian revision ('-1'); only 3.0 (quilt) packages are built`);
    const work = this.workDir();
    try {
      const top = `${spec.name}-${upstream}`;
      const orig = `${spec.name}_${upstream}.orig.tar.gz`;
      this.writeTree(join(work, top), spec.files ?? {});
      // the orig tarball as an upstream release would be: one top directory, fixed owners, times and order
      const tar = runBuffer('tar', [
        '-C',
        work,
        '--sort=name',
        `--mtime=@${EPOCH}`,
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--format=gnu',
        '-cf',
        '-',
        top,
      ]);
      writeFileSync(join(work, orig), gzipSync(tar, { level: 9 }));
      this.writeTree(join(work, top), {
        'debian/changelog': `${spec.name} (${spec.version}) ${this.suite}; urgency=medium\n\n  * kiln test package.\n\n -- ${MAINTAINER}  ${rfc2822(EPOCH)}\n`,
        'debian/control': `Source: ${spec.name}\nSection: misc\nPriority: optional\nMaintainer: ${MAINTAINER}\nStandards-Version: 4.6.2\n\nPackage: ${spec.name}\nArchitecture: all\nDescription: ${spec.name}, a kiln test package\n`,
        'debian/rules': '#!/usr/bin/make -f\n%:\n\tdh $@\n',
        'debian/source/format': '3.0 (quilt)\n',
      });
      // dpkg-source finds the orig tarball next to the tree and writes its output into the current directory
      run('env', ['-C', work, 'dpkg-source', '--build', top], { env: this.env() });
      const pool = poolDir(this.component, spec.name);
      this.mkdirs(pool);
      const out: ArchiveFile[] = [];
      for (const name of readdirSync(work)
        .filter((n) => n.startsWith(`${spec.name}_`))
        .sort()) {
        const dest = `${pool}/${name}`;
        const there = join(this.root, dest);
        if (name === orig && existsSync(there)) {
          // another revision of the same upstream version shares the orig tarball, which must not change
          if (sha256(readFileSync(there)) !== sha256(readFileSync(join(work, name)))) {
            throw new Error(`LocalArchive: ${dest} exists with other content; one upstream version has one orig tarball`);
          }
        } else {
          renameSync(join(work, name), there);
        }
        out.push(this.published(dest));
      }
      if (!out.some((f) => f.filename.endsWith(`_${noEpoch}.dsc`))) throw new Error(`LocalArchive: dpkg-source made no .dsc for ${spec.name} ${spec.version}`);
      return out;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Deletes a binary package from the pool, as Debian does with superseded versions (publish() to make it visible). */
  removeBinary(name: string, version: string): void {
    const prefix = `${name}_${splitVersion(version).noEpoch}_`;
    const hits = this.poolFiles().filter((f) => posix.basename(f).startsWith(prefix) && f.endsWith('.deb'));
    if (hits.length === 0) throw new Error(`LocalArchive: the pool has no binary package ${name} ${version}`);
    for (const f of hits) rmSync(join(this.root, f));
  }

  /** Deletes a source package version: its .dsc and every file no remaining .dsc of the package lists. */
  removeSource(name: string, version: string): void {
    const pool = poolDir(this.component, name);
    const dsc = `${pool}/${name}_${splitVersion(version).noEpoch}.dsc`;
    if (!existsSync(join(this.root, dsc))) throw new Error(`LocalArchive: the pool has no source package ${name} ${version}`);
    rmSync(join(this.root, dsc));
    const keep = new Set<string>();
    const files = readdirSync(join(this.root, pool));
    for (const other of files.filter((n) => n.endsWith('.dsc'))) {
      // the Files field: one ' md5 size name' continuation line per file
      const block = /^Files:[ \t]*\n((?:[ \t].*\n?)*)/m.exec(readFileSync(join(this.root, pool, other), 'utf8'))?.[1] ?? '';
      for (const line of block.split('\n')) {
        const words = line.trim().split(/\s+/);
        if (words.length === 3) keep.add(words[2]!);
      }
    }
    for (const n of files) {
      if (n.startsWith(`${name}_`) && !n.endsWith('.deb') && !n.endsWith('.dsc') && !keep.has(n)) rmSync(join(this.root, pool, n));
    }
  }

  /**
   * (Re)writes the indices from what the pool holds now: dists/<suite>/<component>/binary-<arch>/Packages(.gz),
   * .../source/Sources(.gz) and an unsigned dists/<suite>/Release listing their SHA256.
   */
  publish(): void {
    need('dpkg-scanpackages');
    need('dpkg-scansources');
    need('env');
    this.generation++;
    // -m: every version in the pool, not just the newest (a pool may hold several while a test supersedes one)
    const binaries = paragraphs(run('env', ['-C', this.root, 'dpkg-scanpackages', '-m', 'pool'], { env: this.env() }).stdout);
    const sources = run('env', ['-C', this.root, 'dpkg-scansources', 'pool'], { env: this.env() }).stdout;
    const archOf = (p: string): string => field(p, 'Architecture') ?? 'all';
    const arches = [...new Set([...this.architectures, ...binaries.map(archOf).filter((a) => a !== 'all')])].sort();
    if (arches.length === 0) arches.push('amd64');

    const dists = join(this.root, 'dists', this.suite);
    rmSync(dists, { recursive: true, force: true });
    const indices = new Map<string, string>();
    for (const arch of arches) {
      const list = binaries.filter((p) => archOf(p) === arch || archOf(p) === 'all');
      indices.set(`${this.component}/binary-${arch}/Packages`, list.map((p) => `${p}\n\n`).join(''));
    }
    indices.set(
      `${this.component}/source/Sources`,
      paragraphs(sources)
        .map((p) => `${p}\n\n`)
        .join(''),
    );
    const sums: string[] = [];
    for (const [rel, text] of indices) {
      const plain = Buffer.from(text);
      // gzip from zlib: no name or time in its header, so the same index gives the same bytes
      for (const [name, data] of [
        [rel, plain],
        [`${rel}.gz`, gzipSync(plain, { level: 9 })],
      ] as const) {
        this.writePublic(join(dists, name), data);
        sums.push(` ${sha256(data)} ${String(data.length).padStart(8)} ${name}`);
      }
    }
    const release = [
      'Origin: kiln-test',
      'Label: kiln-test',
      `Suite: ${this.suite}`,
      `Codename: ${this.suite}`,
      `Date: ${rfc2822(EPOCH + this.generation)}`,
      `Architectures: ${arches.join(' ')}`,
      `Components: ${this.component}`,
      "Description: a local archive built by kiln's tests",
      'SHA256:',
      ...sums,
      '',
    ].join('\n');
    this.writePublic(join(dists, 'Release'), release);
  }

  /**
   * Writes `<dir>/apt.conf`, which makes apt (and `apt-config`) use ONLY this archive: an empty
   * sources.list and one deb822 entry (deb and deb-src, `Trusted: yes` as nothing is signed),
   * and keeps lists and caches under `dir` so that an apt run with it never touches the
   * machine's apt state. Tests set process.env.APT_CONFIG to the returned path. kiln's own
   * `-c` configuration overrides the Dir:: settings; nothing here stands in for what kiln must
   * set itself (e.g. no APT::Sandbox::User: plain apt run as root with this file downloads
   * through _apt, or unsandboxed with a warning when `dir`'s parents are private).
   */
  aptConfig(dir: string): string {
    if (dir.includes('"')) throw new Error(`LocalArchive: '${dir}' contains '"', which apt's configuration syntax cannot hold`);
    for (const d of ['sources.list.d', 'lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'sources.list'), '');
    writeFileSync(
      join(dir, 'sources.list.d', 'kiln-test.sources'),
      `Types: deb deb-src\nURIs: ${this.url}\nSuites: ${this.suite}\nComponents: ${this.component}\nTrusted: yes\n`,
    );
    if (!existsSync(join(dir, 'status'))) writeFileSync(join(dir, 'status'), '');
    const file = join(dir, 'apt.conf');
    writeFileSync(
      file,
      [
        `Dir::Etc::SourceList "${dir}/sources.list";`,
        `Dir::Etc::SourceParts "${dir}/sources.list.d";`,
        `Dir::State "${dir}";`,
        `Dir::State::Lists "${dir}/lists";`,
        `Dir::State::status "${dir}/status";`,
        `Dir::Cache "${dir}/cache";`,
        `Dir::Cache::archives "${dir}/cache/archives";`,
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Every file in the pool, relative to the root, sorted. */
  poolFiles(): string[] {
    const out: string[] = [];
    const walk = (rel: string): void => {
      for (const e of readdirSync(join(this.root, rel), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${rel}/${e.name}`);
        else out.push(`${rel}/${e.name}`);
      }
    };
    walk('pool');
    return out.sort();
  }

  private check(name: string, version: string): void {
    if (!NAME.test(name)) throw new Error(`LocalArchive: '${name}' is not a Debian package name`);
    if (!VERSION.test(version)) throw new Error(`LocalArchive: '${version}' is not a Debian version`);
  }

  /** The tools' environment: fixed time and locale, so output does not depend on the machine's. */
  private env(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC', SOURCE_DATE_EPOCH: String(EPOCH) };
  }

  /** A scratch directory inside the root (removed by the caller), so nothing lands outside it. */
  private workDir(): string {
    return mkdtempSync(join(this.root, '.work-'));
  }

  /** Writes files with fixed modes and times (the umask and clock must not reach the packages). */
  private writeTree(dir: string, files: Record<string, string>): void {
    for (const [path, content] of Object.entries(files)) {
      const rel = posix.normalize(path.replace(/^\/+/, ''));
      if (rel === '.' || rel.startsWith('../')) throw new Error(`LocalArchive: '${path}' is not a path inside a package`);
      const full = join(dir, rel);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
      chmodSync(full, content.startsWith('#!') ? 0o755 : 0o644);
    }
    const settle = (d: string): void => {
      chmodSync(d, 0o755);
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) settle(join(d, e.name));
        else utimesSync(join(d, e.name), EPOCH, EPOCH);
      }
      utimesSync(d, EPOCH, EPOCH);
    };
    if (existsSync(dir)) settle(dir);
  }

  /** mkdir -p under the root, every directory world-readable whatever the umask. */
  private mkdirs(rel: string): void {
    let at = this.root;
    for (const part of rel.split('/')) {
      at = join(at, part);
      if (!existsSync(at)) mkdirSync(at);
      chmodSync(at, 0o755);
    }
  }

  private writePublic(path: string, data: string | Uint8Array): void {
    this.mkdirs(relative(this.root, dirname(path)));
    writeFileSync(path, data);
    chmodSync(path, 0o644);
  }

  private published(rel: string): ArchiveFile {
    const path = join(this.root, rel);
    chmodSync(path, 0o644);
    const data = readFileSync(path);
    return { filename: rel, sha256: sha256(data), size: statSync(path).size };
  }
}
