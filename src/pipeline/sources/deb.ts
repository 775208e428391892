import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FileTree } from '../../fs/tree.js';
import { AptState } from '../debian/apt-state.js';
import { stageBuildRoot } from '../debian/build-root.js';
import { resolveClosure, type PinnedPackage } from '../debian/closure.js';
import { cachedDebPath, fetchPackages } from '../debian/download.js';
import type { Element, SourceDecl, YamlMap, YamlValue } from '../model.js';
import { BaseSource } from './base.js';
import type { SourceContext, SourceKind } from './kind.js';
import { overlayTree } from './tree-ops.js';

/**
 * `deb`: a pinned set of Debian binary packages staged as a root that works as a build root.
 *
 *   kind: deb
 *   packages: [build-essential, bison, ...]
 *   suite: bookworm          # optional: default the machine's apt sources as they are
 *   architecture: amd64      # optional: default the machine's
 *   essential: true          # add every Essential: yes package (default true)
 *   ref:                     # written by `kiln track`: the whole closure
 *   - package: bash
 *     version: 5.2.15-2+b2
 *     sha256: ...
 *
 * Track resolves the closure with apt against a private state (empty dpkg status); fetch
 * downloads exactly the pinned files through the machine's apt and verifies them; stage builds
 * the root (src/pipeline/debian/build-root.ts). Cache: `<sources>/deb/{apt,files,unpacked}`.
 */

const SHA256 = /^[0-9a-f]{64}$/;
/** Bumped when staging changes what a given set of packages turns into (it is part of the key). */
const STAGING_VERSION = 'deb-root-1';

export class DebSource extends BaseSource {
  readonly needsRef = true;
  readonly packages: string[];
  readonly suite: string | undefined;
  readonly arch: string | undefined;
  readonly essential: boolean;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl, ['packages', 'suite', 'architecture', 'essential', 'ref']);
    const raw = (decl.config as YamlMap)['packages'];
    if (raw === undefined || raw === '') throw this.error(undefined, 'source-missing-key', "'packages' is required (a list of Debian package names)");
    if (!Array.isArray(raw) || raw.some((p) => typeof p !== 'string' || !/^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$/.test(p))) {
      throw this.error('packages', 'source-bad-type', "'packages' must be a list of Debian package names (lowercase, e.g. build-essential)");
    }
    this.packages = raw as string[];
    this.suite = this.config.string('suite') || undefined;
    this.arch = this.config.string('architecture') || undefined;
    this.essential = this.config.bool('essential', true);
    this.initRef();
  }

  protected override validateRef(ref: YamlValue): YamlValue {
    const bad = (why: string): never => {
      throw this.error('ref', 'source-bad-ref', `ref ${why}`, `the ref is a list of {package, version, sha256} mappings; run \`kiln track ${this.element.name}\` to compute it`);
    };
    if (!Array.isArray(ref) || ref.length === 0) bad('is not a non-empty list');
    (ref as YamlValue[]).forEach((e, i) => {
      if (typeof e !== 'object' || Array.isArray(e)) bad(`entry ${i + 1} is not a mapping`);
      const m = e as YamlMap;
      for (const k of ['package', 'version', 'sha256']) if (typeof m[k] !== 'string' || m[k] === '') bad(`entry ${i + 1} has no '${k}'`);
      if (!SHA256.test(m['sha256'] as string)) bad(`entry ${i + 1} (${m['package'] as string}): sha256 '${m['sha256'] as string}' is not 64 lowercase hex digits`);
    });
    return ref;
  }

  /** The pinned packages of the current ref. */
  pins(): PinnedPackage[] {
    if (this.ref === undefined) return [];
    return (this.ref as YamlMap[]).map((m) => ({ package: m['package'] as string, version: m['version'] as string, sha256: m['sha256'] as string }));
  }

  uniqueKey(): YamlValue | undefined {
    if (this.ref === undefined) return undefined;
    return [STAGING_VERSION, ...this.pins().map((p) => `${p.package} ${p.version} ${p.sha256}`)];
  }

  private apt(ctx: SourceContext): Promise<AptState> {
    return AptState.open(join(ctx.sourceDir, 'deb', 'apt'), { ...(this.arch ? { arch: this.arch } : {}), ...(this.suite ? { suite: this.suite } : {}) });
  }

  private filesDir(ctx: SourceContext): string {
    return join(ctx.sourceDir, 'deb', 'files');
  }

  isCached(ctx: SourceContext): boolean {
    return this.ref !== undefined && this.pins().every((p) => existsSync(cachedDebPath(this.filesDir(ctx), p.sha256)));
  }

  async track(ctx: SourceContext): Promise<YamlValue | undefined> {
    const apt = await this.apt(ctx);
    ctx.info?.(`${this.label}: updating the package lists`);
    await apt.update();
    const closure = await resolveClosure(apt, this.packages, { essential: this.essential });
    ctx.info?.(`${this.label}: ${closure.length} packages, ${closure.reduce((n, p) => n + p.size, 0)} bytes`);
    return closure.map((p) => ({ package: p.package, version: p.version, sha256: p.sha256 }));
  }

  async fetch(ctx: SourceContext): Promise<void> {
    const pins = this.pins();
    if (pins.length === 0) throw this.error(undefined, 'source-no-ref', 'has no ref, so there is nothing exact to fetch', `run \`kiln track ${this.element.name}\` first`);
    await fetchPackages(await this.apt(ctx), pins, this.filesDir(ctx), ctx.info);
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    const files = this.filesDir(ctx);
    const root = await stageBuildRoot(
      this.pins().map((p) => ({ ...p, path: cachedDebPath(files, p.sha256) })),
      { unpackDir: join(ctx.sourceDir, 'deb', 'unpacked') },
    );
    overlayTree(tree, this.directory, root.tree);
  }
}

export const debKind: SourceKind = { name: 'deb', configure: (decl, element) => new DebSource(element, decl) };
