import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Selection } from '../../pipeline/pipeline.js';
import { globalOptions } from '../context.js';
import { positiveInt, repeatable } from '../inputs.js';
import { LiveLine } from '../live.js';
import { refChangeLines } from '../pins.js';

/**
 * `kiln fetch [--deps none|plan|all] [--track] [--except E] ELEMENT...`: downloads the exact refs
 * into the source cache and verifies them, several at once. `plan` (the default) fetches only
 * for elements that have to be built.
 */

interface FetchOptions {
  deps: string;
  except: string[];
  track?: boolean;
  fetchers: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerFetch(program: Command): void {
  program
    .command('fetch')
    .description('download the sources of elements into the source cache')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none, plan (elements that need building) or all', 'plan')
    .option('--except <element>', 'leave this element out (repeatable)', repeatable, [])
    .option('--track', 'track the selected elements first (writes new refs)')
    .option('--fetchers <n>', 'downloads at once', '4')
    .option('--json', 'print what was fetched as JSON')
    .option('-q, --quiet', 'no progress line')
    .option('-v, --verbose', 'progress lines now and then when not on a terminal')
    .action(async (names: string[], opts: FetchOptions, cmd: Command) => {
      if (!['none', 'plan', 'all'].includes(opts.deps)) throw new KilnError('bad-option', `--deps must be none, plan or all, not '${opts.deps}'`);
      const jobs = positiveInt(opts.fetchers, '--fetchers');
      const g = await globalOptions(cmd);
      const { openPipeline } = await import('../../pipeline/pipeline.js');
      const p = openPipeline({ projectDir: g.projectDir, cacheDir: g.cacheDir, targets: names, ...g.pipeline });
      // remote caches are the last origin of pinned files no other origin has
      p.connectRemotes(g.remotes, { warn: (m) => process.stderr.write(`WARNING ${m}\n`) });
      const out = opts.json ? process.stderr : process.stdout;
      try {
        if (opts.track) {
          // `plan` needs keys, which need refs: track everything the targets reach first
          await p.track(p.select(opts.deps === 'none' ? 'none' : 'all', opts.except), 'track', {
            jobs,
            onResult: (r) => {
              for (const line of refChangeLines(r, 'track')) out.write(`${line}\n`);
            },
          });
        }
        const selected = p.select(opts.deps as Selection, opts.except);
        let fetched = 0;
        const live = new LiveLine('fetch', opts);
        const results = await p.fetch(selected, {
          jobs,
          onResult: (r, count) => {
            if (r.outcome === 'fetched') {
              fetched++;
              live.stop();
              out.write(`[fetch] ${r.source.label}: fetched\n`);
            }
            live.step(count.done, count.total, 'sources');
          },
        });
        live.stop();
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify(
              results.map((r) => ({ element: r.element.name, source: r.source.decl.index, kind: r.source.kind, outcome: r.outcome })),
              null,
              2,
            )}\n`,
          );
        } else out.write(`fetch: ${selected.length} element(s), ${fetched} source(s) downloaded, ${results.length - fetched} already cached\n`);
      } finally {
        p.close();
      }
    });
}
