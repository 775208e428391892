/**
 * The fuzzer's worker process: runs every reader entry point on one image per request and says
 * how each ended. It loads kiln from a checkout's dist/ (argv[2]), so the same harness measures
 * any build. Requests and answers are JSON lines on stdin/stdout:
 *   → { id, path, specs }             (specs: '' or ':N' suffixes of path)
 *   ← { id, outcome, steps, errors, crashes, maxRssKb, ms }
 * Any exception that is not a KilnError is a crash; the parent watches time and memory.
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FsReader } from '../../src/fs/reader.js';
import type { OpenedImage } from '../../src/partition/image.js';
import { MAX_RECORDS } from './model.js';

type Kiln = typeof import('../../src/index.js');
type ImageCommands = typeof import('../../src/cli/commands/image.js');
/** openImage as the current code has it; older builds ignore the options. */
type OpenImage = (ref: string, options?: { verify?: boolean | 'warn'; onWarning?: (message: string) => void }) => OpenedImage;

export interface Request {
  id: number;
  path: string;
  specs: string[];
  /** Instead of exercising everything: list the whole tree (for comparison with debugfs). */
  list?: { verify: boolean };
}

/** One listed entry: path, inode number, type letter ('-', 'd', 'l', …) and size (not for directories). */
export type Listed = [path: string, ino: number, type: string, size: number | null];

export interface ListAnswer {
  id: number;
  records: Listed[];
  error?: { code: string; message: string };
  crash?: string;
  warnings: number;
  maxRssKb: number;
}

export interface StepReport {
  step: string;
  result: 'error' | 'crash';
  code?: string;
  message: string;
}

export interface Answer {
  id: number;
  outcome: 'ok' | 'error' | 'crash';
  steps: number;
  errors: number;
  crashes: StepReport[];
  /** A few of the KilnErrors, for the record. */
  sample: StepReport[];
  warnings: number;
  maxRssKb: number;
  ms: number;
}

const root = process.argv[2] ?? join(new URL('../..', import.meta.url).pathname);
const kiln = (await import(pathToFileURL(join(root, 'dist', 'index.js')).href)) as Kiln;
const commands = (await import(pathToFileURL(join(root, 'dist', 'cli', 'commands', 'image.js')).href)) as ImageCommands;
const openImage = kiln.openImage as unknown as OpenImage;

const CONTENT_PER_FILE = 1 << 20;
const CONTENT_PER_IMAGE = 8 << 20;
const WALK_LIMIT = 3000;
const READFILE_MAX = 256 << 10;

function handle(req: Request): Answer {
  const t0 = Date.now();
  let steps = 0;
  let errors = 0;
  let warnings = 0;
  const crashes: StepReport[] = [];
  const sample: StepReport[] = [];
  const attempt = <T>(step: string, fn: () => T, expected?: string): T | undefined => {
    steps++;
    try {
      return fn();
    } catch (e) {
      if (e instanceof kiln.KilnError && e.code === expected) return undefined;
      if (e instanceof kiln.KilnError) {
        errors++;
        if (sample.length < 4) sample.push({ step, result: 'error', code: e.code, message: e.message.slice(0, 300) });
      } else {
        const err = e as Error;
        crashes.push({
          step,
          result: 'crash',
          message: `${err?.name ?? 'throw'}: ${String(err?.message ?? e).slice(0, 300)}\n${(err?.stack ?? '').split('\n').slice(1, 8).join('\n')}`,
        });
      }
      return undefined;
    }
  };

  let budget = CONTENT_PER_IMAGE;
  const exercise = (reader: FsReader, label: string): void => {
    attempt(`${label}: listing -l -R`, () => commands.listing(reader, '/', true, true));
    attempt(`${label}: stat of a missing path`, () => reader.stat('no/such/path'), 'no-such-path');
    // A bounded walk of our own, so one bad entry does not hide the others.
    const queue: string[] = [''];
    const dirs = new Set<number>();
    let visited = 0;
    while (queue.length > 0 && visited < WALK_LIMIT) {
      const dir = queue.shift()!;
      const entries = attempt(`${label}: list '${dir}'`, () => reader.list(dir)) ?? [];
      for (const e of entries) {
        if (++visited > WALK_LIMIT) break;
        const path = dir ? `${dir}/${e.name}` : e.name;
        const st = attempt(`${label}: stat '${path}'`, () => reader.stat(path));
        if (!st) continue;
        if (st.type === 'dir') {
          if (!dirs.has(st.ino) && path.split('/').length < 64) {
            dirs.add(st.ino);
            queue.push(path);
          }
        } else if (st.type === 'file') {
          attempt(`${label}: content '${path}'`, () => {
            const c = reader.content(path);
            const r = c.open();
            try {
              const chunk = new Uint8Array(64 << 10);
              const want = Math.min(c.size, CONTENT_PER_FILE, Math.max(0, budget));
              for (let at = 0; at < want; ) {
                const n = r.read(at, chunk.subarray(0, Math.min(chunk.length, want - at)));
                if (n <= 0) break;
                at += n;
                budget -= n;
              }
              // The tail too: the last block of a long (maybe sparse) file.
              if (c.size > 4096 && budget > 0) r.read(c.size - 4096, chunk.subarray(0, 4096));
            } finally {
              r.close();
            }
          });
          if (st.size <= READFILE_MAX) attempt(`${label}: readFile '${path}'`, () => reader.readFile(path));
        }
      }
    }
    const verifyAll = (reader as { verifyAll?: () => unknown }).verifyAll;
    if (typeof verifyAll === 'function') attempt(`${label}: verifyAll`, () => verifyAll.call(reader));
  };

  if (req.specs.some((s) => s !== '')) {
    attempt('whole disk: open', () => openImage(req.path).close(), 'partitioned');
    attempt('whole disk: partitions', () => {
      const src = new kiln.FileSource(req.path);
      try {
        return kiln.readPartitions(src);
      } finally {
        src.close();
      }
    });
  }
  for (const spec of req.specs) {
    for (const mode of ['verify', 'no-verify'] as const) {
      const label = `${spec || 'image'} (${mode})`;
      const img = attempt(`${label}: open`, () =>
        openImage(req.path + spec, mode === 'verify' ? { verify: true } : { verify: 'warn', onWarning: () => warnings++ }),
      );
      if (!img) continue;
      try {
        exercise(img.reader, label);
      } finally {
        img.close();
      }
    }
  }
  return {
    id: req.id,
    outcome: crashes.length > 0 ? 'crash' : errors > 0 ? 'error' : 'ok',
    steps,
    errors,
    crashes: crashes.slice(0, 3),
    sample,
    warnings,
    maxRssKb: process.resourceUsage().maxRSS,
    ms: Date.now() - t0,
  };
}

/**
 * A name as its on-disk bytes, one char per byte (latin1): readers give names as strings whose
 * undecodable bytes are lone surrogates U+DC80–U+DCFF (surrogateescape); debugfs's output is
 * read as latin1 too, so both sides compare bytes.
 */
function byteString(name: string): string {
  let out = '';
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xdc80 && c <= 0xdcff) out += String.fromCharCode(c - 0xdc00);
    else for (const b of new TextEncoder().encode(ch)) out += String.fromCharCode(b);
  }
  return out;
}

const TYPE_LETTER: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };

/** The whole tree, breadth first, each directory once (by inode), as far as it reads. */
function listAll(req: Request & { list: { verify: boolean } }): ListAnswer {
  const records: Listed[] = [];
  let warnings = 0;
  const out: ListAnswer = { id: req.id, records, warnings: 0, maxRssKb: 0 };
  try {
    const img = openImage(req.path, req.list.verify ? { verify: true } : { verify: 'warn', onWarning: () => warnings++ });
    try {
      // Each directory as the reader spells its path, and as bytes (for the records).
      const queue: [string, string][] = [['', '']];
      const seen = new Set<number>([2]);
      while (queue.length > 0 && records.length < MAX_RECORDS) {
        const [dir, dirBytes] = queue.shift()!;
        for (const e of img.reader.list(dir)) {
          const path = dirBytes ? `${dirBytes}/${byteString(e.name)}` : byteString(e.name);
          records.push([path, e.stat.ino, TYPE_LETTER[e.stat.type] ?? '?', e.stat.type === 'dir' ? null : e.stat.size]);
          if (e.stat.type === 'dir' && !seen.has(e.stat.ino)) {
            seen.add(e.stat.ino);
            queue.push([dir ? `${dir}/${e.name}` : e.name, path]);
          }
        }
      }
    } finally {
      img.close();
    }
  } catch (e) {
    if (e instanceof kiln.KilnError) out.error = { code: e.code, message: e.message.slice(0, 500) };
    else out.crash = `${(e as Error)?.stack ?? String(e)}`.slice(0, 2000);
  }
  out.warnings = warnings;
  out.maxRssKb = process.resourceUsage().maxRSS;
  return out;
}

process.stdout.write('{"ready":true}\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const req = JSON.parse(line) as Request;
  const answer = req.list ? listAll({ ...req, list: req.list }) : handle(req);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
