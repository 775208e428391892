import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Element, Pipeline, Selection } from '../../pipeline/pipeline.js';
import { globalOptions } from '../context.js';
import { formatBytes } from '../remote.js';

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

/** Opens the pipeline with its remote caches, runs one transfer over the elements `deps` selects, closes. */
async function transfer(cmd: Command, names: string[], deps: string, run: (p: Pipeline, elements: Element[]) => Promise<void>): Promise<void> {
  if (!DEPS.includes(deps)) throw new KilnError('bad-option', `--deps must be one of ${DEPS.join(', ')}, not '${deps}'`);
  const g = await globalOptions(cmd);
  const { openPipeline } = await import('../../pipeline/pipeline.js');
  const warn = (m: string): void => {
    process.stderr.write(`WARNING ${m}\n`);
  };
  const p = openPipeline({
    projectDir: g.projectDir,
    cacheDir: g.cacheDir,
    targets: names,
    ...g.pipeline,
    warn: (e, m) => warn(`${e ? `${e.name}: ` : ''}${m}`),
  });
  try {
    p.connectRemotes(g.remotes, { warn });
    await run(p, p.select(deps as Selection));
  } finally {
    p.close();
  }
}

export function registerRemote(program: Command): void {
  const artifact = program.commands.find((c) => c.name() === 'artifact') ?? program.command('artifact').description('artifact cache commands (2.x spelling)');
  artifact
    .command('push')
    .description('push cached artifacts to the remote caches that accept pushes (only blobs they lack are sent)')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none, run, build or all', 'none')
    .action((names: string[], opts: Opts, cmd: Command) =>
      transfer(cmd, names, opts.deps, (p, elements) =>
        p.pushArtifacts(elements, {
          pushed: (e, r) =>
            process.stdout.write(`[push] ${e.name}: ${r.remote}: sent ${r.sent} blob(s), ${formatBytes(r.bytes)} (${r.present} already there)\n`),
        }),
      ),
    );

  artifact
    .command('pull')
    .description('pull artifacts from the remote caches into the local cache (every blob verified)')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none, run, build or all', 'none')
    .action((names: string[], opts: Opts, cmd: Command) =>
      transfer(cmd, names, opts.deps, (p, elements) =>
        p.pullArtifacts(elements, {
          cached: (e) => process.stdout.write(`[pull] ${e.name}: already cached\n`),
          pulled: (e, r) =>
            process.stdout.write(`[pull] ${e.name}: from ${r.remote}: ${r.blobs} blob(s), ${formatBytes(r.bytes)} (${r.present} already cached)\n`),
        }),
      ),
    );

  const source = program.commands.find((c) => c.name() === 'source') ?? program.command('source').description('source cache commands (2.x spelling)');
  source
    .command('push')
    .description('push the pinned source files (tarballs, .debs, Debian source files) in the source cache to the remote caches, by sha256')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none, run, build or all', 'none')
    .action((names: string[], opts: Opts, cmd: Command) =>
      transfer(cmd, names, opts.deps, (p, elements) =>
        p.pushSources(elements, {
          pushed: (e, r) =>
            process.stdout.write(`[push] ${e.name}: sources: ${r.remote}: sent ${r.sent} file(s), ${formatBytes(r.bytes)} (${r.present} already there)\n`),
        }),
      ),
    );
}
