import type { Element, ElementPhase } from '../pipeline/pipeline.js';

/**
 * Build progress for people: on a terminal, a live block at the bottom (how many elements are
 * waiting, fetching, building, cached, failed; the elapsed time; each running build's current
 * command) with finished events scrolling above it. Elsewhere, one plain line per event in
 * BuildStream's log format: `[HH:MM:SS][key8][action:element] TYPE text`.
 */

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

type Counted = 'waiting' | 'fetching' | 'building' | 'cached' | 'failed' | 'skipped';

/** hh:mm:ss of a duration, as the progress lines show elapsed times. */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

export class Progress {
  private readonly started = Date.now();
  private readonly phases = new Map<Element, Counted>();
  private readonly since = new Map<Element, number>();
  private readonly current = new Map<Element, string>();
  private readonly tty: boolean;
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private nameWidth = 30;
  /** What the session does before any element has a phase (tracking, checking pins). */
  private activity = '';

  constructor(
    private readonly out: ProgressStream,
    private readonly keyOf: (e: Element) => string,
    options: { tty?: boolean } = {},
  ) {
    this.tty = options.tty ?? Boolean(out.isTTY);
    if (this.tty) {
      this.timer = setInterval(() => this.redraw(), 250);
      this.timer.unref();
    }
  }

  /** Pads element names to the longest in the pipeline (BuildStream's log columns). */
  setElements(elements: Element[]): void {
    this.nameWidth = Math.max(10, ...elements.map((e) => e.name.length));
  }

  private line(e: Element | undefined, action: string, type: string, text: string, elapsed?: number): string {
    const time = elapsed === undefined ? '--:--:--' : clock(elapsed);
    const key = e ? this.keyOf(e) : '';
    const name = e ? e.name.padEnd(this.nameWidth) : '';
    return `[${time}][${key}][${action.padStart(5)}:${name}] ${type.padEnd(7)} ${text}`;
  }

  /** A finished line: printed above the live block (or plainly). */
  message(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    this.redraw();
  }

  info(text: string): void {
    this.message(this.line(undefined, 'main', 'INFO', text));
  }

  /** Shown in the live line until the elements start (counts of zero say nothing then). */
  setActivity(text: string): void {
    this.activity = text;
    this.redraw();
  }

  /** A finished line of another action (e.g. `pull`, `push`), in the same format. */
  event(e: Element | undefined, action: string, type: string, text: string, elapsedMs?: number): void {
    this.message(this.line(e, action, type, text, elapsedMs));
  }

  warning(e: Element | undefined, text: string): void {
    this.message(this.line(e, 'main', 'WARNING', text));
  }

  phase(e: Element, phase: ElementPhase): void {
    const before = this.phases.get(e);
    this.phases.set(e, phase);
    const elapsed = Date.now() - (this.since.get(e) ?? Date.now());
    switch (phase) {
      case 'fetching':
        this.since.set(e, Date.now());
        this.message(this.line(e, 'fetch', 'START', 'Fetching sources'));
        break;
      case 'building':
        this.since.set(e, Date.now());
        this.current.delete(e);
        this.message(this.line(e, 'build', 'START', `Building ${e.name}`));
        break;
      case 'cached':
        this.current.delete(e);
        this.message(this.line(e, 'build', 'SUCCESS', `Built ${e.name}`, elapsed));
        break;
      case 'failed':
        this.current.delete(e);
        this.message(
          this.line(e, before === 'fetching' ? 'fetch' : 'build', 'FAILURE', `${before === 'fetching' ? 'Fetch' : 'Build'} of ${e.name} failed`, elapsed),
        );
        break;
      case 'skipped':
        this.message(this.line(e, 'build', 'SKIPPED', `${e.name}: a dependency failed`));
        break;
      case 'waiting':
        if (before === 'fetching') this.message(this.line(e, 'fetch', 'SUCCESS', 'Fetched sources', elapsed));
        break;
    }
  }

  status(e: Element, text: string): void {
    this.current.set(e, text);
    if (!this.tty) this.out.write(`${this.line(e, this.phases.get(e) === 'fetching' ? 'fetch' : 'build', 'STATUS', text)}\n`);
  }

  private clear(): void {
    if (!this.tty || this.drawn === 0) return;
    this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private redraw(): void {
    if (!this.tty) return;
    this.clear();
    const counts: Record<Counted, number> = { waiting: 0, fetching: 0, building: 0, cached: 0, failed: 0, skipped: 0 };
    for (const p of this.phases.values()) counts[p]++;
    const width = Math.max(40, (this.out.columns || 100) - 1);
    const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
    const elapsed = `[${clock(Date.now() - this.started)}]`;
    const lines = [
      this.phases.size === 0 && this.activity !== ''
        ? cut(`${elapsed} ${this.activity}`)
        : cut(
            `${elapsed} ${counts.waiting} waiting, ${counts.fetching} fetching, ${counts.building} building, ${counts.cached} cached${counts.failed ? `, ${counts.failed} failed` : ''}${counts.skipped ? `, ${counts.skipped} skipped` : ''}`,
          ),
    ];
    for (const [e, p] of this.phases) {
      if (p !== 'building' && p !== 'fetching') continue;
      const t = clock(Date.now() - (this.since.get(e) ?? Date.now()));
      lines.push(cut(`  ${p} ${e.name} [${t}] ${(this.current.get(e) ?? '').replace(/\s+/g, ' ')}`));
    }
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  /** Stops the live display (leaves the final counts on screen). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.redraw();
    this.drawn = 0;
  }
}
