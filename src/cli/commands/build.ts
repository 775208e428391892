import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Element } from '../../pipeline/model.js';
import { shortKey } from '../../pipeline/plan/keys.js';
import type { BuildSummary } from '../../pipeline/plan/scheduler.js';
import { globalOptions } from '../context.js';
import { positiveInt } from '../inputs.js';
import { refChangeLines } from '../pins.js';
import { Progress } from '../progress.js';
import { BuildRemotes, openRemotes, throttle, transferText } from '../remote.js';
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

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build elements and their dependencies into the artifact cache')
    .argument('[elements...]', 'element names (relative to element-path)')
    .option('--builders <n>', 'how many elements build at once', '2')
    .option('--on-error <mode>', 'after a failure: quit (finish running builds, start nothing new) or continue', 'quit')
    .option('--track <element>', 'track this element\'s sources first and save the new refs (repeatable)', collect, [])
    .option('--track-all', 'track every element of the pipeline first')
    .option('--track-except <element>', 'with --track-all: leave this element out (repeatable)', collect, [])
    .option('--track-save', 'accepted for BuildStream 1.x compatibility: tracked refs are always saved')
    .option('--fix-missing', 'before building, re-pin only the pinned files the archive no longer offers (as kiln track --fix-missing)')
    .option('--json', 'print the summary as JSON on stdout (progress goes to stderr)')
    .action(async (names: string[], opts: BuildOptions, cmd: Command) => {
      const builders = positiveInt(opts.builders, '--builders');
      if (opts.onError !== 'quit' && opts.onError !== 'continue') throw new KilnError('bad-option', `--on-error must be quit or continue, not '${opts.onError}'`);
      if (opts.trackExcept.length > 0 && !opts.trackAll) throw new KilnError('bad-option', '--track-except needs --track-all');
      const trackExcept = new Set(opts.trackExcept.map((n) => n.replace(/^\.\//, '')));
      const g = await globalOptions(cmd);
      // Loaded on use, so other commands do not pay for the pipeline's modules.
      const [{ openPipeline }, { buildPlan }, { runPlan }, { updateRefs }, { describeRefChange }] = await Promise.all([
        import('../../pipeline/plan/open.js'),
        import('../../pipeline/plan/plan.js'),
        import('../../pipeline/plan/scheduler.js'),
        import('../../pipeline/plan/pin.js'),
        import('../../pipeline/sources/index.js'),
      ]);
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
      const { session } = p;
      progress = new Progress(out, (e) => shortKey(session.keys(e).strong));
      progress.setElements(p.all);
      session.cleanStale();
      const started = Date.now();
      let summary: BuildSummary;
      let shared: BuildRemotes | undefined;
      const remotes = await openRemotes(g, p.loaded.project, session, {
        warn: (m) => progress!.warning(undefined, m),
        progress: throttle(() => progress!.setActivity(`pulling: ${transferText(remotes!.pulled)}`)),
      });
      if (remotes) shared = new BuildRemotes(session, remotes, progress);
      try {
        const toTrack = opts.trackAll ? p.all.filter((e) => !trackExcept.has(e.name)) : p.loaded.elements(opts.track.map((n) => n.replace(/^\.\//, '')));
        if (toTrack.length > 0) {
          let done = 0;
          progress.setActivity(`tracking ${toTrack.length} element(s)`);
          const results = await updateRefs(session, toTrack, 'track', {
            onResult: (r) => {
              refChangeLines(r, describeRefChange, 'track').forEach((l) => progress!.message(l));
              progress!.setActivity(`tracking ${toTrack.length} element(s): ${++done} source(s) done`);
            },
          });
          progress.info(`tracked ${toTrack.length} element(s): ${results.filter((r) => r.changed).length} ref(s) changed`);
        }
        if (opts.fixMissing) {
          // Only what must be built needs its sources; a re-pin changes keys, which can put more
          // elements in the plan, so check again until the plan holds nothing unchecked.
          const checked = new Set<Element>();
          let changed = 0;
          for (let todo = buildPlan(session, p.targets); todo.length > 0; todo = buildPlan(session, p.targets).filter((e) => !checked.has(e))) {
            progress.info(`fix-missing: checking that the pinned files of ${todo.length} element(s) to build can still be fetched`);
            let done = 0;
            progress.setActivity(`fix-missing: checking pins of ${todo.length} element(s)`);
            const results = await updateRefs(session, todo, 'fix-missing', {
              onResult: (r) => {
                refChangeLines(r, describeRefChange, 'fix-missing').forEach((l) => progress!.message(l));
                progress!.setActivity(`fix-missing: checking pins of ${todo.length} element(s): ${++done} source(s) checked`);
              },
            });
            changed += results.filter((r) => r.changed).length;
            todo.forEach((e) => checked.add(e));
          }
          progress.info(`fix-missing: ${changed === 0 ? 'every pin is still available' : `${changed} source(s) re-pinned`}`);
        }
        out.write(`kiln build: project ${p.loaded.project.name} (${p.loaded.project.directory})\ntargets: ${p.targets.map((t) => t.name).join(' ')}\n\nPipeline\n`);
        for (const e of p.all) out.write(`${formatElement(session, e, DEFAULT_SHOW_FORMAT)}\n`);
        out.write(`${'='.repeat(70)}\n`);
        // with remote caches: pull what the plan needs first; what is pulled is not built
        await shared?.pull(p.targets);
        const plan = buildPlan(session, p.targets);
        summary = await runPlan(session, plan, {
          builders,
          onError: opts.onError,
          events: {
            phase: (e, ph) => {
              progress!.phase(e, ph);
              if (ph === 'cached') shared?.push(e);
            },
            status: (e, m) => progress!.status(e, m),
            failure: (f) => {
              const tail = f.tail.length > 0 ? `\n${f.tail.map((l) => `    ${l}`).join('\n')}` : '';
              // the cause's hint says what to do (e.g. how to re-pin what the archive dropped)
              const hint = f.reason instanceof KilnError && f.reason.hint ? `\n  hint: ${f.reason.hint}` : '';
              progress!.message(`\n${f.element.name} failed: ${f.message.replace(`${f.element.name}: `, '')}${tail}${hint}\n  build log: ${f.logPath}\n`);
            },
          },
        });
        await shared?.done();
      } finally {
        progress.stop();
        session.close();
        remotes?.close();
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ built: summary.built.map((e) => e.name), failed: summary.failed.map((f) => ({ name: f.element.name, log: f.logPath, message: f.message })), skipped: summary.skipped.map((e) => e.name), seconds: Number(seconds) }, null, 2)}\n`,
        );
      }
      out.write(
        `\nPipeline Summary\n  Total:   ${p.all.length} elements\n  Session: ${seconds}s\n  Build queue: processed ${summary.built.length}, skipped ${p.all.length - summary.built.length - summary.failed.length}, failed ${summary.failed.length}\n${shared ? `${shared.lines().join('\n')}\n` : ''}`,
      );
      if (summary.failed.length > 0) {
        const hints = [...new Set(summary.failed.flatMap((f) => (f.reason instanceof KilnError && f.reason.hint ? [f.reason.hint] : [])))];
        throw new KilnError(
          'build-failed',
          `${summary.failed.length} element(s) failed to build: ${summary.failed.map((f) => f.element.name).join(', ')}`,
          [...hints, `build logs: ${summary.failed.map((f) => f.logPath).join(', ')}`].join('\n  hint: '),
        );
      }
    });
}
