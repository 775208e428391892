import { KilnError } from '../../errors.js';
import type { Element } from '../model.js';
import { scope } from '../scope.js';
import { BuildFailure, buildElement } from './builder.js';
import type { Session } from './session.js';

/**
 * Runs a build plan: first every missing source is fetched (in parallel), then elements build in
 * parallel up to `builders`, each as soon as everything in its BUILD scope is cached.
 * `onError: quit` starts nothing new after a failure (running builds finish); `continue` keeps
 * building whatever does not depend on the failure.
 */

export type ElementPhase = 'waiting' | 'fetching' | 'building' | 'cached' | 'failed' | 'skipped';

export interface SchedulerEvents {
  phase?(element: Element, phase: ElementPhase): void;
  status?(element: Element, message: string): void;
  failure?(failure: BuildFailure): void;
}

export interface SchedulerOptions {
  builders: number;
  fetchers?: number;
  onError: 'quit' | 'continue';
  events?: SchedulerEvents;
}

export interface BuildSummary {
  built: Element[];
  failed: BuildFailure[];
  skipped: Element[];
  fetched: Element[];
  /** Seconds each built element took, from the start of its build to its artifact being cached. */
  seconds: Map<Element, number>;
}

/** Runs `task` over `items` with at most `limit` at once; stops taking new items once `stop()`. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>, stop: () => boolean): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop()) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function asFailure(element: Element, e: unknown): BuildFailure {
  if (e instanceof BuildFailure) return e;
  return new BuildFailure(element, '(no log: the failure happened before the build started)', e, []);
}

export async function runPlan(session: Session, plan: Element[], options: SchedulerOptions): Promise<BuildSummary> {
  const ev = options.events ?? {};
  const summary: BuildSummary = { built: [], failed: [], skipped: [], fetched: [], seconds: new Map() };
  const failed = new Set<Element>();
  let stopped = false;
  const fail = (f: BuildFailure): void => {
    failed.add(f.element);
    summary.failed.push(f);
    ev.phase?.(f.element, 'failed');
    ev.failure?.(f);
    if (options.onError === 'quit') stopped = true;
  };
  for (const e of plan) ev.phase?.(e, 'waiting');

  // Fetch first: every source of a planned element that is not in the source cache.
  const toFetch = plan.filter((e) => !session.sourcesCached(e));
  await pool(
    toFetch,
    options.fetchers ?? Math.max(2, options.builders),
    async (e) => {
      ev.phase?.(e, 'fetching');
      try {
        for (const s of session.sources(e)) {
          if (s.isCached(session.sourceContext)) continue;
          ev.status?.(e, `Fetching ${s.label}`);
          await s.fetch(session.sourceContext);
        }
        summary.fetched.push(e);
        ev.phase?.(e, 'waiting');
      } catch (err) {
        fail(asFailure(e, err));
      }
    },
    () => stopped,
  );

  // Build: start what is ready, up to `builders` at once. A build that is storing its artifact
  // (hashing, syncing: waiting on the disk, for minutes while other builds write gigabytes) no
  // longer holds a builder, so an independent element starts meanwhile.
  const pending = plan.filter((e) => !failed.has(e));
  const running = new Map<Element, Promise<void>>();
  const busy = new Set<Element>();
  let wake = (): void => {};
  const blocked = (e: Element): boolean => scope(e, 'build').some((d) => failed.has(d) || summary.skipped.includes(d));
  const ready = (e: Element): boolean => scope(e, 'build').every((d) => session.isCached(d));
  for (;;) {
    if (!stopped) {
      for (let i = 0; i < pending.length && busy.size < options.builders; ) {
        const e = pending[i]!;
        if (blocked(e)) {
          pending.splice(i, 1);
          summary.skipped.push(e);
          ev.phase?.(e, 'skipped');
          continue;
        }
        if (!ready(e)) {
          i++;
          continue;
        }
        pending.splice(i, 1);
        ev.phase?.(e, 'building');
        const started = performance.now();
        busy.add(e);
        const release = (): void => {
          busy.delete(e);
          wake();
        };
        const job = buildElement(session, e, { status: (el, m) => ev.status?.(el, m), caching: release }).then(
          () => {
            summary.built.push(e);
            summary.seconds.set(e, (performance.now() - started) / 1000);
            ev.phase?.(e, 'cached');
          },
          (err: unknown) => fail(asFailure(e, err)),
        );
        running.set(
          e,
          job.finally(() => {
            running.delete(e);
            release();
          }),
        );
      }
    }
    if (running.size === 0) break;
    await Promise.race([...running.values(), new Promise<void>((resolve) => (wake = resolve))]);
  }
  for (const e of pending) {
    summary.skipped.push(e);
    ev.phase?.(e, 'skipped');
  }
  if (!stopped && summary.failed.length === 0 && summary.skipped.length > 0) {
    throw new KilnError('plan-stuck', `could not build: ${summary.skipped.map((e) => e.name).join(', ')} (their dependencies never became cached)`);
  }
  return summary;
}
