import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Element } from '../../pipeline/model.js';
import { globalOptions } from '../context.js';
import { positiveInt } from '../inputs.js';
import { LiveLine } from '../live.js';
import { refChangeLines } from '../pins.js';
import { openRemotes } from '../remote.js';
import { selectElements, type DepsSelection } from './show.js';

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

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerFetch(program: Command): void {
  program
    .command('fetch')
    .description('download the sources of elements into the source cache')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none, plan (elements that need building) or all', 'plan')
    .option('--except <element>', 'leave this element out (repeatable)', collect, [])
    .option('--track', 'track the selected elements first (writes new refs)')
    .option('--fetchers <n>', 'downloads at once', '4')
    .option('--json', 'print what was fetched as JSON')
    .option('-q, --quiet', 'no progress line')
    .option('-v, --verbose', 'progress lines now and then when not on a terminal')
    .action(async (names: string[], opts: FetchOptions, cmd: Command) => {
      if (!['none', 'plan', 'all'].includes(opts.deps)) throw new KilnError('bad-option', `--deps must be none, plan or all, not '${opts.deps}'`);
      const jobs = positiveInt(opts.fetchers, '--fetchers');
      const g = await globalOptions(cmd);
      const [{ openPipeline }, { updateRefs }, { fetchElements, describeRefChange }] = await Promise.all([
        import('../../pipeline/plan/open.js'),
        import('../../pipeline/plan/pin.js'),
        import('../../pipeline/sources/index.js'),
      ]);
      const p = openPipeline({ projectDir: g.projectDir, cacheDir: g.cacheDir, targets: names, ...g.pipeline });
      const { session } = p;
      // remote caches are the last origin of pinned files no other origin has
      const remotes = await openRemotes(g, p.loaded.project, session, { warn: (m) => process.stderr.write(`WARNING ${m}\n`) });
      const except = new Set(opts.except.map((n) => n.replace(/^\.\//, '')));
      const out = opts.json ? process.stderr : process.stdout;
      try {
        session.cleanStale();
        const select = (): Element[] => selectElements(p, opts.deps as DepsSelection).filter((e) => !except.has(e.name));
        if (opts.track) {
          // `plan` needs keys, which need refs: track everything the targets reach first
          const toTrack = opts.deps === 'none' ? p.targets : selectElements(p, 'all');
          await updateRefs(session, toTrack.filter((e) => !except.has(e.name)), 'track', {
            jobs,
            onResult: (r) => {
              for (const line of refChangeLines(r, describeRefChange, 'track')) out.write(`${line}\n`);
            },
          });
        }
        const selected = select();
        let fetched = 0;
        const live = new LiveLine('fetch', opts);
        const total = selected.reduce((n, e) => n + session.sources(e).length, 0);
        let done = 0;
        const results = await fetchElements(selected, (e) => session.sources(e), session.sourceContext, {
          jobs,
          onResult: (r) => {
            if (r.outcome === 'fetched') {
              fetched++;
              live.stop();
              out.write(`[fetch] ${r.source.label}: fetched\n`);
            }
            live.step(++done, total, 'sources');
          },
        });
        live.stop();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(results.map((r) => ({ element: r.element.name, source: r.source.decl.index, kind: r.source.kind, outcome: r.outcome })), null, 2)}\n`);
        } else out.write(`fetch: ${selected.length} element(s), ${fetched} source(s) downloaded, ${results.length - fetched} already cached\n`);
      } finally {
        session.close();
        remotes?.close();
      }
    });
}
