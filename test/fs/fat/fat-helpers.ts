import { mkdirSync, readFileSync, readdirSync, lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource, readContent, type FileTree, type FsReader } from '../../../src/index.js';
import { readFat } from '../../../src/fs/fat/index.js';
import { clampTimestamp } from '../../../src/fs/fat/time.js';
import { spawnSync } from 'node:child_process';
import { requireTool } from '../../helpers/tools.js';

const checked = new Set<string>();
/** Runs an oracle tool (checked installed once per process: hundreds of runs per test). */
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): { stdout: string; stderr: string; status: number } {
  if (!checked.has(cmd)) {
    requireTool(cmd);
    checked.add(cmd);
  }
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, env: opts.env ?? process.env });
  if (!opts.allowFail && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** The environment mtools needs to read our images as UTF-8 names with UTC times. */
export const MTOOLS_ENV: NodeJS.ProcessEnv = { ...process.env, MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C.UTF-8', TZ: 'UTC' };

/** What a tree should read back as from FAT: regular files and directories, by path. */
export interface Expected {
  files: Map<string, { bytes: Uint8Array; mtime: number }>;
  dirs: Set<string>;
}

/** FAT keeps even seconds in 1980–2107, clamped to SOURCE_DATE_EPOCH. */
export function fatMtime(sec: number, sde?: number): number {
  const s = clampTimestamp({ sec, nsec: 0 }, sde);
  return s - (s % 2);
}

export function expectedOf(tree: FileTree, sde?: number): Expected {
  const files = new Map<string, { bytes: Uint8Array; mtime: number }>();
  const dirs = new Set<string>();
  for (const [path, inode] of tree.walk()) {
    if (path === '') continue;
    if (inode.type === 'dir') dirs.add(path);
    else if (inode.type === 'file')
      files.set(path, { bytes: inode.content ? readContent(inode.content) : new Uint8Array(), mtime: fatMtime(inode.mtime.sec, sde) });
  }
  return { files, dirs };
}

/** fsck.fat -n must exit 0 and say nothing beyond its version and summary lines. */
export function fsckClean(image: string): string | undefined {
  const r = run('fsck.fat', ['-n', image], { allowFail: true });
  const lines = (r.stdout + r.stderr).trim().split('\n');
  const ok = r.status === 0 && lines.length === 2 && /^fsck\.fat /.test(lines[0]!) && / files, \d+\/\d+ clusters$/.test(lines[1]!);
  return ok ? undefined : `fsck.fat -n ${image} (exit ${r.status}):\n${r.stdout}${r.stderr}`;
}

/** `mdir -/ -a -b`: every path mtools sees (directories end in '/'). */
export function mdirPaths(image: string): string[] {
  const r = run('mdir', ['-/', '-a', '-b', '-i', image, '::'], { env: MTOOLS_ENV, allowFail: true });
  if (r.status !== 0) {
    // An empty volume: mdir says "No files" and exits 1.
    if (/No files|File "::" not found/i.test(r.stdout + r.stderr)) return [];
    throw new Error(`mdir failed (${r.status}): ${r.stderr}`);
  }
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('::/'))
    .map((l) => l.slice(3));
}

/** Copies everything out with `mcopy -s -n -m` and reads it back as an Expected. */
export function mcopyOut(image: string, into: string): Expected {
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  const r = run('mcopy', ['-s', '-n', '-m', '-i', image, '::*', `${into}/`], { env: MTOOLS_ENV, allowFail: true });
  const files = new Map<string, { bytes: Uint8Array; mtime: number }>();
  const dirs = new Set<string>();
  if (r.status !== 0 && !/no match|File "::\*" not found/i.test(r.stderr + r.stdout)) throw new Error(`mcopy failed (${r.status}): ${r.stderr}`);
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isDirectory()) {
        dirs.add(relPath);
        walk(p, relPath);
      } else files.set(relPath, { bytes: new Uint8Array(readFileSync(p)), mtime: Math.floor(st.mtimeMs / 1000) });
    }
  };
  walk(into, '');
  return { files, dirs };
}

/** Everything our reader sees. */
export function readerView(reader: FsReader): Expected {
  const files = new Map<string, { bytes: Uint8Array; mtime: number }>();
  const dirs = new Set<string>();
  const walk = (path: string): void => {
    for (const e of reader.list(path)) {
      const p = path ? `${path}/${e.name}` : e.name;
      if (e.stat.type === 'dir') {
        dirs.add(p);
        walk(p);
      } else files.set(p, { bytes: reader.readFile(p), mtime: e.stat.mtime.sec });
    }
  };
  walk('');
  return { files, dirs };
}

export function readImage(path: string): FsReader {
  return readFat(new FileSource(path));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A description of the first difference, or undefined when equal. */
export function diffExpected(what: string, want: Expected, got: Expected, checkTimes = true): string | undefined {
  const wd = [...want.dirs].sort();
  const gd = [...got.dirs].sort();
  if (wd.join('\n') !== gd.join('\n')) return `${what}: directories differ\nwant ${JSON.stringify(wd)}\ngot  ${JSON.stringify(gd)}`;
  const wf = [...want.files.keys()].sort();
  const gf = [...got.files.keys()].sort();
  if (wf.join('\n') !== gf.join('\n')) return `${what}: files differ\nwant ${JSON.stringify(wf)}\ngot  ${JSON.stringify(gf)}`;
  for (const [p, w] of want.files) {
    const g = got.files.get(p)!;
    if (!equalBytes(w.bytes, g.bytes)) return `${what}: content of '${p}' differs (${w.bytes.length} vs ${g.bytes.length} bytes)`;
    if (checkTimes && w.mtime !== g.mtime) return `${what}: mtime of '${p}' is ${g.mtime}, want ${w.mtime}`;
  }
  return undefined;
}
