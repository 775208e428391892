import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FileTree } from '../../fs/tree.js';
import type { AptState } from '../debian/apt-state.js';
import { KilnError } from '../../errors.js';
import { fetchFromArchiveOrigins, isSnapshotTime, snapshotTime } from './archive-origins.js';
import type { Element, SourceDecl, YamlMap, YamlValue } from '../model.js';
import { BaseSource } from './base.js';
import type { SourceContext, SourceKind } from './kind.js';
import { TarSource } from './tar.js';

/** Debian's source-package code, loaded when a source is tracked or fetched (loading a project needs none of it). */
const sourcePackages = () => import('../debian/source-package.js');

/**
 * `debsrc`: one file of a Debian source package — by default its orig tarball, i.e. the upstream
 * release — pinned by sha256 and staged like `tar` (same `base-dir` rules).
 *
 *   kind: debsrc
 *   package: musl
 *   version: 1.2.3-1        # optional: track this version only (default: the archive's current one)
 *   file: musl_1.2.3.orig.tar.gz   # optional: default the orig tarball
 *   suite / updates         # as for `deb`
 *   base-dir: '*'           # as for tar
 *   ref:                    # written by `kiln track` (a bare sha256 is accepted too)
 *     version: 1.2.3-1
 *     filename: pool/main/m/musl/musl_1.2.3.orig.tar.gz
 *     sha256: <sha256 of the file>
 *     tracked: 20261206T073000Z
 *
 * Track asks apt (deb-src entries derived from the machine's sources) for the package's files;
 * fetch finds the version holding the pinned file and downloads it with `apt-get source`, or,
 * when the archive dropped it, takes it from the project's mirrors or the snapshot archive.
 * Cache: `<sources>/debsrc/<package>/<sha256>`.
 */

const SHA256 = /^[0-9a-f]{64}$/;
const REF_KEYS = ['version', 'filename', 'sha256', 'tracked'];

/** Fetches under way in this process, by destination. */
const inFlight = new Map<string, Promise<void>>();

/** The pinned source file is in no origin any more. */
class DebsrcGone extends KilnError {
  constructor(message: string, hint: string) {
    super('debsrc-gone', message, hint);
  }
}

/** tar's staging of an archive that lives in the debsrc cache instead of tar's. */
class CachedArchive extends TarSource {
  constructor(
    element: Element,
    decl: SourceDecl,
    private readonly archive: string,
    sha256: string,
  ) {
    const config: YamlMap = { url: `file:///${decl.index}` };
    const baseDir = (decl.config as YamlMap)['base-dir'];
    if (baseDir !== undefined) config['base-dir'] = baseDir;
    // tar's ref is the archive's digest, whatever form debsrc's own ref has
    super(element, { ...decl, config, ref: sha256 });
  }
  override cachedPath(): string {
    return this.archive;
  }
}

export class DebsrcSource extends BaseSource {
  readonly needsRef = true;
  readonly package: string;
  readonly version: string | undefined;
  readonly file: string | undefined;
  readonly suite: string | undefined;
  readonly updates: boolean;
  readonly baseDir: string;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl);
    this.package = this.config.requireString('package');
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(this.package)) throw this.error('package', 'source-bad-type', `'${this.package}' is not a Debian source package name`);
    this.version = this.config.string('version') || undefined;
    this.file = this.config.string('file') || undefined;
    if (this.file !== undefined && this.file.includes('/')) throw this.error('file', 'source-bad-type', `file '${this.file}' must be a file name, without '/'`);
    this.suite = this.config.string('suite') || undefined;
    this.updates = this.config.bool('updates', true);
    this.baseDir = this.config.string('base-dir') ?? '*';
    this.initRef();
  }

  protected override validateRef(ref: YamlValue): YamlValue {
    const bad = (why: string): never => {
      throw this.error(
        'ref',
        'source-bad-ref',
        `ref ${why}`,
        `the ref is a mapping of version, filename, sha256 and tracked (or a bare sha256); run \`kiln track ${this.element.name}\` to compute it`,
      );
    };
    if (typeof ref === 'string') {
      if (!SHA256.test(ref)) bad(`'${ref}' is not a sha256 digest (64 lowercase hex digits)`);
      return ref;
    }
    if (typeof ref !== 'object' || Array.isArray(ref)) bad('is a list');
    const m = ref as YamlMap;
    for (const k of Object.keys(m)) if (!REF_KEYS.includes(k)) bad(`has an unknown key '${k}' (valid: ${REF_KEYS.join(', ')})`);
    if (typeof m['sha256'] !== 'string' || !SHA256.test(m['sha256'])) bad('has no sha256 of 64 lowercase hex digits');
    if (m['version'] !== undefined && (typeof m['version'] !== 'string' || m['version'] === '')) bad("has an empty 'version'");
    const filename = m['filename'];
    if (filename !== undefined && (typeof filename !== 'string' || !/^pool\/\S+$/.test(filename) || filename.split('/').includes('..')))
      bad("'filename' is not a path in the archive's pool");
    if (m['tracked'] !== undefined && (typeof m['tracked'] !== 'string' || !isSnapshotTime(m['tracked'])))
      bad("'tracked' must be a UTC time like 20261206T073000Z");
    return ref;
  }

  /** The pinned file's digest, archive path, version and tracking time, whichever form the ref has. */
  pin(): { sha256: string; version?: string; filename?: string; tracked?: string } | undefined {
    const ref = this.ref;
    if (ref === undefined) return undefined;
    if (typeof ref === 'string') return { sha256: ref };
    const m = ref as YamlMap;
    const str = (k: string): string | undefined => (typeof m[k] === 'string' ? (m[k] as string) : undefined);
    return {
      sha256: m['sha256'] as string,
      ...(str('version') ? { version: str('version')! } : {}),
      ...(str('filename') ? { filename: str('filename')! } : {}),
      ...(str('tracked') ? { tracked: str('tracked')! } : {}),
    };
  }

  uniqueKey(): YamlValue | undefined {
    // the digest alone identifies the file: the other ref fields only say where to find it
    const pin = this.pin();
    return pin === undefined ? undefined : [this.package, this.file ?? '', pin.sha256, this.baseDir];
  }

  private async apt(ctx: SourceContext): Promise<AptState> {
    const { AptState } = await import('../debian/apt-state.js');
    return AptState.open(join(ctx.sourceDir, 'deb', 'apt'), { ...(this.suite ? { suite: this.suite } : {}), updates: this.updates });
  }

  cachedPath(ctx: SourceContext): string {
    return join(ctx.sourceDir, 'debsrc', this.package, this.pin()!.sha256);
  }

  isCached(ctx: SourceContext): boolean {
    return this.ref !== undefined && existsSync(this.cachedPath(ctx));
  }

  cachedFiles(ctx: SourceContext): { sha256: string; path: string }[] {
    return this.isCached(ctx) ? [{ sha256: this.pin()!.sha256, path: this.cachedPath(ctx) }] : [];
  }

  async track(ctx: SourceContext): Promise<YamlValue | undefined> {
    const { chooseSourceFile, sourcePackageFiles } = await sourcePackages();
    const apt = await this.apt(ctx);
    ctx.info?.(`${this.label}: updating the package lists`);
    await apt.update();
    const files = await sourcePackageFiles(apt, this.package, this.version);
    const chosen = chooseSourceFile(files.files, this.package, this.file);
    const old = this.pin();
    if (this.version !== undefined && old !== undefined && old.sha256 !== chosen.sha256) {
      ctx.warn(
        `${this.label}: Potential man-in-the-middle attack! ${chosen.file} of ${this.package} ${this.version} now has sha256 ${chosen.sha256}, the old ref was ${old.sha256}`,
      );
    }
    if (old?.sha256 === chosen.sha256 && typeof this.ref !== 'string' && old.filename) return this.ref;
    return { version: files.version, filename: `${files.directory}/${chosen.file}`, sha256: chosen.sha256, tracked: snapshotTime(new Date()) };
  }

  fetch(ctx: SourceContext): Promise<void> {
    // elements that share a source file (linux and its headers) fetch it once
    const key = this.ref === undefined ? undefined : this.cachedPath(ctx);
    const running = key === undefined ? undefined : inFlight.get(key);
    if (running) return running;
    const p = this.fetchOnce(ctx);
    if (key !== undefined) {
      inFlight.set(key, p);
      void p.then(
        () => inFlight.delete(key),
        () => inFlight.delete(key),
      );
    }
    return p;
  }

  private async fetchOnce(ctx: SourceContext): Promise<void> {
    const pin = this.pin();
    if (pin === undefined)
      throw this.error(undefined, 'source-no-ref', 'has no ref, so there is nothing exact to fetch', `run \`kiln track ${this.element.name}\` first`);
    if (this.isCached(ctx)) return;
    const { fetchSourceFile, sourcePackageFiles, sourcePoolDirectory } = await sourcePackages();
    const apt = await this.apt(ctx);
    try {
      await fetchSourceFile(apt, this.package, pin.version ?? this.version, pin.sha256, this.cachedPath(ctx), ctx.info);
      return;
    } catch (e) {
      if (!(e instanceof KilnError) || e.code !== 'debsrc-gone') throw e;
    }
    const filename = pin.filename ?? (this.file ? `${sourcePoolDirectory(this.package)}/${this.file}` : undefined);
    const r = await fetchFromArchiveOrigins(
      this.element.project,
      { ...pin, ...(filename ? { filename } : {}) },
      this.cachedPath(ctx),
      `${this.package} ${pin.version ?? ''}`.trim(),
      ctx.info,
    );
    if (r.ok) return;
    if (ctx.remote) {
      const shared = await ctx.remote.fetchFile(pin.sha256, this.cachedPath(ctx), `${this.package} ${pin.version ?? ''}`.trim());
      if (shared.ok) return;
      r.tried.push(...shared.tried);
    }
    const now = (await sourcePackageFiles(apt, this.package).catch(() => undefined))?.version;
    throw new DebsrcGone(
      `${this.label}: the archive no longer offers ${filename ?? `the file with sha256 ${pin.sha256}`} of source package ${this.package}${pin.version ? ` ${pin.version}` : ''} (the archive now has ${now ?? 'no version of it'}), and no mirror had it${r.tried.length ? `\ntried:\n${r.tried.map((t) => `  ${t}`).join('\n')}` : ''}`,
      this.version !== undefined
        ? `the element pins \`version: ${this.version}\`: change or remove it, then run \`kiln track ${this.element.name}\``
        : `re-pin it with \`kiln track --fix-missing ${this.element.name}\` (or \`kiln build --fix-missing\`)`,
    );
  }

  async fixMissing(ctx: SourceContext): Promise<YamlValue | undefined> {
    try {
      await this.fetch(ctx);
      return undefined;
    } catch (e) {
      if (!(e instanceof DebsrcGone) || this.version !== undefined) throw e;
    }
    return this.track(ctx);
  }

  describeChange(old: YamlValue | undefined, ref: YamlValue): string[] {
    const version = (r: YamlValue | undefined): string =>
      r && typeof r === 'object' && !Array.isArray(r) && typeof r['version'] === 'string' ? r['version'] : 'unrecorded';
    const digest = (r: YamlValue | undefined): string =>
      typeof r === 'string' ? r : r && typeof r === 'object' && !Array.isArray(r) ? String(r['sha256']) : 'none';
    if (digest(old) === digest(ref)) return [`${this.package} ${version(ref)}: the same file; the ref now records its version, archive path and tracking time`];
    return [`${this.package}: ${version(old)} -> ${version(ref)} (sha256 ${digest(old).slice(0, 12)}… -> ${digest(ref).slice(0, 12)}…)`];
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    await new CachedArchive(this.element, this.decl, this.cachedPath(ctx), this.pin()!.sha256).stage(ctx, tree);
  }
}

export const debsrcKind: SourceKind = {
  name: 'debsrc',
  configKeys: ['package', 'version', 'file', 'suite', 'updates', 'base-dir', 'ref'],
  configure: (decl, element) => new DebsrcSource(element, decl),
};
