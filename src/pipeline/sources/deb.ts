import { existsSync } from 'node:fs';
import { KilnError } from '../../errors.js';
import { join } from 'node:path';
import type { FileTree } from '../../fs/tree.js';
import { AptState } from '../debian/apt-state.js';
import { resolveClosure, type PinnedPackage, type ResolvedPackage } from '../debian/closure.js';
import { cachedDebPath, fetchPackages, PinsUnavailable } from '../debian/download.js';
import { fetchFromArchiveOrigins, isSnapshotTime, snapshotTime } from './archive-origins.js';
import type { Element, SourceDecl, YamlMap, YamlValue } from '../model.js';
import { BaseSource } from './base.js';
import { DEB_URL_KEYS, DebUrlSource } from './deb-url.js';
import { sourceError, type SourceContext, type SourceKind } from './kind.js';
import { overlayTree } from './tree-ops.js';

/**
 * `deb`: a pinned set of Debian binary packages staged as a root that works as a build root.
 *
 *   kind: deb
 *   packages: [build-essential, bison, ...]
 *   suite: bookworm          # optional: default the machine's apt sources as they are
 *   updates: false           # optional: the release suite alone, without -updates/-security
 *   architecture: amd64      # optional: default the machine's
 *   essential: true          # add every Essential: yes package (default true)
 *   ref:                     # written by `kiln track`: the whole closure
 *   - package: bash
 *     version: 5.2.15-2+b2
 *     sha256: ...
 *     filename: pool/main/b/bash/bash_5.2.15-2+b2_amd64.deb   # for mirrors and the snapshot archive
 *     tracked: 20261206T073000Z                                # when it was pinned
 *
 * Track resolves the closure with apt against a private state (empty dpkg status); fetch takes
 * exactly the pinned files from the machine's apt, then the project's mirrors and the snapshot
 * archive (archive-origins.ts), verifying each; stage builds the root
 * (src/pipeline/debian/build-root.ts). Cache: `<sources>/deb/{apt,files,unpacked}`.
 */

const SHA256 = /^[0-9a-f]{64}$/;
const ENTRY_KEYS = ['package', 'version', 'sha256', 'filename', 'tracked'];

/** What identifies a pin: the same package, version and file. */
function pinKey(p: { package: string; version: string; sha256: string }): string {
  return `${p.package} ${p.version} ${p.sha256}`;
}

/** A ref entry for a package apt resolved now. */
function refEntry(p: ResolvedPackage, tracked: string): YamlMap {
  return { package: p.package, version: p.version, sha256: p.sha256, filename: p.filename, tracked };
}

/** A ref entry for a pin as it was (no field added or dropped). */
function pinEntry(p: PinnedPackage): YamlMap {
  return {
    package: p.package,
    version: p.version,
    sha256: p.sha256,
    ...(p.filename ? { filename: p.filename } : {}),
    ...(p.tracked ? { tracked: p.tracked } : {}),
  };
}
/** Bumped when staging changes what a given set of packages turns into (it is part of the key). */
const STAGING_VERSION = 'deb-root-1';

export class DebSource extends BaseSource {
  readonly needsRef = true;
  readonly packages: string[];
  readonly suite: string | undefined;
  readonly arch: string | undefined;
  readonly essential: boolean;
  readonly updates: boolean;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl);
    const raw = (decl.config as YamlMap)['packages'];
    if (raw === undefined || raw === '') throw this.error(undefined, 'source-missing-key', "'packages' is required (a list of Debian package names)");
    if (!Array.isArray(raw) || raw.some((p) => typeof p !== 'string' || !/^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$/.test(p))) {
      throw this.error('packages', 'source-bad-type', "'packages' must be a list of Debian package names (lowercase, e.g. build-essential)");
    }
    this.packages = raw as string[];
    this.suite = this.config.string('suite') || undefined;
    this.arch = this.config.string('architecture') || undefined;
    this.essential = this.config.bool('essential', true);
    this.updates = this.config.bool('updates', true);
    this.initRef();
  }

  protected override validateRef(ref: YamlValue): YamlValue {
    const bad = (why: string): never => {
      throw this.error(
        'ref',
        'source-bad-ref',
        `ref ${why}`,
        `the ref is a list of {package, version, sha256} mappings; run \`kiln track ${this.element.name}\` to compute it`,
      );
    };
    if (!Array.isArray(ref) || ref.length === 0) bad('is not a non-empty list');
    (ref as YamlValue[]).forEach((e, i) => {
      if (typeof e !== 'object' || Array.isArray(e)) bad(`entry ${i + 1} is not a mapping`);
      const m = e as YamlMap;
      for (const k of ['package', 'version', 'sha256']) if (typeof m[k] !== 'string' || m[k] === '') bad(`entry ${i + 1} has no '${k}'`);
      for (const k of Object.keys(m))
        if (!ENTRY_KEYS.includes(k)) bad(`entry ${i + 1} (${m['package'] as string}) has an unknown key '${k}' (valid: ${ENTRY_KEYS.join(', ')})`);
      if (!SHA256.test(m['sha256'] as string))
        bad(`entry ${i + 1} (${m['package'] as string}): sha256 '${m['sha256'] as string}' is not 64 lowercase hex digits`);
      const filename = m['filename'];
      if (filename !== undefined && (typeof filename !== 'string' || !/^pool\/[^\s]+\.deb$/.test(filename) || filename.split('/').includes('..'))) {
        bad(`entry ${i + 1} (${m['package'] as string}): filename must be the package's path in the archive (pool/…/NAME_VERSION_ARCH.deb)`);
      }
      const tracked = m['tracked'];
      if (tracked !== undefined && (typeof tracked !== 'string' || !isSnapshotTime(tracked)))
        bad(`entry ${i + 1} (${m['package'] as string}): tracked must be a UTC time like 20261206T073000Z`);
    });
    return ref;
  }

  /** The pinned packages of the current ref. */
  pins(): PinnedPackage[] {
    if (this.ref === undefined) return [];
    return (this.ref as YamlMap[]).map((m) => ({
      package: m['package'] as string,
      version: m['version'] as string,
      sha256: m['sha256'] as string,
      ...(typeof m['filename'] === 'string' ? { filename: m['filename'] } : {}),
      ...(typeof m['tracked'] === 'string' ? { tracked: m['tracked'] } : {}),
    }));
  }

  uniqueKey(): YamlValue | undefined {
    if (this.ref === undefined) return undefined;
    return [STAGING_VERSION, ...this.pins().map((p) => `${p.package} ${p.version} ${p.sha256}`)];
  }

  private apt(ctx: SourceContext): Promise<AptState> {
    return AptState.open(join(ctx.sourceDir, 'deb', 'apt'), {
      ...(this.arch ? { arch: this.arch } : {}),
      ...(this.suite ? { suite: this.suite } : {}),
      updates: this.updates,
    });
  }

  private filesDir(ctx: SourceContext): string {
    return join(ctx.sourceDir, 'deb', 'files');
  }

  isCached(ctx: SourceContext): boolean {
    return this.ref !== undefined && this.pins().every((p) => existsSync(cachedDebPath(this.filesDir(ctx), p.sha256)));
  }

  cachedFiles(ctx: SourceContext): { sha256: string; path: string }[] {
    return this.pins()
      .map((p) => ({ sha256: p.sha256, path: cachedDebPath(this.filesDir(ctx), p.sha256) }))
      .filter((f) => existsSync(f.path));
  }

  async track(ctx: SourceContext): Promise<YamlValue | undefined> {
    const apt = await this.apt(ctx);
    ctx.info?.(`${this.label}: updating the package lists`);
    await apt.update();
    const closure = await resolveClosure(apt, this.packages, { essential: this.essential });
    ctx.info?.(`${this.label}: ${closure.length} packages, ${closure.reduce((n, p) => n + p.size, 0)} bytes`);
    const old = new Map(this.pins().map((p) => [pinKey(p), p]));
    const now = snapshotTime(new Date());
    // a package whose pin does not change keeps its entry, tracking time included
    return closure.map((p) => refEntry(p, old.get(pinKey(p))?.tracked ?? now));
  }

  async fetch(ctx: SourceContext): Promise<void> {
    const pins = this.pins();
    if (pins.length === 0)
      throw this.error(undefined, 'source-no-ref', 'has no ref, so there is nothing exact to fetch', `run \`kiln track ${this.element.name}\` first`);
    await fetchPackages(await this.apt(ctx), pins, this.filesDir(ctx), {
      ...(ctx.info ? { info: ctx.info } : {}),
      fallback: async (pin, dest) => {
        const r = await fetchFromArchiveOrigins(this.element.project, pin, dest, `${pin.package} ${pin.version}`, ctx.info);
        if (r.ok || !ctx.remote) return r;
        const shared = await ctx.remote.fetchFile(pin.sha256, dest, `${pin.package} ${pin.version}`);
        return { ok: shared.ok, tried: [...r.tried, ...shared.tried] };
      },
      goneHint: `re-pin only what is gone with \`kiln track --fix-missing ${this.element.name}\` (or \`kiln build --fix-missing\`); \`kiln track ${this.element.name}\` re-pins everything`,
    });
  }

  async fixMissing(ctx: SourceContext): Promise<YamlValue | undefined> {
    let gone: PinnedPackage[];
    try {
      await this.fetch(ctx);
      return undefined;
    } catch (e) {
      if (!(e instanceof PinsUnavailable)) throw e;
      gone = e.unavailable.map((u) => u.pin);
    }
    const goneKeys = new Set(gone.map(pinKey));
    const keep = this.pins().filter((p) => !goneKeys.has(pinKey(p)));
    const apt = await this.apt(ctx);
    let closure: ResolvedPackage[];
    try {
      closure = await resolveClosure(apt, this.packages, { essential: this.essential, keep: keep.map((p) => `${p.package}=${p.version}`) });
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      throw new KilnError(
        e.code,
        `${this.label}: cannot re-pin ${gone.map((p) => p.package).join(', ')} while keeping the other pins:\n${e.message}`,
        `re-pin the whole closure with \`kiln track ${this.element.name}\``,
      );
    }
    const kept = new Map(keep.map((p) => [pinKey(p), p]));
    const now = snapshotTime(new Date());
    const ref = closure.map((p) => {
      const same = kept.get(pinKey(p));
      // kept pins stay exactly as written; only what apt had to choose anew is new
      return same ? pinEntry(same) : refEntry(p, now);
    });
    return ref;
  }

  describeChange(old: YamlValue | undefined, ref: YamlValue): string[] {
    const before = new Map((Array.isArray(old) ? (old as YamlMap[]) : []).map((m) => [m['package'] as string, m]));
    const after = new Map((ref as YamlMap[]).map((m) => [m['package'] as string, m]));
    const lines: string[] = [];
    for (const [name, m] of after) {
      const was = before.get(name);
      if (!was) lines.push(`${name}: new, ${m['version'] as string}`);
      else if (was['version'] !== m['version'] || was['sha256'] !== m['sha256'])
        lines.push(`${name}: ${was['version'] as string} -> ${m['version'] as string}`);
    }
    for (const [name, m] of before) if (!after.has(name)) lines.push(`${name}: dropped (was ${m['version'] as string})`);
    return lines;
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    const files = this.filesDir(ctx);
    // the .deb reader loads when a root is staged (loading a project needs none of it)
    const { stageBuildRoot } = await import('../debian/build-root.js');
    const root = await stageBuildRoot(
      this.pins().map((p) => ({ ...p, path: cachedDebPath(files, p.sha256) })),
      { unpackDir: join(ctx.sourceDir, 'deb', 'unpacked') },
    );
    overlayTree(tree, this.directory, root.tree);
  }
}

const OWN_KEYS = ['packages', 'suite', 'updates', 'architecture', 'essential', 'ref'];

/** With a `url`, bst 1.x's deb source (one .deb file); otherwise kiln's (packages from the archive). The two shapes do not mix. */
export const debKind: SourceKind = {
  name: 'deb',
  configKeys: [...new Set([...OWN_KEYS, ...DEB_URL_KEYS])],
  configure: (decl, element) => {
    const byUrl = decl.config.url !== undefined;
    const wrong = Object.keys(decl.config).find((k) => !(byUrl ? DEB_URL_KEYS : OWN_KEYS).includes(k));
    if (wrong !== undefined) {
      throw sourceError(
        element,
        decl,
        wrong,
        'source-unknown-key',
        byUrl
          ? `'${wrong}' does not go with 'url': a deb source with a url is one .deb file (keys ${DEB_URL_KEYS.join(', ')})`
          : `'${wrong}' needs 'url' (bst 1.x's deb source: one .deb file); kiln's deb source takes ${OWN_KEYS.join(', ')}`,
        byUrl ? 'drop the key, or drop url to name packages from the Debian archive' : 'add url, or use packages: to name packages from the Debian archive',
      );
    }
    return byUrl ? new DebUrlSource(element, decl) : new DebSource(element, decl);
  },
};
