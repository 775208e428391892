import { parentPort } from 'node:worker_threads';
import type { FileContent } from '../fs/file-content.js';
import type { FileTree } from '../fs/tree.js';
import type { WriteProgress } from '../fs/write-control.js';
import { formatSize } from '../units.js';
import { writerJob } from './inputs.js';

/**
 * Progress of the long commands (mkfs, mkinitramfs, mkimage, checkout) for people: a live line
 * on stderr when it is a terminal (files and bytes copied of the total, rate, time left),
 * nothing elsewhere (`-v` prints a plain line every few seconds instead), nothing with `-q`.
 *
 * What is counted: the image writers' own progress (`show`, from their `onProgress`); for a
 * tar checkout, the file content read (`watchTree` wraps each regular file's content, as the
 * tar writer reports nothing); for a directory checkout, each file as it is written (`expectTree`,
 * `copied`). A writer runs in a worker thread (see `interruptible`): there the counts are posted
 * to the main thread, which draws them.
 */

export interface CopyProgress {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
}

/** How often the counts are passed on (and the line redrawn) at most. */
const TICK_MS = 100;

/** Counts the file content read out of watched trees. */
export class CopyCounter {
  readonly progress: CopyProgress = { files: 0, totalFiles: 0, bytes: 0, totalBytes: 0 };
  private last = 0;
  private readonly seen = new WeakSet<FileContent>();

  constructor(private readonly onProgress: (p: CopyProgress) => void) {}

  /** Wraps every regular file's content in `tree` (hard links: once) so that reading it counts. */
  watchTree(tree: FileTree): FileTree {
    tree.forEachInode((inode) => {
      if (inode.type === 'file' && inode.content) inode.content = this.watch(inode.content);
    });
    return tree;
  }

  /** A content whose reads count (its size joins the total). */
  watch(content: FileContent): FileContent {
    if (this.seen.has(content)) return content;
    this.progress.totalFiles++;
    this.progress.totalBytes += content.size;
    const counted: FileContent = {
      size: content.size,
      open: () => {
        const reader = content.open();
        let read = 0;
        return {
          read: (offset, into) => {
            const n = reader.read(offset, into);
            // a second reading of the same file does not count twice
            const add = Math.max(0, Math.min(n, content.size - read));
            read += add;
            this.progress.bytes += add;
            this.tick();
            return n;
          },
          close: () => {
            reader.close();
            if (read >= content.size) this.progress.files = Math.min(this.progress.totalFiles, this.progress.files + 1);
            this.tick();
          },
        };
      },
    };
    this.seen.add(counted);
    return counted;
  }

  /**
   * Adds the regular files of `tree` (hard links: once) to the totals without wrapping their
   * content, for a copier that must see the content as it is (checkout's reflinks) and reports
   * each file with `copied` instead.
   */
  expectTree(tree: FileTree): void {
    tree.forEachInode((inode) => {
      if (inode.type !== 'file' || !inode.content) return;
      this.progress.totalFiles++;
      this.progress.totalBytes += inode.content.size;
    });
  }

  /** One whole file of `bytes` copied (see `expectTree`). */
  copied(bytes: number): void {
    this.progress.files = Math.min(this.progress.totalFiles, this.progress.files + 1);
    this.progress.bytes += bytes;
    this.tick();
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.last < TICK_MS) return;
    this.last = now;
    this.onProgress({ ...this.progress });
  }

  /**
   * A writer's own progress (its `onProgress`), for a writer that reports it: no wrapper per
   * file's content (watchTree), which on a tree of 50,000 files costs megabytes and a closure
   * call per read. The last report (done equals total) is passed on at once.
   */
  show(p: WriteProgress): void {
    this.progress.files = p.filesDone;
    this.progress.totalFiles = p.filesTotal;
    this.progress.bytes = p.bytesDone;
    this.progress.totalBytes = p.bytesTotal;
    if (p.filesDone === p.filesTotal && p.bytesDone === p.bytesTotal) this.flush();
    else this.tick();
  }

  /** Passes on the final counts. */
  flush(): void {
    this.onProgress({ ...this.progress });
  }
}

export interface Verbosity {
  quiet?: boolean;
  verbose?: boolean;
}

export interface LiveStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor(s / 60) % 60).padStart(2, '0')} min`;
}

/** `1234/5678 files, 120 MiB of 2.0 GiB (6%), 45 MiB/s, 40 s left` */
export function progressText(p: CopyProgress, elapsedMs: number): string {
  const pct = p.totalBytes > 0 ? Math.floor((100 * Math.min(p.bytes, p.totalBytes)) / p.totalBytes) : 100;
  const parts = [`${p.files}/${p.totalFiles} files`, `${formatSize(p.bytes)} of ${formatSize(p.totalBytes)} (${pct}%)`];
  const seconds = elapsedMs / 1000;
  if (seconds >= 0.5 && p.bytes > 0) {
    const rate = p.bytes / seconds;
    parts.push(`${formatSize(Math.round(rate))}/s`);
    if (p.bytes < p.totalBytes) parts.push(`${duration((p.totalBytes - p.bytes) / rate)} left`);
  }
  return parts.join(', ');
}

/** The live line on a terminal (or plain lines with -v elsewhere). */
export class LiveLine {
  private readonly started = Date.now();
  private readonly mode: 'tty' | 'plain' | 'off';
  private shown = false;
  private lastPlain = 0;
  private lastDraw = 0;

  constructor(
    private readonly what: string,
    verbosity: Verbosity,
    private readonly out: LiveStream = process.stderr,
    /** Seconds between plain lines (-v without a terminal). */
    private readonly plainEvery = 5,
  ) {
    this.mode = verbosity.quiet ? 'off' : out.isTTY ? 'tty' : verbosity.verbose ? 'plain' : 'off';
  }

  update(p: CopyProgress): void {
    if (this.mode !== 'off') this.show(`${this.what}: ${progressText(p, Date.now() - this.started)}`);
  }

  /** Counted steps (`3/12 sources, 4 s`), for work whose size is not known in bytes. */
  step(done: number, total: number, unit: string): void {
    if (this.mode !== 'off') this.show(`${this.what}: ${done}/${total} ${unit}, ${duration((Date.now() - this.started) / 1000)}`);
  }

  /** A terminal redraws in place (at most every tick); -v off a terminal prints a line now and then. */
  private show(text: string): void {
    const now = Date.now();
    if (this.mode === 'plain') {
      if (now - this.lastPlain < this.plainEvery * 1000) return;
      this.lastPlain = now;
      this.out.write(`${text}\n`);
      return;
    }
    if (now - this.lastDraw < TICK_MS && this.shown) return;
    this.lastDraw = now;
    const width = Math.max(20, (this.out.columns || 80) - 1);
    this.out.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.shown = true;
  }

  /** Removes the live line (before the result is printed). */
  stop(): void {
    if (this.mode === 'tty' && this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }

  elapsedMs(): number {
    return Date.now() - this.started;
  }
}

/** Where the main thread sends the counts a writer worker posts (see `interruptible`). */
let mainSink: ((p: CopyProgress) => void) | undefined;

export function workerProgress(p: CopyProgress): void {
  mainSink?.(p);
}

/**
 * The counter a command's writer uses: in a writer worker its counts go to the main thread;
 * in the main thread they are drawn on `line` (which the main thread also uses for the
 * counts a worker posts).
 */
export function copyCounter(line: LiveLine): CopyCounter {
  if (writerJob()) return new CopyCounter((p) => parentPort!.postMessage({ kilnProgress: p }));
  return new CopyCounter((p) => line.update(p));
}

/** In the main thread: draw the counts a writer worker posts on `line`. */
export function drawProgressOn(line: LiveLine): void {
  if (!writerJob()) mainSink = (p) => line.update(p);
}
