import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Element } from '../../pipeline/model.js';
import { globalOptions } from '../context.js';
import { formatBytes, openRemotes } from '../remote.js';
import { selectElements, type DepsSelection } from './show.js';

/**
 * `kiln artifact push|pull [--deps none|run|build|all] ELEMENT...` and `kiln source push
 * ELEMENT...`: transfers on demand with the remote caches (`--remote URL`, or `artifacts:` in
 * the user configuration and project.conf). Unlike `kiln build`, which carries on without a
 * remote that fails, these exit 1 when they could not do what was asked.
 */

interface Opts {
  deps: string;
}

const DEPS = ['none', 'run', 'build', 'all'];

async function open(cmd: Command, names: string[], deps: string) {
  if (!DEPS.includes(deps)) throw new KilnError('bad-option', `--deps must be one of ${DEPS.join(', ')}, not '${deps}'`);
  const g = await globalOptions(cmd);
  const { openPipeline } = await import('../../pipeline/plan/open.js');
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    process.stderr.write(`WARNING ${m}\n`);
  };
  const p = openPipeline({ projectDir: g.projectDir, cacheDir: g.cacheDir, targets: names, ...g.pipeline, warn: (e, m) => warn(`${e ? `${e.name}: ` : ''}${m}`) });
  const remotes = await openRemotes(g, p.loaded.project, p.session, { warn });
  if (!remotes) {
    p.session.close();
    throw new KilnError('no-remote', 'no remote cache is configured', 'give one with --remote URL, or list it under `artifacts:` in ~/.config/kiln.conf or project.conf');
  }
  const elements = selectElements(p, deps as DepsSelection);
  return { p, remotes, elements, warnings };
}

function given(remotes: { list: { down?: string; pushDown?: string; http: { display: string } }[] }, push: boolean): void {
  const bad = remotes.list.filter((r) => r.down !== undefined || (push && r.pushDown !== undefined));
  if (bad.length > 0) throw new KilnError('remote-failed', `the remote cache ${bad.map((r) => `${r.http.display} (${r.down ?? r.pushDown})`).join(', ')} failed`, 'check that the server is up and reachable, then run the command again');
}

export function registerRemote(program: Command): void {
  const artifact = program.commands.find((c) => c.name() === 'artifact') ?? program.command('artifact').description('artifact cache commands (2.x spelling)');
  artifact
    .command('push')
    .description('push cached artifacts to the remote caches that accept pushes (only blobs they lack are sent)')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none, run, build or all', 'none')
    .action(async (names: string[], opts: Opts, cmd: Command) => {
      const { p, remotes, elements } = await open(cmd, names, opts.deps);
      try {
        if (remotes.pushable.length === 0) throw new KilnError('no-remote', 'no configured remote cache accepts pushes', 'set `push: true` on one, or give --remote URL');
        const { pushArtifact } = await import('../../pipeline/remote/index.js');
        const missing: Element[] = [];
        for (const e of elements) {
          const ref = p.session.ref(e);
          if (!ref || !p.session.isCached(e)) {
            missing.push(e);
            continue;
          }
          for (const r of await pushArtifact(remotes, p.session.cache.artifacts, ref)) {
            process.stdout.write(`[push] ${e.name}: ${r.remote}: sent ${r.sent} blob(s), ${formatBytes(r.bytes)} (${r.present} already there)\n`);
          }
        }
        given(remotes, true);
        if (missing.length > 0) throw new KilnError('not-cached', `not in the local cache, so not pushed: ${missing.map((e) => e.name).join(', ')}`, `build them first: kiln build ${missing.map((e) => e.name).join(' ')}`);
      } finally {
        p.session.close();
        remotes.close();
      }
    });

  artifact
    .command('pull')
    .description('pull artifacts from the remote caches into the local cache (every blob verified)')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none, run, build or all', 'none')
    .action(async (names: string[], opts: Opts, cmd: Command) => {
      const { p, remotes, elements } = await open(cmd, names, opts.deps);
      try {
        const { pullArtifact } = await import('../../pipeline/remote/index.js');
        const absent: Element[] = [];
        for (const e of elements) {
          const ref = p.session.ref(e);
          if (!ref) throw new KilnError('no-ref', `${e.name} has sources without a ref, so it has no cache key`, `track it first: kiln track ${e.name}`);
          if (p.session.isCached(e)) {
            process.stdout.write(`[pull] ${e.name}: already cached\n`);
            continue;
          }
          const r = await pullArtifact(remotes, p.session.cache.artifacts, ref);
          if (r) process.stdout.write(`[pull] ${e.name}: from ${r.remote}: ${r.blobs} blob(s), ${formatBytes(r.bytes)} (${r.present} already cached)\n`);
          else absent.push(e);
        }
        given(remotes, false);
        if (absent.length > 0) throw new KilnError('not-on-remote', `no remote cache has: ${absent.map((e) => e.name).join(', ')}`, 'build them (kiln build pushes what it builds when a remote has push: true)');
      } finally {
        p.session.close();
        remotes.close();
      }
    });

  const source = program.commands.find((c) => c.name() === 'source') ?? program.command('source').description('source cache commands (2.x spelling)');
  source
    .command('push')
    .description('push the pinned source files (tarballs, .debs, Debian source files) in the source cache to the remote caches, by sha256')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none, run, build or all', 'none')
    .action(async (names: string[], opts: Opts, cmd: Command) => {
      const { p, remotes, elements } = await open(cmd, names, opts.deps);
      try {
        if (remotes.pushable.length === 0) throw new KilnError('no-remote', 'no configured remote cache accepts pushes', 'set `push: true` on one, or give --remote URL');
        const { pushSourceFiles, sourceFiles } = await import('../../pipeline/remote/index.js');
        const ctx = p.session.sourceContext;
        const uncached = elements.filter((e) => !p.session.sourcesCached(e));
        for (const e of elements) {
          const sources = p.session.sources(e);
          if (sourceFiles(sources, ctx).length === 0) continue;
          for (const r of await pushSourceFiles(remotes, sources, ctx)) {
            process.stdout.write(`[push] ${e.name}: sources: ${r.remote}: sent ${r.sent} file(s), ${formatBytes(r.bytes)} (${r.present} already there)\n`);
          }
        }
        given(remotes, true);
        if (uncached.length > 0) throw new KilnError('not-cached', `sources not in the local source cache, so not pushed: ${uncached.map((e) => e.name).join(', ')}`, `fetch them first: kiln fetch --deps none ${uncached.map((e) => e.name).join(' ')}`);
      } finally {
        p.session.close();
        remotes.close();
      }
    });
}
