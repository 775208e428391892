import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FileTree } from '../../fs/tree.js';
import { AptState } from '../debian/apt-state.js';
import { chooseSourceFile, fetchSourceFile, sourcePackageFiles } from '../debian/source-package.js';
import type { Element, SourceDecl, YamlMap, YamlValue } from '../model.js';
import { BaseSource } from './base.js';
import type { SourceContext, SourceKind } from './kind.js';
import { TarSource } from './tar.js';

/**
 * `debsrc`: one file of a Debian source package — by default its orig tarball, i.e. the upstream
 * release — pinned by sha256 and staged like `tar` (same `base-dir` rules).
 *
 *   kind: debsrc
 *   package: musl
 *   version: 1.2.3-1        # optional: default the archive's current version
 *   file: musl_1.2.3.orig.tar.gz   # optional: default the orig tarball
 *   base-dir: '*'           # as for tar
 *   ref: <sha256 of the file>
 *
 * Track asks apt (deb-src entries derived from the machine's sources) for the package's files;
 * fetch finds the version holding the pinned file and downloads it with `apt-get source`.
 * Cache: `<sources>/debsrc/<package>/<sha256>`.
 */

const SHA256 = /^[0-9a-f]{64}$/;

/** tar's staging of an archive that lives in the debsrc cache instead of tar's. */
class CachedArchive extends TarSource {
  constructor(
    element: Element,
    decl: SourceDecl,
    private readonly archive: string,
  ) {
    const config: YamlMap = { url: `file:///${decl.index}` };
    const baseDir = (decl.config as YamlMap)['base-dir'];
    if (baseDir !== undefined) config['base-dir'] = baseDir;
    super(element, { ...decl, config });
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
  readonly baseDir: string;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl, ['package', 'version', 'file', 'suite', 'base-dir', 'ref']);
    this.package = this.config.requireString('package');
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(this.package)) throw this.error('package', 'source-bad-type', `'${this.package}' is not a Debian source package name`);
    this.version = this.config.string('version') || undefined;
    this.file = this.config.string('file') || undefined;
    if (this.file !== undefined && this.file.includes('/')) throw this.error('file', 'source-bad-type', `file '${this.file}' must be a file name, without '/'`);
    this.suite = this.config.string('suite') || undefined;
    this.baseDir = this.config.string('base-dir') ?? '*';
    this.initRef();
  }

  protected override validateRef(ref: YamlValue): YamlValue {
    if (typeof ref !== 'string' || !SHA256.test(ref)) {
      throw this.error('ref', 'source-bad-ref', `ref ${typeof ref === 'string' ? `'${ref}'` : 'a mapping or list'} is not a sha256 digest (64 lowercase hex digits)`, `run \`kiln track ${this.element.name}\` to compute it`);
    }
    return ref;
  }

  uniqueKey(): YamlValue | undefined {
    return this.ref === undefined ? undefined : [this.package, this.file ?? '', this.ref as string, this.baseDir];
  }

  private apt(ctx: SourceContext): Promise<AptState> {
    return AptState.open(join(ctx.sourceDir, 'deb', 'apt'), this.suite ? { suite: this.suite } : {});
  }

  cachedPath(ctx: SourceContext): string {
    return join(ctx.sourceDir, 'debsrc', this.package, this.ref as string);
  }

  isCached(ctx: SourceContext): boolean {
    return this.ref !== undefined && existsSync(this.cachedPath(ctx));
  }

  async track(ctx: SourceContext): Promise<YamlValue | undefined> {
    const apt = await this.apt(ctx);
    ctx.info?.(`${this.label}: updating the package lists`);
    await apt.update();
    const chosen = chooseSourceFile(await sourcePackageFiles(apt, this.package, this.version), this.package, this.file);
    if (this.version !== undefined && this.ref !== undefined && this.ref !== chosen.sha256) {
      ctx.warn(`${this.label}: Potential man-in-the-middle attack! ${chosen.file} of ${this.package} ${this.version} now has sha256 ${chosen.sha256}, the old ref was ${this.ref as string}`);
    }
    return chosen.sha256;
  }

  async fetch(ctx: SourceContext): Promise<void> {
    if (this.ref === undefined) throw this.error(undefined, 'source-no-ref', 'has no ref, so there is nothing exact to fetch', `run \`kiln track ${this.element.name}\` first`);
    if (this.isCached(ctx)) return;
    await fetchSourceFile(await this.apt(ctx), this.package, this.version, this.ref as string, this.cachedPath(ctx), ctx.info);
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    await new CachedArchive(this.element, this.decl, this.cachedPath(ctx)).stage(ctx, tree);
  }
}

export const debsrcKind: SourceKind = { name: 'debsrc', configure: (decl, element) => new DebsrcSource(element, decl) };
