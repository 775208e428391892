import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { KilnError } from '../errors.js';
import { showHost } from './host-path.js';
import { bytesToName, printableName } from './name-bytes.js';
import type { FileTree } from './tree.js';

/**
 * Extended attributes of a host directory tree. Node has no xattr API, so kiln runs
 * `getfattr -R -d -m - -e base64 -P -h` (Debian's `attr`) once over the whole tree and parses
 * its output: one process, whatever the number of files, run while the tree is walked. Names (paths and attribute names)
 * come octal-escaped (`\012`, `\075` for '=', `\134` for '\') with other bytes raw in the C
 * locale, so they are kept as bytes; values are base64. `-P -h`: symlinks are neither followed
 * into nor read through (a symlink's own xattrs are its own).
 *
 * Never silent: when getfattr is missing, or cannot read some files, a warning says which
 * xattrs were not read.
 */
export interface XattrReadOptions {
  /** Read extended attributes (default true). */
  xattrs?: boolean;
  /** Where warnings go (default: `kiln: warning: …` on stderr). */
  onWarning?(message: string): void;
}

let missingWarned = false;

function defaultWarn(message: string): void {
  process.stderr.write(`kiln: warning: ${message}\n`);
}

/** Undoes getfattr's octal escapes into raw bytes. */
function unescape(field: Buffer): Uint8Array {
  if (!field.includes(0x5c)) return field;
  const out: number[] = [];
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c === 0x5c && isOctal(field[i + 1]) && isOctal(field[i + 2]) && isOctal(field[i + 3])) {
      out.push(((field[i + 1]! - 0x30) << 6) | ((field[i + 2]! - 0x30) << 3) | (field[i + 3]! - 0x30));
      i += 3;
    } else out.push(c);
  }
  return Uint8Array.from(out);
}

function isOctal(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x37;
}

/** Parses `getfattr -d -e base64` output into tree path → (name → value). */
export function parseGetfattr(out: Buffer): Map<string, Map<string, Uint8Array>> {
  const result = new Map<string, Map<string, Uint8Array>>();
  let current: Map<string, Uint8Array> | undefined;
  const FILE = Buffer.from('# file: ');
  let pos = 0;
  while (pos < out.length) {
    let end = out.indexOf(0x0a, pos);
    if (end < 0) end = out.length;
    const line = out.subarray(pos, end);
    pos = end + 1;
    if (line.length === 0) continue;
    if (line.subarray(0, FILE.length).equals(FILE)) {
      let path = bytesToName(unescape(line.subarray(FILE.length)));
      if (path === '.') path = '';
      else if (path.startsWith('./')) path = path.slice(2);
      current = new Map();
      result.set(path, current);
      continue;
    }
    if (!current || line[0] === 0x23) continue;
    const eq = line.indexOf(0x3d); // '=' inside names is escaped, so the first one separates
    const name = bytesToName(unescape(eq < 0 ? line : line.subarray(0, eq)));
    let value: Uint8Array = new Uint8Array(0);
    if (eq >= 0) {
      const text = line.subarray(eq + 1).toString('latin1');
      if (text.startsWith('0s')) value = Uint8Array.from(Buffer.from(text.slice(2), 'base64'));
      else if (text.startsWith('0x')) value = Uint8Array.from(Buffer.from(text.slice(2), 'hex'));
      else if (text.startsWith('"') && text.endsWith('"')) value = unescape(Buffer.from(text.slice(1, -1), 'latin1'));
      else throw new KilnError('xattr-parse', `cannot parse getfattr's value for '${printableName(name)}'`);
    }
    current.set(name, value);
  }
  return result;
}

/** The getfattr run of the worker: what spawnSync gave, or how it failed to start. */
interface GetfattrRun {
  stdout: Uint8Array;
  stderr: Uint8Array;
  status: number | null;
  error?: { code?: string; message: string };
}

/**
 * The worker that runs getfattr, as source (run with `eval`: no module file to find, under tests
 * or built). It posts the run's outcome and raises a flag the main thread waits on.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { spawnSync } = require('node:child_process');
const { root, args, port, flag } = workerData;
const r = spawnSync('getfattr', args, { cwd: root, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
const error = r.error ? { code: r.error.code, message: r.error.message } : undefined;
port.postMessage({ stdout: r.stdout ?? new Uint8Array(0), stderr: r.stderr ?? new Uint8Array(0), status: r.status, error });
Atomics.store(flag, 0, 1);
Atomics.notify(flag, 0);
`;

/** Extended attributes being read in the background; `apply` waits for them and puts them into the tree. */
export interface PendingXattrs {
  apply(tree: FileTree): void;
}

/**
 * Starts reading the xattrs of every file under `root`: getfattr runs while the caller walks
 * the tree (a worker thread waits for it, so the caller's thread does not). `apply` then puts
 * them into the tree built from `root` (same paths); files the tree does not hold (changed
 * since the walk) are ignored.
 */
export function startReadingXattrs(root: string, options: XattrReadOptions = {}): PendingXattrs {
  if (options.xattrs === false) return { apply() {} };
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const args = ['-R', '-d', '-m', '-', '-e', 'base64', '--absolute-names', '-P', '-h', '.'];
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { root, args, port: port2, flag }, transferList: [port2] });
  worker.unref();
  port1.unref();
  return {
    apply(tree) {
      while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
      const run = receiveMessageOnPort(port1)?.message as GetfattrRun | undefined;
      port1.close();
      if (!run) throw new Error('the getfattr worker ended without a result');
      applyGetfattr(root, tree, run, options);
    },
  };
}

function applyGetfattr(root: string, tree: FileTree, r: GetfattrRun, options: XattrReadOptions): void {
  const warn = options.onWarning ?? defaultWarn;
  if (r.error) {
    if (r.error.code === 'ENOENT') {
      if (!missingWarned || options.onWarning)
        warn(`extended attributes (xattrs) of the files in '${showHost(root)}' were not read: getfattr is not installed (Debian package 'attr')`);
      missingWarned = true;
      return;
    }
    throw new KilnError('xattr-read', `cannot read the extended attributes of '${showHost(root)}': getfattr failed: ${r.error.message}`);
  }
  const found = parseGetfattr(Buffer.from(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength));
  for (const [path, attrs] of found) {
    const inode = tree.get(path);
    if (!inode || attrs.size === 0) continue;
    const map = new Map([...(inode.xattrs ?? new Map<string, Uint8Array>()), ...attrs]);
    inode.xattrs = map;
  }
  if (r.status !== 0) {
    const lines = Buffer.from(r.stderr.buffer, r.stderr.byteOffset, r.stderr.byteLength)
      .toString('latin1')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const shown = lines.slice(0, 5).map((l) => `  ${printableName(bytesToName(Buffer.from(l, 'latin1')))}`);
    warn(
      `the extended attributes (xattrs) of some files in '${showHost(root)}' could not be read, so they are left out:\n${shown.join('\n')}${lines.length > 5 ? `\n  … and ${lines.length - 5} more` : ''}`,
    );
  }
}
