/**
 * Oracle checks for images our ext4 writer made: `e2fsck -fn` must be silent, and `debugfs`
 * (stat, ea_get, rdump) must read back the tree: types, modes, owners, sizes, link counts,
 * times with nanoseconds and epoch bits, device numbers, symlink targets, hard-link identity,
 * xattrs and file content.
 */
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource, readContent, readExt4, type FileTree, type Inode, type Timestamp } from '../../../src/index.js';
import { spawnSync } from 'node:child_process';
import { requireTool } from '../../helpers/tools.js';

/** Tools resolved once: a property run spawns them hundreds of times. */
const tools = new Map<string, string>();
function tool(name: string, args: string[]): { stdout: string; stderr: string; status: number } {
  let path = tools.get(name);
  if (!path) tools.set(name, (path = requireTool(name)));
  const r = spawnSync(path, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** Runs `e2fsck -fn`; returns the lines that are not the banner, pass headers or summary. */
export function e2fsckProblems(image: string): string[] {
  const r = tool('e2fsck', ['-fn', image]);
  const lines = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^e2fsck \d/.test(l) && !/^Pass \d[A-Z]?: /.test(l) && !/: \d+\/\d+ files \(.*\), \d+\/\d+ blocks$/.test(l));
  if (r.status !== 0) lines.unshift(`e2fsck exited ${r.status}`);
  return lines;
}

const TYPE_NAMES: Record<Inode['type'], string> = {
  file: 'regular',
  dir: 'directory',
  symlink: 'symlink',
  char: 'character special',
  block: 'block special',
  fifo: 'FIFO',
  socket: 'socket',
};

interface Stat {
  ino: number;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  links: number;
  times: Record<string, Timestamp>;
  fastLink?: string;
  device?: string;
}

function parseStat(text: string): Stat | undefined {
  const m = /Inode: (\d+)\s+Type: (.+?)\s+Mode:\s+(\d+)/.exec(text);
  if (!m) return undefined;
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const times: Record<string, Timestamp> = {};
  for (const t of ['ctime', 'atime', 'mtime', 'crtime']) {
    const tm = new RegExp(`${t}: 0x([0-9a-f]+):([0-9a-f]+)`).exec(text);
    if (tm) {
      const sec = parseInt(tm[1]!, 16) | 0;
      const extra = parseInt(tm[2]!, 16);
      times[t] = { sec: sec + (extra & 3) * 2 ** 32, nsec: Math.floor(extra / 4) };
    }
  }
  const st: Stat = {
    ino: Number(m[1]),
    type: m[2]!,
    mode: parseInt(m[3]!, 8),
    // debugfs prints owners as signed 32-bit numbers.
    uid: num(/User:\s+(-?\d+)/) >>> 0,
    gid: num(/Group:\s+(-?\d+)/) >>> 0,
    size: num(/Size: (\d+)/),
    links: num(/Links: (\d+)/),
    times,
  };
  const fl = /Fast link dest: "(.*)"/.exec(text);
  if (fl) st.fastLink = fl[1]!;
  const dev = /Device major\/minor number: (\d+):(\d+)/.exec(text);
  if (dev) st.device = `${Number(dev[1])}:${Number(dev[2])}`;
  return st;
}

function clamp(t: Timestamp, epoch: number | undefined): Timestamp {
  if (epoch !== undefined && (t.sec > epoch || (t.sec === epoch && t.nsec > 0))) return { sec: epoch, nsec: 0 };
  return t;
}

/** Compares the image with the tree through debugfs; returns the differences found. */
export function debugfsMismatches(
  image: string,
  tree: FileTree,
  options: { sourceDateEpoch?: number; statFilter?: (path: string) => boolean; rdump?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const all = [...tree.walk()];
  // Paths the caller does not need stat'ed one by one (bulk filler) are still checked by rdump.
  const entries = options.statFilter ? all.filter(([p]) => options.statFilter!(p)) : all;
  const cmds: string[] = [];
  for (const [path, node] of entries) {
    cmds.push(`stat "/${path}"`);
    for (const name of node.xattrs?.keys() ?? []) cmds.push(`ea_get -x "/${path}" ${name}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kiln-ext4-verify-'));
  try {
    const cmdFile = join(dir, 'cmds');
    const dump = join(dir, 'dump');
    mkdirSync(dump);
    if (options.rdump !== false) cmds.push(`rdump / ${dump}`);
    writeFileSync(cmdFile, `${cmds.join('\n')}\n`);
    const r = tool('debugfs', ['-f', cmdFile, image]);
    if (r.status !== 0) problems.push(`debugfs exited ${r.status}: ${r.stderr}`);
    const out = r.stdout;
    const sections = new Map<string, string>();
    for (const part of out.split(/^debugfs: /m).slice(1)) {
      const nl = part.indexOf('\n');
      sections.set(part.slice(0, nl), part.slice(nl + 1));
    }
    const counts = tree.linkCounts();
    const inoOf = new Map<Inode, number>();
    const seenIno = new Map<number, Inode>();
    for (const [path, node] of entries) {
      const where = `/${path}`;
      const st = parseStat(sections.get(`stat "/${path}"`) ?? '');
      if (!st) {
        problems.push(`${where}: debugfs cannot stat it`);
        continue;
      }
      const prev = inoOf.get(node);
      if (prev !== undefined && prev !== st.ino) problems.push(`${where}: hard link has inode ${st.ino}, expected ${prev}`);
      const other = seenIno.get(st.ino);
      if (other !== undefined && other !== node) problems.push(`${where}: shares inode ${st.ino} with a different tree inode`);
      inoOf.set(node, st.ino);
      seenIno.set(st.ino, node);
      if (st.type !== TYPE_NAMES[node.type]) problems.push(`${where}: type ${st.type}, expected ${TYPE_NAMES[node.type]}`);
      if (st.mode !== node.mode) problems.push(`${where}: mode ${st.mode.toString(8)}, expected ${node.mode.toString(8)}`);
      if (st.uid !== node.uid || st.gid !== node.gid) problems.push(`${where}: owner ${st.uid}:${st.gid}, expected ${node.uid}:${node.gid}`);
      const expectSize = node.type === 'file' ? (node.content?.size ?? 0) : node.type === 'symlink' ? new TextEncoder().encode(node.target!).length : undefined;
      if (expectSize !== undefined && st.size !== expectSize) problems.push(`${where}: size ${st.size}, expected ${expectSize}`);
      if (node.type === 'dir') {
        const subdirs =
          tree.children(path).filter((c) => tree.get(path ? `${path}/${c}` : c)!.type === 'dir').length + (path === '' && !tree.has('lost+found') ? 1 : 0);
        const expect = 2 + subdirs >= 65000 ? 1 : 2 + subdirs;
        if (st.links !== expect) problems.push(`${where}: ${st.links} links, expected ${expect}`);
      } else if (st.links !== counts.get(node)) problems.push(`${where}: ${st.links} links, expected ${counts.get(node)}`);
      const want: Record<string, Timestamp> = {
        mtime: node.mtime,
        atime: node.atime ?? node.mtime,
        ctime: node.ctime ?? node.mtime,
        crtime: node.crtime ?? node.mtime,
      };
      for (const [k, t] of Object.entries(want)) {
        const e = clamp(t, options.sourceDateEpoch);
        const g = st.times[k];
        if (!g || g.sec !== e.sec || g.nsec !== e.nsec) problems.push(`${where}: ${k} ${g ? `${g.sec}.${g.nsec}` : 'missing'}, expected ${e.sec}.${e.nsec}`);
      }
      if (node.type === 'symlink' && node.target!.length < 60 && st.fastLink !== node.target)
        problems.push(`${where}: fast link '${st.fastLink}', expected '${node.target}'`);
      if ((node.type === 'char' || node.type === 'block') && st.device !== `${node.rdev!.major}:${node.rdev!.minor}`) {
        problems.push(`${where}: device ${st.device}, expected ${node.rdev!.major}:${node.rdev!.minor}`);
      }
      for (const [name, value] of node.xattrs ?? []) {
        const text = sections.get(`ea_get -x "/${path}" ${name}`) ?? '';
        const m = new RegExp(`^${name.replace(/\./g, '\\.')} \\((\\d+)\\)(?: = ([0-9a-f ]*))?`, 'm').exec(text);
        const got = m
          ? Uint8Array.from(
              (m[2] ?? '')
                .trim()
                .split(/\s+/)
                .filter(Boolean)
                .map((h) => parseInt(h, 16)),
            )
          : undefined;
        if (!got || Buffer.compare(Buffer.from(got), Buffer.from(value)) !== 0) problems.push(`${where}: xattr ${name} reads ${text.trim().slice(0, 80)}`);
      }
    }
    // Content and symlink targets through rdump.
    for (const [path, node] of options.rdump === false ? [] : all) {
      const host = join(dump, path);
      if (node.type === 'file') {
        let got: Buffer;
        try {
          got = readFileSync(host);
        } catch (e) {
          problems.push(`/${path}: rdump did not produce it (${(e as Error).message})`);
          continue;
        }
        if (Buffer.compare(got, Buffer.from(readContent(node.content!))) !== 0) problems.push(`/${path}: content differs (${got.length} bytes read)`);
      } else if (node.type === 'symlink') {
        let got = '';
        try {
          got = readlinkSync(host);
        } catch (e) {
          problems.push(`/${path}: rdump did not produce the link (${(e as Error).message})`);
        }
        if (got !== node.target) problems.push(`/${path}: link target '${got}', expected '${node.target}'`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

/** Compares the image with the tree through our own reader (checksums verified as it reads). */
export function readerMismatches(image: string, tree: FileTree, options: { sourceDateEpoch?: number } = {}): string[] {
  const problems: string[] = [];
  const source = new FileSource(image);
  try {
    const reader = readExt4(source, { verify: true });
    const inoOf = new Map<Inode, number>();
    for (const [path, node] of tree.walk()) {
      const where = `/${path}`;
      let st;
      try {
        st = reader.stat(path);
      } catch (e) {
        problems.push(`${where}: reader: ${(e as Error).message}`);
        continue;
      }
      if (st.type !== node.type || st.mode !== node.mode || st.uid !== node.uid || st.gid !== node.gid) {
        problems.push(
          `${where}: reader sees ${st.type} ${st.mode.toString(8)} ${st.uid}:${st.gid}, expected ${node.type} ${node.mode.toString(8)} ${node.uid}:${node.gid}`,
        );
      }
      const m = clamp(node.mtime, options.sourceDateEpoch);
      if (st.mtime.sec !== m.sec || st.mtime.nsec !== m.nsec)
        problems.push(`${where}: reader mtime ${st.mtime.sec}.${st.mtime.nsec}, expected ${m.sec}.${m.nsec}`);
      const prev = inoOf.get(node);
      if (prev !== undefined && prev !== st.ino) problems.push(`${where}: reader inode ${st.ino}, expected ${prev}`);
      inoOf.set(node, st.ino);
      if (node.type === 'file' && (node.content?.size ?? 0) <= 64 << 20) {
        const got = reader.readFile(path);
        if (Buffer.compare(Buffer.from(got), Buffer.from(readContent(node.content!))) !== 0) problems.push(`${where}: reader content differs`);
      }
      if (node.type === 'symlink' && st.target !== node.target) problems.push(`${where}: reader link '${st.target}', expected '${node.target}'`);
      if ((node.type === 'char' || node.type === 'block') && (st.rdev?.major !== node.rdev!.major || st.rdev?.minor !== node.rdev!.minor))
        problems.push(`${where}: reader device differs`);
      for (const [name, value] of node.xattrs ?? []) {
        const got = st.xattrs?.get(name);
        if (!got || Buffer.compare(Buffer.from(got), Buffer.from(value)) !== 0) problems.push(`${where}: reader xattr ${name} differs`);
      }
    }
    for (const c of reader.checksumErrors) problems.push(`reader: checksum of ${c.what}: stored ${c.stored}, computed ${c.computed}`);
  } finally {
    source.close();
  }
  return problems;
}
