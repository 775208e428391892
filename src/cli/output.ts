import type { Command } from 'commander';
import { KilnError } from '../errors.js';
import { formatSize } from '../units.js';
import { drawProgressOn, LiveLine, type Verbosity } from './live.js';
import { optionSize } from './inputs.js';

/** The options every command that writes an image has. */
export interface OutputOptions extends Verbosity {
  force?: boolean;
  json?: boolean;
}

/** Adds `-f/--force`, `-q/--quiet`, `-v/--verbose` and `--json` to a command that writes an image. */
export function outputOptions(c: Command, what = 'the output'): Command {
  return c
    .option('-f, --force', `replace ${what} if it exists (refused otherwise)`)
    .option('-q, --quiet', 'print nothing but errors (no progress, no summary)')
    .option('-v, --verbose', 'also print progress without a terminal (a line every 5 s) and the time taken')
    .option('--json', 'print the result as JSON (see docs/cli.md#json-output)');
}

/** The live progress line of a command writing `out`. */
export function liveLine(out: string, opts: OutputOptions): LiveLine {
  const line = new LiveLine(`writing ${out}`, opts);
  drawProgressOn(line);
  return line;
}

/**
 * Prints a command's result: JSON (`--json`, one object, 2-space indented), or the summary
 * line(s) unless --quiet; with --verbose the time taken goes to stderr.
 */
export function printResult(opts: OutputOptions, json: unknown, text: () => string, line?: LiveLine): void {
  line?.stop();
  if (opts.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else if (!opts.quiet) process.stdout.write(`${text()}\n`);
  if (opts.verbose && line) process.stderr.write(`took ${(line.elapsedMs() / 1000).toFixed(1)} s\n`);
}

/**
 * `--size` and `--margin`: the image size for a tree. `--size auto` is the smallest filesystem
 * that holds the tree and still has `--margin` bytes free for files, so the metadata that grows
 * with the filesystem (inode tables, the journal, FATs) does not eat the margin. The default,
 * 10% of the smallest size but at least 16 MiB, leaves room to use the filesystem as mke2fs
 * users expect of a new one (logs, a package update, a new kernel on an ESP); `--margin 0`
 * gives the smallest image. A margin is a size (64M) or a percentage of the smallest size (25%).
 */
export const DEFAULT_MARGIN = '10%';
const MIN_DEFAULT_MARGIN = 16 * 1024 * 1024;

/** Checks --size and --margin (usage errors) before any work. */
export function checkSizeOptions(size: string, margin: string | undefined): void {
  if (size !== 'auto') {
    if (margin !== undefined) throw new KilnError('bad-args', '--margin only applies to --size auto', 'leave out --size, or --margin');
    optionSize(size, 'image size');
  } else if (margin !== undefined && !/^\d+(\.\d+)?%$/.test(margin)) optionSize(margin, 'margin');
}

/** Steps the size may take: each adds what was still missing, so two or three are the rule. */
const MAX_GROW_STEPS = 16;

/**
 * The image size: `--size`, or the smallest size for the tree grown until the margin is free.
 * The writer tells how many bytes a size leaves free (`freeAt`; undefined where the tree does
 * not fit), so the size starts at the smallest plus the margin and grows by what is still
 * missing, in `unit`s, without planning the tree again.
 */
export function imageSize(size: string, margin: string | undefined, minimum: number, freeAt: (size: number) => number | undefined, unit: number): number {
  checkSizeOptions(size, margin);
  if (size !== 'auto') return optionSize(size, 'image size');
  const text = margin ?? DEFAULT_MARGIN;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  let extra = pct ? Math.ceil((minimum * Number(pct[1])) / 100) : optionSize(text, 'margin');
  if (margin === undefined) extra = Math.max(extra, MIN_DEFAULT_MARGIN);
  if (extra === 0) return minimum;
  let result = minimum + Math.ceil(extra / unit) * unit;
  for (let step = 0; step < MAX_GROW_STEPS; step++) {
    const free = freeAt(result);
    if (free !== undefined && free >= extra) return result;
    result += Math.ceil((extra - (free ?? 0)) / unit) * unit;
  }
  throw new KilnError(
    'no-space',
    `no image size found that holds the tree and leaves the margin of ${extra} bytes (${formatSize(extra)}) free`,
    'give a smaller --margin, or a --size',
  );
}

export const MARGIN_HELP =
  'free space left in the filesystem by --size auto: a size (64M) or a percentage of the smallest size (25%); default 10%, at least 16M (0: the smallest image)';
