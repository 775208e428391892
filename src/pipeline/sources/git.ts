import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import type { FileTree } from '../../fs/tree.js';
import { writeFileDurably } from '../cache/host-write.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { archiveTree, checkSymlinks, type Fail } from './archive-tree.js';
import { BaseSource } from './base.js';
import type { SourceContext, SourceKind } from './kind.js';
import { overlayTree } from './tree-ops.js';
import { candidateUrls, splitAlias, urlDirectoryName } from './url.js';

const SHA1 = /^[0-9a-f]{40}$/;
/** `ref-format: git-describe` refs: `v1.2-3-g<sha>`. */
const DESCRIBE = /-g([0-9a-f]{40})$/;

/**
 * `git` (docs/format.md#git): a repository mirrored with the host's git into
 * `<sources>/git/<url-dirname>` (a bare mirror), pinned by commit. Track resolves `track` (a branch
 * or tag) to a commit. Staging takes the commit's tree via `git archive` (kept next to the mirror
 * as `<sha>.tar`) and reads it like a tar source, so modes and symlinks come from git's objects.
 * Submodules and the `.git` directory are not staged.
 */
export class GitSource extends BaseSource {
  readonly needsRef = true;
  readonly url: string;
  readonly urls: readonly string[];
  readonly trackRef: string | undefined;
  private readonly fail: Fail = (code, message, hint) => this.error(undefined, code, message, hint);

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl);
    this.url = this.config.requireString('url');
    this.urls = [this.url];
    this.trackRef = this.config.string('track');
    const s = splitAlias(this.url);
    if (
      s &&
      !this.url.includes('://') &&
      !Object.prototype.hasOwnProperty.call(element.project.aliases, s.alias) &&
      !this.url.startsWith('/') &&
      /^[A-Za-z][A-Za-z0-9+.-]*$/.test(s.alias) &&
      !/^[^/]+@/.test(this.url)
    ) {
      throw this.error(
        'url',
        'source-bad-url',
        `url '${this.url}' uses alias '${s.alias}', which project.conf does not define`,
        `define it under \`aliases\` (defined: ${Object.keys(element.project.aliases).join(', ') || 'none'})`,
      );
    }
    this.initRef();
    if (this.ref === undefined && this.trackRef === undefined)
      throw this.error(undefined, 'source-missing-key', "one of 'ref' or 'track' is required", 'set `track:` to a branch or tag and run kiln track');
  }

  protected override validateRef(ref: YamlValue): YamlValue {
    if (typeof ref !== 'string' || !(SHA1.test(ref) || DESCRIBE.test(ref))) {
      throw this.error(
        'ref',
        'source-bad-ref',
        `ref ${typeof ref === 'string' ? `'${ref}'` : 'a mapping or list'} is not a commit (40 lowercase hex digits)`,
        `run \`kiln track ${this.element.name}\``,
      );
    }
    return ref;
  }

  private commit(): string {
    const ref = this.ref as string;
    return DESCRIBE.exec(ref)?.[1] ?? ref;
  }

  private mirror(ctx: SourceContext): string {
    return join(ctx.sourceDir, 'git', urlDirectoryName(this.url));
  }

  private git(args: string[], what: string): string {
    const r = process
      .getBuiltinModule('node:child_process')
      .spawnSync('git', args, { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } });
    if (r.error) throw new KilnError('git-missing', `${this.label}: cannot run git: ${r.error.message}`, "install the Debian package 'git'");
    if (r.status !== 0)
      throw new KilnError(
        'git-failed',
        `${this.label}: ${what} failed: ${r.stderr.trim() || `git exited ${r.status}`}`,
        'check the URL and that the commit or branch exists',
      );
    return r.stdout.trim();
  }

  private has(ctx: SourceContext, rev: string): boolean {
    const m = this.mirror(ctx);
    return (
      existsSync(m) &&
      process.getBuiltinModule('node:child_process').spawnSync('git', ['-C', m, 'cat-file', '-e', `${rev}^{commit}`], { stdio: 'ignore' }).status === 0
    );
  }

  /** Clones `url` (into a temp name, renamed when complete) or fetches it into the bare mirror. */
  private update(ctx: SourceContext, url: string): void {
    const m = this.mirror(ctx);
    if (existsSync(m)) {
      this.git(['-C', m, 'fetch', '--prune', '--tags', url, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], `git fetch ${url}`);
      return;
    }
    mkdirSync(join(ctx.sourceDir, 'git'), { recursive: true });
    const tmp = `${m}.partial-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    try {
      this.git(['clone', '--mirror', '--quiet', url, tmp], `git clone ${url}`);
      try {
        renameSync(tmp, m);
      } catch (e) {
        if (!existsSync(m)) throw e; // another process published the mirror first: use theirs
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  uniqueKey(): YamlValue | undefined {
    return this.ref === undefined ? undefined : [this.url, this.ref as string];
  }

  isCached(ctx: SourceContext): boolean {
    return this.ref !== undefined && this.has(ctx, this.commit());
  }

  async track(ctx: SourceContext): Promise<YamlValue | undefined> {
    if (this.trackRef === undefined) return undefined;
    // upstream first (BuildStream tracks against the upstream alias, then the mirrors)
    const errors: string[] = [];
    for (const url of candidateUrls(this.url, this.element.project, 'track')) {
      try {
        this.update(ctx, url);
        return this.git(['-C', this.mirror(ctx), 'rev-parse', '--verify', `${this.trackRef}^{commit}`], `resolving '${this.trackRef}'`);
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        errors.push(e.message);
      }
    }
    throw new KilnError('track-failed', errors.join('\n'), 'check the URL, its alias and mirrors');
  }

  async fetch(ctx: SourceContext): Promise<void> {
    if (this.ref === undefined) throw new KilnError('source-no-ref', `${this.label}: has no ref`, `run \`kiln track ${this.element.name}\` first`);
    if (this.isCached(ctx)) return;
    // mirrors first (the default mirror leads), then upstream; done once the commit is here
    const tried: string[] = [];
    for (const url of candidateUrls(this.url, this.element.project, 'fetch')) {
      try {
        this.update(ctx, url);
        if (this.has(ctx, this.commit())) return;
        tried.push(`${url}: no commit ${this.commit()}`);
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
        tried.push(e.message);
      }
    }
    throw new KilnError(
      'git-no-commit',
      `${this.label}: commit ${this.commit()} is in none of the repositories tried:\n${tried.map((t) => `  ${t}`).join('\n')}`,
      `run \`kiln track ${this.element.name}\` to pick the current commit of '${this.trackRef ?? 'the branch'}'`,
    );
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    const m = this.mirror(ctx);
    const sha = this.commit();
    const archive = join(`${m}.archives`, `${sha}.tar`);
    if (!existsSync(archive)) {
      mkdirSync(`${m}.archives`, { recursive: true });
      writeFileDurably(archive, (fd) => {
        const r = process
          .getBuiltinModule('node:child_process')
          .spawnSync('git', ['-C', m, '-c', 'tar.umask=0022', 'archive', '--format=tar', sha], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
        if (r.status !== 0) throw new KilnError('git-failed', `${this.label}: git archive ${sha} failed: ${r.stderr.trim()}`);
      });
    }
    const whole = await archiveTree(archive, `${this.label}: ${archive}`, this.fail);
    checkSymlinks(whole, '', this.directory, this.fail);
    if (whole.has('.gitmodules') && this.config.bool('checkout-submodules', true)) {
      ctx.warn(`${this.label}: the repository has submodules; kiln's git source does not check them out`);
    }
    overlayTree(tree, this.directory, whole);
  }
}

export const gitKind: SourceKind = {
  name: 'git',
  configKeys: ['url', 'track', 'ref', 'checkout-submodules', 'submodules', 'ref-format', 'track-tags', 'tags'],
  configure: (decl, element) => new GitSource(element, decl),
};
