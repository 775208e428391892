/**
 * e2fsprogs's own regression images (tests/<name>/image.gz in its source package: hundreds of
 * deliberately damaged ext2/3/4 filesystems) read by kiln and by debugfs. For each image kiln
 * must list what debugfs lists (path, inode, type, size; breadth first, each directory once) or
 * fail with a KilnError — never crash, hang or blow up memory. Two comparisons per image:
 * checksums verified (kiln's default; debugfs as is) and not (kiln reading past mismatches with
 * warnings; debugfs -n).
 *
 * The source package comes through test/helpers/debian-source.ts, cached under
 * $KILN_E2FSPROGS_CACHE or the test cache there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unpackedSourcePackage } from '../helpers/debian-source.js';
import { requireTool } from '../helpers/tools.js';
import type { ListAnswer, Listed } from './child.js';
import { MAX_RECORDS } from './model.js';
import { Worker, type Outcome } from './harness.js';

/** The directory holding tests/<name>/image.gz, fetched and unpacked once. */
export function e2fsprogsTestImages(log: (line: string) => void = () => {}): Promise<string> {
  return unpackedSourcePackage({ pkg: 'e2fsprogs', cache: process.env.KILN_E2FSPROGS_CACHE, keep: 'tests', members: ['*/tests/*/image.gz'], log });
}

const TYPE_LETTER = new Map<number, string>([
  [0o100000, '-'],
  [0o040000, 'd'],
  [0o120000, 'l'],
  [0o020000, 'c'],
  [0o060000, 'b'],
  [0o010000, 'p'],
  [0o140000, 's'],
]);

/** debugfs's view: `ls -p <ino>` breadth first, each directory once. */
export function debugfsListing(image: string, verify: boolean): { opened: boolean; records: Listed[]; errors: string[] } {
  requireTool('debugfs');
  const records: Listed[] = [];
  const errors: string[] = [];
  let frontier: [string, number][] = [['', 2]];
  const seen = new Set<number>([2]);
  const cmdFile = join(tmpdir(), `kiln-debugfs-${process.pid}.cmd`);
  for (let round = 0; frontier.length > 0 && round < 64 && records.length < MAX_RECORDS; round++) {
    writeFileSync(cmdFile, frontier.map(([, ino]) => `ls -p <${ino}>\n`).join(''));
    const r = spawnSync('debugfs', [...(verify ? [] : ['-n']), '-f', cmdFile, image], { timeout: 60_000, maxBuffer: 1 << 28 });
    const stderr = (r.stderr ?? Buffer.alloc(0)).toString('utf8');
    const out = Buffer.from(r.stdout ?? Buffer.alloc(0)).toString('latin1');
    if (/Filesystem not open|while trying to open|Bad magic number|Corrupt superblock/.test(stderr + out) && round === 0 && !out.includes('\n/')) {
      return { opened: false, records, errors: [stderr.trim().split('\n').slice(0, 3).join(' / ')] };
    }
    for (const l of stderr.split('\n')) if (l.trim() && !l.startsWith('debugfs ')) errors.push(l.trim());
    const next: [string, number][] = [];
    let dir: string | undefined;
    const byIno = new Map(frontier.map(([p, i]) => [i, p]));
    for (const line of out.split('\n')) {
      const head = /^debugfs: ls -p <(\d+)>$/.exec(line);
      if (head) {
        dir = byIno.get(Number(head[1]));
        continue;
      }
      const m = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
      if (!m || dir === undefined) continue;
      const name = m[5]!;
      const ino = Number(m[1]);
      // Empty records (inode 0: the free space of a block) are no entries.
      if (name === '.' || name === '..' || ino === 0) continue;
      const mode = parseInt(m[2]!, 8);
      const type = TYPE_LETTER.get(mode & 0o170000) ?? '?';
      const path = dir ? `${dir}/${name}` : name;
      records.push([path, ino, type, type === 'd' ? null : Number(m[6] || 0)]);
      if (type === 'd' && !seen.has(ino)) {
        seen.add(ino);
        next.push([path, ino]);
      }
    }
    frontier = next;
  }
  rmSync(cmdFile, { force: true });
  return { opened: true, records, errors };
}

export type Comparison = 'same' | 'kiln-error' | 'both-fail' | 'kiln-reads-more' | 'differ' | 'crash' | 'hang' | 'memory';

export interface ImageComparison {
  name: string;
  verify: boolean;
  outcome: Comparison;
  detail: string;
}

export interface E2fsprogsSummary {
  images: number;
  /** Per comparison mode: how many images ended how. */
  verify: Record<Comparison, number>;
  noVerify: Record<Comparison, number>;
  crashes: number;
  differ: number;
  results: ImageComparison[];
}

function key(r: Listed): string {
  return `${r[0]}\t${r[1]}\t${r[2]}\t${r[3] ?? ''}`;
}

function compare(kiln: ListAnswer, fs: ReturnType<typeof debugfsListing>): { outcome: Comparison; detail: string } {
  if (kiln.crash) return { outcome: 'crash', detail: kiln.crash };
  const ours = new Set(kiln.records.map(key));
  const theirs = new Set(fs.records.map(key));
  const missing = [...theirs].filter((k) => !ours.has(k));
  const extra = [...ours].filter((k) => !theirs.has(k));
  if (kiln.error) return { outcome: fs.opened ? 'kiln-error' : 'both-fail', detail: `${kiln.error.code}: ${kiln.error.message}` };
  if (!fs.opened) return { outcome: 'kiln-reads-more', detail: `debugfs cannot open it (${fs.errors[0] ?? ''}); kiln lists ${ours.size} entries` };
  if (missing.length === 0 && extra.length === 0) return { outcome: 'same', detail: `${ours.size} entries` };
  // Past the bound the two stop at different places (kiln after a directory, debugfs after a
  // round of directories): what kiln listed must all be debugfs's, the rest is not compared.
  if (Math.max(ours.size, theirs.size) >= MAX_RECORDS && extra.length === 0)
    return { outcome: 'same', detail: `the first ${ours.size} entries (listing bounded at ${MAX_RECORDS})` };
  if (missing.length === 0 && fs.errors.length > 0) return { outcome: 'kiln-reads-more', detail: `debugfs: ${fs.errors[0]}; kiln lists ${extra.length} more` };
  return {
    outcome: 'differ',
    detail: `missing in kiln: ${missing.slice(0, 5).join(' | ')}; extra in kiln: ${extra.slice(0, 5).join(' | ')}; debugfs errors: ${fs.errors.slice(0, 2).join(' / ')}`,
  };
}

const OUTCOMES: Comparison[] = ['same', 'kiln-error', 'both-fail', 'kiln-reads-more', 'differ', 'crash', 'hang', 'memory'];

export async function runE2fsprogsImages(o: {
  kilnRoot: string;
  log: (line: string) => void;
  only?: RegExp;
  workers?: number;
  timeoutMs?: number;
}): Promise<E2fsprogsSummary> {
  const dir = await e2fsprogsTestImages(o.log);
  const names = readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, 'image.gz')) && (!o.only || o.only.test(n)))
    .sort();
  const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'kiln-e2fsprogs-'));
  const empty = (): Record<Comparison, number> => Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<Comparison, number>;
  const s: E2fsprogsSummary = { images: 0, verify: empty(), noVerify: empty(), crashes: 0, differ: 0, results: [] };
  let next = 0;
  const loop = async (): Promise<void> => {
    const worker = new Worker({ kilnRoot: o.kilnRoot, heapMb: 256, rssLimitMb: 768, variantTimeoutMs: o.timeoutMs ?? 20_000 });
    try {
      while (next < names.length) {
        const name = names[next++]!;
        const image = join(work, `${name}.img`);
        writeFileSync(image, gunzipSync(readFileSync(join(dir, name, 'image.gz'))));
        s.images++;
        for (const verify of [true, false]) {
          const fs = debugfsListing(image, verify);
          const r = await worker.run<ListAnswer>({ id: 0, path: image, specs: [''], list: { verify } });
          const c: { outcome: Comparison; detail: string } = r.outcome
            ? { outcome: r.outcome as Outcome as Comparison, detail: r.detail ?? '' }
            : compare(r.answer!, fs);
          (verify ? s.verify : s.noVerify)[c.outcome]++;
          if (c.outcome === 'crash' || c.outcome === 'hang' || c.outcome === 'memory') s.crashes++;
          if (c.outcome === 'differ') s.differ++;
          s.results.push({ name, verify, ...c });
          if (!['same', 'kiln-error', 'both-fail', 'kiln-reads-more'].includes(c.outcome))
            o.log(`[e2fsprogs] ${name} (${verify ? 'verify' : 'no-verify'}): ${c.outcome.toUpperCase()}: ${c.detail.slice(0, 1500)}`);
        }
        rmSync(image, { force: true });
      }
    } finally {
      worker.kill();
    }
  };
  try {
    await Promise.all(Array.from({ length: o.workers ?? 2 }, loop));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const line = (r: Record<Comparison, number>): string =>
    OUTCOMES.filter((k) => r[k] > 0)
      .map((k) => `${r[k]} ${k}`)
      .join(', ');
  o.log(`[e2fsprogs] ${s.images} images from e2fsprogs's tests/: verified: ${line(s.verify)}; not verified: ${line(s.noVerify)}`);
  return s;
}
