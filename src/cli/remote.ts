import type { Element } from '../pipeline/model.js';
import type { Project } from '../pipeline/model.js';
import type { Session } from '../pipeline/plan/session.js';
import type { Remotes, Transfer } from '../pipeline/remote/index.js';
import type { GlobalOptions } from './context.js';

/**
 * The remote caches of a CLI run: from `--remote`, the user configuration and project.conf.
 * Undefined when none is configured. Pinned source files are then also asked of them (the last
 * origin of a fetch).
 */
export async function openRemotes(g: GlobalOptions, project: Project, session: Session, events: { warn(m: string): void; progress?(): void }): Promise<Remotes | undefined> {
  const { effectiveRemotes, Remotes, sourceRemote } = await import('../pipeline/remote/index.js');
  const specs = effectiveRemotes(g.remotes.cli, g.remotes.user, project.artifactRemotes ?? []);
  if (specs.length === 0) return undefined;
  const remotes = new Remotes(specs, events);
  session.sourceContext.remote = sourceRemote(remotes);
  return remotes;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** "12/40 blobs, 3.1 MiB/10 MiB" for the live line. */
export function transferText(t: Transfer): string {
  return `${t.blobs}/${t.blobsTotal} blobs, ${formatBytes(t.bytes)}/${formatBytes(t.bytesTotal)}`;
}

/** Calls `draw` at most every `ms` milliseconds (progress callbacks come per chunk). */
export function throttle(draw: () => void, ms = 200): () => void {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < ms) return;
    last = now;
    draw();
  };
}

/** What a build did with the remote caches, for its summary. */
export interface RemoteReport {
  lines(): string[];
}

interface ProgressLike {
  event(e: Element | undefined, action: string, type: string, text: string, elapsedMs?: number): void;
  warning(e: Element | undefined, text: string): void;
  setActivity(text: string): void;
}

/**
 * `kiln build` with remotes: pulls what the plan needs before building (each pulled element is
 * logged as `[pull:NAME] SUCCESS Pulled …`), and pushes every element it builds (artifact and
 * pinned source files) as soon as it is built, while other builds run.
 */
export class BuildRemotes implements RemoteReport {
  private readonly pushes: Promise<void>[] = [];
  private pullMs = 0;
  private pushStarted = 0;
  private pushEnded = 0;
  private pulledElements = 0;

  constructor(
    private readonly session: Session,
    readonly remotes: Remotes,
    private readonly progress: ProgressLike,
  ) {}

  async pull(targets: Element[]): Promise<void> {
    const { pullPlan } = await import('../pipeline/remote/index.js');
    const started = Date.now();
    const begun = new Map<Element, number>();
    const t = this.remotes.pulled;
    this.progress.setActivity(`asking the remote cache for ${targets.map((e) => e.name).join(', ')}`);
    const pulled = await pullPlan(this.session, targets, this.remotes, {
      start: (e) => begun.set(e, Date.now()),
      pulled: (e, r) =>
        this.progress.event(e, 'pull', 'SUCCESS', `Pulled ${e.name} from ${r.remote}: ${r.blobs} blob(s), ${formatBytes(r.bytes)}${r.present > 0 ? ` (${r.present} already cached)` : ''}`, Date.now() - (begun.get(e) ?? started)),
    });
    this.pullMs = Date.now() - started;
    this.pulledElements = pulled.length;
    this.progress.setActivity(`pulled ${pulled.length} element(s): ${transferText(t)}`);
  }

  /** Starts pushing a built element (never throws: trouble is a warning). */
  push(e: Element): void {
    if (this.remotes.pushable.length === 0) return;
    const ref = this.session.ref(e);
    if (!ref) return;
    if (this.pushStarted === 0) this.pushStarted = Date.now();
    const job = (async () => {
      const { pushArtifact, pushSourceFiles } = await import('../pipeline/remote/index.js');
      const began = Date.now();
      try {
        const results = await pushArtifact(this.remotes, this.session.cache.artifacts, ref);
        for (const r of results) this.progress.event(e, 'push', 'SUCCESS', `Pushed ${e.name} to ${r.remote}: sent ${r.sent} blob(s), ${formatBytes(r.bytes)} (${r.present} already there)`, Date.now() - began);
        await pushSourceFiles(this.remotes, this.session.sources(e), this.session.sourceContext);
      } catch (err) {
        this.progress.warning(e, `could not push ${e.name}: ${(err as Error).message}`);
      } finally {
        this.pushEnded = Date.now();
      }
    })();
    this.pushes.push(job);
  }

  async done(): Promise<void> {
    await Promise.all(this.pushes);
  }

  lines(): string[] {
    const out: string[] = [];
    const p = this.remotes.pulled;
    const q = this.remotes.pushed;
    const down = this.remotes.list.filter((r) => r.down !== undefined).map((r) => r.http.display);
    out.push(`  Remote:  pulled ${this.pulledElements} element(s), ${p.blobs} blob(s), ${formatBytes(p.bytes)} in ${(this.pullMs / 1000).toFixed(1)}s`);
    if (this.pushes.length > 0) out.push(`           pushed ${q.elements} element(s): ${q.blobs} blob(s) checked, ${formatBytes(q.bytes)} sent in ${((this.pushEnded - this.pushStarted) / 1000).toFixed(1)}s`);
    if (down.length > 0) out.push(`           given up: ${down.join(', ')} (see the warning above)`);
    return out;
  }
}
