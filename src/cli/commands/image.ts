import type { Command } from 'commander';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { KilnError } from '../../errors.js';
import type { OpenedImage, ReadOptions } from '../../partition/image.js';
import type { FsDirEntry, FsReader, FsStat } from '../../fs/reader.js';
import { compareNames, type NodeType } from '../../fs/tree.js';
import { printableName } from '../../fs/name-bytes.js';

/** `kiln image ls|cat IMAGE[:PART] ...`: look inside an image without mounting it. */
export function registerImage(program: Command): void {
  const image = program.command('image').description('look inside a filesystem image (ext4, FAT) or a partition of a disk image');

  image
    .command('ls')
    .description('list a directory of an image (IMAGE:N reads partition N of an MBR or GPT disk image)')
    .argument('<image>', 'image file, or IMAGE:N for partition N')
    .argument('[path]', 'path inside the image', '/')
    .option('-l, --long', 'long format: mode, links, owner, size, mtime (UTC)')
    .option('-R, --recursive', 'list the whole subtree, one path per line')
    .option('--no-verify', 'read past metadata checksum mismatches (each is reported on stderr) instead of failing')
    .option('--json', 'print the entries as JSON (see docs/cli.md#json-output)')
    .action(async (spec: string, path: string, opts: { long?: boolean; recursive?: boolean; verify: boolean; json?: boolean }) => {
      await withImage(spec, opts.verify, async (img) => {
        const found = entries(img.reader, path, opts.recursive === true);
        if (opts.json) {
          await writeOut(`${JSON.stringify({ image: spec, path, entries: found.map(([name, st]) => entryJson(name, st)) }, null, 2)}\n`);
          return;
        }
        const lines = found.map(([name, st]) => (opts.long ? longLine(st, name) : printableName(name)));
        await writeOut(lines.length > 0 ? lines.join('\n') + '\n' : '');
      });
    });

  image
    .command('inspect')
    .description('show the partition table of a disk image and the filesystem, label, UUID and space of each partition, with a to-scale picture on a terminal')
    .argument('<image>', 'disk image (MBR or GPT) or filesystem image (ext4, FAT, swap)')
    .option('--json', 'print the facts as JSON (see docs/cli.md#json-output)')
    .action(async (path: string, opts: { json?: boolean }) => {
      const { inspectImage } = await import('../inspect.js');
      const { printDisk } = await import('../disk-view.js');
      if (existsSync(path) && statSync(path).isDirectory()) throw new KilnError('no-image', `'${path}' is a directory, not an image`, 'name an image file');
      const view = inspectImage(path, (message) => process.stderr.write(`kiln: warning: ${message}\n`));
      if (opts.json) await writeOut(`${JSON.stringify(view, null, 2)}\n`);
      else printDisk(view);
    });

  image
    .command('cat')
    .description("write a file's content to stdout")
    .argument('<image>', 'image file, or IMAGE:N for partition N')
    .argument('<path>', 'path of a regular file inside the image')
    .option('--no-verify', 'read past metadata checksum mismatches (each is reported on stderr) instead of failing')
    .action(async (spec: string, path: string, opts: { verify: boolean }) => {
      await withImage(spec, opts.verify, async (img) => {
        const st = img.reader.stat(path);
        if (st.type !== 'file')
          throw new KilnError('not-a-file', `'${path}' in '${spec}' is a ${describeType(st.type)}, not a regular file`, "use 'kiln image ls' to look at it");
        const content = img.reader.content(path);
        const reader = content.open();
        try {
          const chunk = new Uint8Array(1 << 20);
          for (let at = 0; at < content.size; ) {
            const n = reader.read(at, chunk.subarray(0, Math.min(chunk.length, content.size - at)));
            if (n === 0) break;
            at += n;
            // A copy per chunk: stdout may hold on to it until it drains.
            if (!(await writeOut(chunk.slice(0, n)))) return;
          }
        } finally {
          reader.close();
        }
      });
    });
}

/** Mismatches reported one by one under --no-verify; past this only their number. */
const WARNINGS_SHOWN = 20;

/**
 * Opens the image with checksums verified (a mismatch fails the command, naming the
 * structure) or, with --no-verify, read past with each mismatch reported on stderr.
 */
async function withImage(spec: string, verify: boolean, fn: (img: OpenedImage) => Promise<void>): Promise<void> {
  const { openImage } = await import('../../partition/image.js');
  let warnings = 0;
  const options: ReadOptions = verify
    ? { verify: true }
    : {
        verify: 'warn',
        onWarning: (message) => {
          if (++warnings <= WARNINGS_SHOWN) process.stderr.write(`kiln: warning: ${message} (read past it: --no-verify)\n`);
        },
      };
  const img = openImage(spec, options);
  try {
    await fn(img);
  } finally {
    img.close();
    if (warnings > WARNINGS_SHOWN) process.stderr.write(`kiln: warning: ${warnings - WARNINGS_SHOWN} more checksum mismatches read past (--no-verify)\n`);
  }
}

let stdoutClosed = false;
let closedWaiters: (() => void)[] = [];
let watching = false;

/** Writes to stdout, waiting for it to drain; false once the reader went away (EPIPE). */
async function writeOut(data: string | Uint8Array): Promise<boolean> {
  const out = process.stdout;
  if (!watching) {
    watching = true;
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stdoutClosed = true;
      for (const w of closedWaiters) w();
      closedWaiters = [];
    });
  }
  if (stdoutClosed) return false;
  if (data.length === 0 || out.write(data)) return true;
  const closed = new Promise<boolean>((resolve) => closedWaiters.push(() => resolve(false)));
  return Promise.race([once(out, 'drain').then(() => !stdoutClosed), closed]);
}

function describeType(t: NodeType): string {
  return { file: 'regular file', dir: 'directory', symlink: 'symbolic link', char: 'character device', block: 'block device', fifo: 'fifo', socket: 'socket' }[
    t
  ];
}

const TYPE_CHAR: Record<NodeType, string> = { file: '-', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };

/** `drwxr-xr-x` with s/S and t/T as ls prints them. */
export function modeString(type: NodeType, mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string): string => {
    const x = (bits & 1) !== 0;
    return (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (special ? (x ? ch : ch.toUpperCase()) : x ? 'x' : '-');
  };
  return (
    TYPE_CHAR[type] +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}

function utc(sec: number): string {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime())
    ? String(sec)
    : d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, '');
}

function longLine(st: FsStat, name: string): string {
  const size = st.rdev ? `${st.rdev.major}, ${st.rdev.minor}` : String(st.size);
  const link = st.type === 'symlink' && st.target !== undefined ? ` -> ${printableName(st.target)}` : '';
  return `${modeString(st.type, st.mode)} ${String(st.nlink).padStart(3)} ${String(st.uid).padStart(5)} ${String(st.gid).padStart(5)} ${size.padStart(10)} ${utc(st.mtime.sec)} ${printableName(name)}${link}`;
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** One entry of `kiln image ls --json` (see docs/cli.md#json-output). */
export function entryJson(name: string, st: FsStat): Record<string, unknown> {
  return {
    name,
    type: st.type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    nlink: st.nlink,
    mtime: st.mtime.sec,
    mtimeNsec: st.mtime.nsec,
    target: st.type === 'symlink' && st.target !== undefined ? st.target : null,
    rdev: st.rdev ? { major: st.rdev.major, minor: st.rdev.minor } : null,
  };
}

/** The lines `kiln image ls` prints. */
export function listing(reader: FsReader, path: string, long: boolean, recursive: boolean): string[] {
  return entries(reader, path, recursive).map(([name, st]) => (long ? longLine(st, name) : printableName(name)));
}

/**
 * The entries `kiln image ls` lists, as (name, stat): the path itself when it is not a directory,
 * else its entries sorted by name (with `recursive`, the subtree as relative paths). With `recursive`, every directory is entered once: one met
 * again (a link back to an ancestor, or a second name for a directory, as damaged images have)
 * is an error, so the walk ends on any image. The walk keeps its own stack: nesting deeper than
 * the JavaScript call stack is fine.
 */
export function entries(reader: FsReader, path: string, recursive: boolean): [string, FsStat][] {
  const st = reader.stat(path);
  if (st.type !== 'dir') return [[path.replace(/^\/+/, ''), st]];
  const out: [string, FsStat][] = [];
  const seen = new Map<number, string>([[st.ino, '']]);
  const sorted = (dir: string): FsDirEntry[] => reader.list(dir).sort((a, b) => compareNames(a.name, b.name));
  // One frame per open directory: its sorted entries and how far they are printed.
  const stack: { dir: string; rel: string; entries: FsDirEntry[]; next: number }[] = [{ dir: path, rel: '', entries: sorted(path), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const e = top.entries[top.next++];
    if (!e) {
      stack.pop();
      continue;
    }
    const relPath = join(top.rel, e.name);
    out.push([recursive ? relPath : e.name, e.stat]);
    if (!recursive || e.stat.type !== 'dir') continue;
    const before = seen.get(e.stat.ino);
    if (before !== undefined) {
      const ancestor = before === '' || relPath.startsWith(`${before}/`);
      throw new KilnError(
        'directory-loop',
        `'${relPath}' is directory ${e.stat.ino} again, ${ancestor ? `its own ancestor '${before || '/'}': the directories form a loop` : `already listed as '${before}': a directory has two names`}`,
        'the image is damaged (e2fsck -fn or fsck.fat -n tells more); list the parts before the loop by path',
      );
    }
    seen.set(e.stat.ino, relPath);
    const dir = join(top.dir, e.name);
    stack.push({ dir, rel: relPath, entries: sorted(dir), next: 0 });
  }
  return out;
}
