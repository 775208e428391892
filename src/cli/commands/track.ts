import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Selection } from '../../pipeline/pipeline.js';
import { globalOptions } from '../context.js';
import { positiveInt, repeatable } from '../inputs.js';
import { LiveLine } from '../live.js';
import { refChangeLines } from '../pins.js';

/**
 * `kiln track [--deps none|all] [--except E] [--fix-missing] ELEMENT...`: computes new refs
 * (tar/remote: download and sha256; deb: the closure apt resolves now) and writes the changed ones
 * where the project keeps refs (inline in the .bst, keeping comments, or project.refs). With
 * `--fix-missing` every pin stays except those no origin offers any more.
 */

interface TrackOptions {
  deps: string;
  except: string[];
  fetchers: string;
  fixMissing?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerTrack(program: Command): void {
  program
    .command('track')
    .description('compute new source refs and write them to the project')
    .argument('<elements...>', 'element names (relative to element-path)')
    .option('--deps <which>', 'none (the elements) or all (everything they depend on too)', 'none')
    .option('--except <element>', 'leave this element out (repeatable)', repeatable, [])
    .option('--fix-missing', 'keep every pin that can still be fetched; re-pin only what the archive dropped (and fetch)')
    .option('--fetchers <n>', 'downloads at once', '4')
    .option('--json', 'print what changed as JSON')
    .option('-q, --quiet', 'no progress line')
    .option('-v, --verbose', 'progress lines now and then when not on a terminal')
    .action(async (names: string[], opts: TrackOptions, cmd: Command) => {
      if (opts.deps !== 'none' && opts.deps !== 'all') throw new KilnError('bad-option', `--deps must be none or all, not '${opts.deps}'`);
      const jobs = positiveInt(opts.fetchers, '--fetchers');
      const g = await globalOptions(cmd);
      const { openPipeline } = await import('../../pipeline/pipeline.js');
      const p = openPipeline({ projectDir: g.projectDir, cacheDir: g.cacheDir, targets: names, ...g.pipeline });
      const selected = p.select(opts.deps as Selection, opts.except);
      const out = opts.json ? process.stderr : process.stdout;
      const verb = opts.fixMissing ? 'fix-missing' : 'track';
      const live = new LiveLine(verb, opts);
      try {
        const results = await p.track(selected, verb, {
          jobs,
          onResult: (r, count) => {
            live.stop();
            for (const line of refChangeLines(r, verb)) out.write(`${line}\n`);
            live.step(count.done, count.total, 'sources');
          },
        });
        live.stop();
        const changed = results.filter((r) => r.changed);
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify(
              results
                .filter((r) => r.ref !== undefined)
                .map((r) => ({
                  element: r.element.name,
                  source: r.source.decl.index,
                  kind: r.source.kind,
                  ref: r.ref,
                  old: r.old ?? null,
                  changed: r.changed,
                  changes: r.changes,
                })),
              null,
              2,
            )}\n`,
          );
        } else if (opts.fixMissing) {
          out.write(
            `fix-missing: ${selected.length} element(s): ${changed.length === 0 ? 'every pin is still available' : `${changed.length} source(s) re-pinned`}\n`,
          );
        } else out.write(`tracked ${selected.length} element(s): ${changed.length} ref(s) changed\n`);
      } finally {
        p.close();
      }
    });
}
