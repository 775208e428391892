import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { compareNames, type FileTree } from '../../fs/tree.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { globToRegExp } from '../util/glob.js';
import { BaseSource } from './base.js';
import { DigestMismatch, downloadToCache } from './download.js';
import type { SourceContext } from './kind.js';
import { FETCHABLE, candidateUrls, splitAlias, translateUrl, urlDirectoryName } from './url.js';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * A source that is one downloaded file pinned by its sha256 (tar, remote): the file is cached at
 * `<sources>/<kind>/<url-dirname>/<sha256>`, where url-dirname is the URL as written (untranslated).
 */
export abstract class DownloadableSource extends BaseSource {
  readonly needsRef = true;
  /** The URL as written (maybe `alias:path`). */
  readonly url: string;
  readonly urls: readonly string[];

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl);
    this.url = this.config.requireString('url');
    this.urls = [this.url];
    const translated = translateUrl(this.url, element.project);
    if (!FETCHABLE.test(translated)) {
      const s = splitAlias(this.url);
      const why =
        s && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(s.alias) && !this.url.includes('://')
          ? `url '${this.url}' uses alias '${s.alias}', which project.conf does not define`
          : `url '${this.url}' is not an http, https or file URL`;
      throw this.error(
        'url',
        'source-bad-url',
        why,
        `define the alias under \`aliases\` in project.conf (defined: ${Object.keys(element.project.aliases).join(', ') || 'none'}), or give a full URL`,
      );
    }
  }

  protected override validateRef(ref: YamlValue): YamlValue {
    if (typeof ref !== 'string' || !SHA256.test(ref)) {
      const shown = typeof ref === 'string' ? `'${ref}'` : 'a mapping or list';
      throw this.error(
        'ref',
        'source-bad-ref',
        `ref ${shown} is not a sha256 digest (64 lowercase hex digits)`,
        `run \`kiln track ${this.element.name}\` to compute it`,
      );
    }
    return ref;
  }

  /** The directory of this URL in the source cache. */
  cacheDir(ctx: SourceContext): string {
    return join(ctx.sourceDir, this.kind, urlDirectoryName(this.url));
  }

  /** The cached file for the current ref. */
  cachedPath(ctx: SourceContext): string {
    if (this.ref === undefined) throw new KilnError('source-no-ref', `${this.label}: has no ref`, `run \`kiln track ${this.element.name}\` first`);
    return join(this.cacheDir(ctx), this.ref as string);
  }

  isCached(ctx: SourceContext): boolean {
    return this.ref !== undefined && existsSync(this.cachedPath(ctx));
  }

  override uniqueKey(): YamlValue | undefined {
    return this.ref === undefined ? undefined : this.keyParts();
  }

  /** The kind's unique key with a ref set: starts with [url as written, ref]. */
  protected abstract keyParts(): YamlValue;

  async track(ctx: SourceContext): Promise<YamlValue | undefined> {
    const errors: string[] = [];
    for (const url of candidateUrls(this.url, this.element.project, 'track')) {
      try {
        ctx.info?.(`${this.label}: tracking ${url}`);
        const { digest } = await downloadToCache(url, this.cacheDir(ctx), this.label);
        if (this.ref !== undefined && this.ref !== digest) {
          ctx.warn(`${this.label}: Potential man-in-the-middle attack! The download from ${url} has sha256 ${digest}, the old ref was ${this.ref as string}`);
        }
        return digest;
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        errors.push(e.message);
      }
    }
    throw new KilnError('track-failed', errors.join('\n'), 'check the URL, its alias and mirrors');
  }

  async fetch(ctx: SourceContext): Promise<void> {
    if (this.ref === undefined)
      throw new KilnError('source-no-ref', `${this.label}: has no ref, so there is nothing exact to fetch`, `run \`kiln track ${this.element.name}\` first`);
    if (this.isCached(ctx)) return;
    const errors: KilnError[] = [];
    for (const url of candidateUrls(this.url, this.element.project, 'fetch')) {
      try {
        ctx.info?.(`${this.label}: fetching ${url}`);
        await downloadToCache(url, this.cacheDir(ctx), this.label, this.ref as string);
        return;
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        errors.push(e);
      }
    }
    if (ctx.remote) {
      // the team's shared cache, by digest: the file as it was pinned, whatever upstream does now
      const r = await ctx.remote.fetchFile(this.ref as string, this.cachedPath(ctx), this.label);
      if (r.ok) return;
      errors.push(...r.tried.map((t) => new KilnError('fetch-failed', `${this.label}: ${t}`)));
    }
    const mismatch = errors.find((e) => e instanceof DigestMismatch);
    if (mismatch && errors.length === 1) throw mismatch;
    throw new KilnError('fetch-failed', errors.map((e) => e.message).join('\n'), mismatch?.hint ?? 'check the URL, its alias and mirrors');
  }

  cachedFiles(ctx: SourceContext): { sha256: string; path: string }[] {
    return this.isCached(ctx) ? [{ sha256: this.ref as string, path: this.cachedPath(ctx) }] : [];
  }

  /** The base-dir match of an unpacked archive (tar, zip): the first, in sorted order, of the archive's directories the glob matches. */
  protected matchBaseDir(tree: FileTree, baseDir: string | undefined): string {
    if (baseDir === undefined) return '';
    const re = globToRegExp(baseDir);
    const dirs: string[] = [];
    for (const [path, inode] of tree.walk()) if (path !== '' && inode.type === 'dir' && re.test(path)) dirs.push(path);
    dirs.sort(compareNames);
    if (dirs.length === 0) {
      const top = tree.children('').filter((n) => tree.get(n)?.type === 'dir');
      throw this.error(
        'base-dir',
        'tar-no-base-dir',
        `base-dir '${baseDir}' matches no directory in the archive${top.length ? ` (top-level directories: ${top.slice(0, 8).join(', ')})` : ' (it has no directories)'}`,
        "set base-dir to one of them, or to '' to stage the archive root",
      );
    }
    return dirs[0]!;
  }
}
