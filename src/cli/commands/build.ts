import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { BuildReport, Element } from '../../pipeline/pipeline.js';
import { globalOptions } from '../context.js';
import { positiveInt, repeatable } from '../inputs.js';
import { refChangeLines } from '../pins.js';
import { checkpoint } from '../checkpoint.js';
import { clock, Progress } from '../progress.js';
import { formatBytes, remoteSummaryLines, throttle, transferText } from '../remote.js';
import { formatElement, DEFAULT_SHOW_FORMAT } from './show.js';

/**
 * `kiln build ELEMENT...`: load, compute keys, fetch what the plan needs, build it with
 * parallel builders, and print a summary. A failed build prints the end of its log and the
 * log's path, and the command exits non-zero.
 */

interface BuildOptions {
  builders: string;
  onError: string;
  track: string[];
  trackAll?: boolean;
  trackExcept: string[];
  trackSave?: boolean;
  fixMissing?: boolean;
  json?: boolean;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build elements and their dependencies into the artifact cache')
    .argument('[elements...]', 'element names (relative to element-path)')
    .option('--builders <n>', 'how many elements build at once', '2')
    .option('--on-error <mode>', 'after a failure: quit (finish running builds, start nothing new) or continue', 'quit')
    .option('--track <element>', "track this element's sources first and save the new refs (repeatable)", repeatable, [])
    .option('--track-all', 'track every element of the pipeline first')
    .option('--track-except <element>', 'with --track-all: leave this element out (repeatable)', repeatable, [])
    .option('--track-save', 'accepted for BuildStream 1.x compatibility: tracked refs are always saved')
    .option('--fix-missing', 'before building, re-pin only the pinned files the archive no longer offers (as kiln track --fix-missing)')
    .option('--json', 'print the summary as JSON on stdout (progress goes to stderr)')
    .action(async (names: string[], opts: BuildOptions, cmd: Command) => {
      const builders = positiveInt(opts.builders, '--builders');
      if (opts.onError !== 'quit' && opts.onError !== 'continue')
        throw new KilnError('bad-option', `--on-error must be quit or continue, not '${opts.onError}'`);
      if (opts.trackExcept.length > 0 && !opts.trackAll) throw new KilnError('bad-option', '--track-except needs --track-all');
      const g = await globalOptions(cmd);
      // Loaded on use, so other commands do not pay for the pipeline's modules.
      const { openPipeline } = await import('../../pipeline/pipeline.js');
      const out = opts.json ? process.stderr : process.stdout;
      let progress: Progress | undefined;
      const p = openPipeline({
        projectDir: g.projectDir,
        cacheDir: g.cacheDir,
        // as bst 1.x: `build --track E` with no other element builds what it tracks
        targets: names.length > 0 ? names : opts.track,
        ...g.pipeline,
        warn: (e: Element | undefined, m: string) => (progress ? progress.warning(e, m) : process.stderr.write(`WARNING ${e ? `${e.name}: ` : ''}${m}\n`)),
      });
      progress = new Progress(out, (e) => p.shortKey(e));
      progress.setElements(p.all);
      const started = Date.now();
      let report: BuildReport;
      const remotes = p.connectRemotes(g.remotes, {
        warn: (m) => progress!.warning(undefined, m),
        progress: throttle(() => progress!.setActivity(`pulling: ${transferText(remotes!.pulled)}`)),
      });
      try {
        const toTrack = opts.trackAll ? p.select('all', opts.trackExcept) : p.elements(opts.track);
        // the elements of the current fix-missing round
        let checking = 0;
        report = await p.build({
          builders,
          onError: opts.onError,
          track: toTrack,
          fixMissing: opts.fixMissing === true,
          events: {
            pinning: (mode, elements) => {
              if (mode === 'track') progress!.setActivity(`tracking ${elements.length} element(s)`);
              else {
                checking = elements.length;
                progress!.info(`fix-missing: checking that the pinned files of ${checking} element(s) to build can still be fetched`);
                progress!.setActivity(`fix-missing: checking pins of ${checking} element(s)`);
              }
            },
            refUpdated: (mode, r, count) => {
              refChangeLines(r, mode).forEach((l) => progress!.message(l));
              progress!.setActivity(
                mode === 'track'
                  ? `tracking ${toTrack.length} element(s): ${count.done} source(s) done`
                  : `fix-missing: checking pins of ${checking} element(s): ${count.done} source(s) checked`,
              );
            },
            pinned: (mode, updates) => {
              const changed = updates.filter((r) => r.changed).length;
              progress!.info(
                mode === 'track'
                  ? `tracked ${toTrack.length} element(s): ${changed} ref(s) changed`
                  : `fix-missing: ${changed === 0 ? 'every pin is still available' : `${changed} source(s) re-pinned`}`,
              );
            },
            planned: () => {
              out.write(`kiln build: project ${p.project.name} (${p.project.directory})\ntargets: ${p.targets.map((t) => t.name).join(' ')}\n\nPipeline\n`);
              for (const e of p.all) out.write(`${formatElement(p, e, DEFAULT_SHOW_FORMAT)}\n`);
              out.write(`${'='.repeat(70)}\n`);
              checkpoint();
            },
            // with remote caches: what the plan needs is pulled first; what is pulled is not built
            pulling: (targets) => progress!.setActivity(`asking the remote cache for ${targets.map((e) => e.name).join(', ')}`),
            pulled: (e, r, ms) =>
              progress!.event(
                e,
                'pull',
                'SUCCESS',
                `Pulled ${e.name} from ${r.remote}: ${r.blobs} blob(s), ${formatBytes(r.bytes)}${r.present > 0 ? ` (${r.present} already cached)` : ''}`,
                ms,
              ),
            pullDone: (pulled) => progress!.setActivity(`pulled ${pulled.length} element(s): ${transferText(remotes!.pulled)}`),
            pushed: (e, r, ms) =>
              progress!.event(
                e,
                'push',
                'SUCCESS',
                `Pushed ${e.name} to ${r.remote}: sent ${r.sent} blob(s), ${formatBytes(r.bytes)} (${r.present} already there)`,
                ms,
              ),
            pushFailed: (e, err) => progress!.warning(e, `could not push ${e.name}: ${err.message}`),
            phase: (e, ph) => progress!.phase(e, ph),
            status: (e, m) => progress!.status(e, m),
            failure: (f) => {
              const tail = f.tail.length > 0 ? `\n${f.tail.map((l) => `    ${l}`).join('\n')}` : '';
              // the cause's hint says what to do (e.g. how to re-pin what the archive dropped)
              const hint = f.reason instanceof KilnError && f.reason.hint ? `\n  hint: ${f.reason.hint}` : '';
              progress!.message(`\n${f.element.name} failed: ${f.message.replace(`${f.element.name}: `, '')}${tail}${hint}\n  build log: ${f.logPath}\n`);
            },
          },
        });
      } finally {
        progress.stop();
        p.close();
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ built: report.built.map((e) => e.name), failed: report.failed.map((f) => ({ name: f.element.name, log: f.logPath, message: f.message })), skipped: report.skipped.map((e) => e.name), seconds: Number(seconds), 'build-seconds': Object.fromEntries([...report.seconds].map(([e, s]) => [e.name, Number(s.toFixed(1))])) }, null, 2)}\n`,
        );
      }
      out.write(
        `\nPipeline Summary\n  Total:   ${p.all.length} elements\n  Session: ${seconds}s\n  Build queue: processed ${report.built.length}, skipped ${p.all.length - report.built.length - report.failed.length}, failed ${report.failed.length}\n${buildTimes(report)}${report.remote && remotes ? `${remoteSummaryLines(report.remote, remotes).join('\n')}\n` : ''}`,
      );
      if (report.failed.length > 0) {
        const hints = [...new Set(report.failed.flatMap((f) => (f.reason instanceof KilnError && f.reason.hint ? [f.reason.hint] : [])))];
        throw new KilnError(
          'build-failed',
          `${report.failed.length} element(s) failed to build: ${report.failed.map((f) => f.element.name).join(', ')}`,
          [...hints, `build logs: ${report.failed.map((f) => f.logPath).join(', ')}`].join('\n  hint: '),
        );
      }
    });
}

/** Each built element's time, longest first (where a cold build's time went). */
function buildTimes(report: BuildReport): string {
  const times = [...report.seconds].sort(([, a], [, b]) => b - a);
  return times.length > 0 ? `  Build times:\n${times.map(([e, s]) => `    ${clock(s * 1000)} ${e.name}`).join('\n')}\n` : '';
}
