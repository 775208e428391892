/**
 * Bench inputs, built once and kept in the bench work directory (outside the repository)
 * between runs:
 * - `smallFiles`: the first N regular files (≤ 1 MiB) of a system directory tree (default
 *   /usr, or KILN_BENCH_USR), copied with their directories and symlinks, in sorted order;
 * - `shareCopy`: a copy of /usr/share (KILN_BENCH_SHARE), many small files as a real system has;
 * - `fatSafeCopy`: its regular files and directories that FAT can hold (no symlinks, no names
 *   that differ only in case);
 * - `largeFiles`: a few big files of deterministic pseudo-random bytes (no zeros to skip);
 * - `generatedTree`: N files of pseudo-random bytes, 1,000 to a directory (the 1 M file tree).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { benchWorkDir } from './harness.js';

export interface Fixture {
  dir: string;
  files: number;
  bytes: number;
}

/**
 * A fixture kept between runs: unless its stamp says it is there, `make` builds it in a
 * directory of this process's own, renamed into place when complete (so a run sharing the work
 * directory never sees, or removes, a half-made tree).
 */
function cached(name: string, make: (dir: string) => Omit<Fixture, 'dir'>): Fixture {
  const dir = join(benchWorkDir(), name);
  const stamp = `${dir}.done`;
  if (existsSync(stamp)) return JSON.parse(readFileSync(stamp, 'utf8')) as Fixture;
  const part = `${dir}.part-${process.pid}`;
  rmSync(part, { recursive: true, force: true });
  const info = { dir, ...make(part) };
  if (existsSync(stamp)) {
    rmSync(part, { recursive: true, force: true });
    return JSON.parse(readFileSync(stamp, 'utf8')) as Fixture;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(part, dir);
  writeFileSync(stamp, JSON.stringify(info));
  return info;
}

/** Regular files and their bytes under `dir` (hard links once). */
function count(dir: string): Omit<Fixture, 'dir'> {
  const r = spawnSync('find', [dir, '-type', 'f', '-printf', '%i %s\\n'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const sizes = new Map(
    r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ') as [string, string]),
  );
  let bytes = 0;
  for (const size of sizes.values()) bytes += Number(size);
  return { files: sizes.size, bytes };
}

/** Bytes free on the filesystem of the bench work directory (`df`), to refuse a fixture that cannot fit. */
export function requireFree(bytes: number, what: string): void {
  const r = spawnSync('df', ['-B1', '--output=avail', benchWorkDir()], { encoding: 'utf8' });
  const avail = Number(r.stdout.trim().split('\n').pop());
  if (!(avail >= bytes))
    throw new Error(
      `${what} needs ${(bytes / 2 ** 30).toFixed(1)} GiB free in ${benchWorkDir()} (KILN_BENCH_DIR), df says ${(avail / 2 ** 30).toFixed(1)} GiB`,
    );
}

/** A copy of /usr/share (or KILN_BENCH_SHARE): tens of thousands of small files, symlinks, hard links. */
export function shareCopy(): Fixture {
  const from = process.env.KILN_BENCH_SHARE ?? '/usr/share';
  return cached('share', (dir) => {
    const r = spawnSync('cp', ['-a', from, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cp -a ${from} ${dir}: ${r.stderr}`);
    return count(dir);
  });
}

/**
 * The regular files and directories of `shareCopy()` that FAT can hold (no symlinks, no names
 * FAT forbids, of names that differ only in case the first in byte order), at most the first
 * 512 entries of a directory: mcopy searches a directory for every name it adds, so a directory
 * of thousands of files (man1) takes it an hour. About 30,000 files, 540 MiB of /usr/share.
 */
export function fatSafeCopy(): Fixture {
  const share = shareCopy();
  return cached('share-fat-512', (dir) => {
    const walk = (src: string, dst: string): void => {
      mkdirSync(dst);
      const seen = new Set<string>();
      for (const name of readdirSync(src).sort()) {
        const key = name.toLowerCase();
        if (seen.has(key) || /["*/:<>?\\|\x00-\x1f]|[. ]$/.test(name) || Buffer.byteLength(name) > 200) continue;
        if (seen.size === 512) break;
        seen.add(key);
        const s = join(src, name);
        const st = lstatSync(s);
        if (st.isDirectory()) walk(s, join(dst, name));
        else if (st.isFile()) copyFileSync(s, join(dst, name));
      }
    };
    walk(share.dir, dir);
    return count(dir);
  });
}

const MAX_SMALL = 1 << 20;

/** A copy of the first `count` small regular files under the system tree. */
export function smallFiles(count = 30_000): Fixture {
  const from = process.env.KILN_BENCH_USR ?? '/usr';
  return cached(`small-${count}`, (dir) => {
    mkdirSync(dir, { recursive: true });
    let files = 0;
    let bytes = 0;
    const walk = (src: string, dst: string): void => {
      let names: string[];
      try {
        names = readdirSync(src).sort();
      } catch {
        return;
      }
      for (const name of names) {
        if (files >= count) return;
        const s = join(src, name);
        const d = join(dst, name);
        const st = lstatSync(s);
        try {
          if (st.isDirectory()) {
            mkdirSync(d);
            walk(s, d);
            chmodSync(d, st.mode & 0o7777);
          } else if (st.isSymbolicLink()) symlinkSync(readlinkSync(s), d);
          else if (st.isFile() && st.size <= MAX_SMALL) {
            copyFileSync(s, d);
            chmodSync(d, st.mode & 0o7777);
            files++;
            bytes += st.size;
          }
        } catch {
          // unreadable: leave it out
        }
      }
    };
    walk(from, dir);
    return { files, bytes };
  });
}

/** Three files of pseudo-random content, half, three eighths and an eighth of `totalMiB` (default KILN_BENCH_LARGE_MIB or 2 GiB). */
export function largeFiles(totalMiB = Number(process.env.KILN_BENCH_LARGE_MIB ?? 2048)): Fixture {
  const sizes = [totalMiB / 2, (totalMiB * 3) / 8, totalMiB / 8].map((m) => Math.floor(m) * 2 ** 20);
  const total = sizes.reduce((a, b) => a + b, 0);
  return cached(`large-${total}`, (dir) => {
    requireFree(total * 4, 'the large-file tree and its images');
    writeLargeFiles(dir, sizes);
    return { files: sizes.length, bytes: total };
  });
}

function writeLargeFiles(dir: string, sizes: number[]): void {
  mkdirSync(dir, { recursive: true });
  const chunk = new Uint32Array(1 << 18); // 1 MiB
  sizes.forEach((size, f) => {
    // xorshift32 fills the first MiB; each next MiB mixes in its index, so no two chunks repeat.
    let x = 0x9e3779b9 ^ (f + 1);
    for (let i = 0; i < chunk.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk[i] = x >>> 0 || 1;
    }
    const fd = openSync(join(dir, `big-${f}.bin`), 'w');
    const bytes = new Uint8Array(chunk.buffer);
    for (let at = 0, n = 0; at < size; at += bytes.length, n++) {
      for (let i = 0; i < chunk.length; i += 64) chunk[i] = (chunk[i]! + n * 0x01000193) >>> 0 || 1;
      writeSync(fd, bytes, 0, Math.min(bytes.length, size - at));
    }
    closeSync(fd);
  });
}

/**
 * `files` files in directories of 1,000 (two levels, `d-NNN/d-NNN`), sizes spread evenly from 0
 * to twice `bytes / files`, each a window of pseudo-random bytes that differs from the others.
 */
export function generatedTree(files: number, bytes: number): Fixture {
  return cached(`generated-${files}-${bytes}`, (dir) => {
    requireFree(bytes * 3.5, `a tree of ${files} files (and its tar and images)`);
    const pool = new Uint32Array(1 << 20); // 4 MiB of xorshift32
    let x = 0x2545f491;
    for (let i = 0; i < pool.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      pool[i] = x >>> 0;
    }
    const poolBytes = new Uint8Array(pool.buffer);
    const mean = bytes / files;
    let total = 0;
    for (let i = 0; i < files; i++) {
      const d = Math.floor(i / 1000);
      const sub = join(dir, `d-${String(Math.floor(d / 1000)).padStart(3, '0')}`, `d-${String(d % 1000).padStart(3, '0')}`);
      if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
      const size = Math.min(poolBytes.length - 4096, Math.floor((((i * 2654435761) >>> 0) / 2 ** 32) * 2 * mean));
      const at = ((i * 40503) % 1024) * 4; // a different window for each file
      writeFileSync(join(sub, `f-${String(i % 1000).padStart(3, '0')}.dat`), poolBytes.subarray(at, at + size));
      total += size;
    }
    return { files, bytes: total };
  });
}
