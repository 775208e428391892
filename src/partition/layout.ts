import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { KilnError, type SourcePosition } from '../errors.js';
import { partitionTypeByName, partitionTypeNames } from './type-names.js';
import { formatSize, parseSize } from '../units.js';
import {
  badFsPath,
  controlCharacter,
  layoutError,
  MAX_BYTES,
  MBR_MAX_BYTES,
  MiB,
  type DiskLayout,
  type PartitionFilesystem,
  type PartitionSpec,
  type Positions,
  type SyslinuxSpec,
} from './disk-layout.js';
import { isUuid } from '../fs/uuid.js';

/**
 * Disk layouts written as YAML (Node only: paths are checked on the host and made absolute
 * against the layout file's directory). The layout types themselves are in disk-layout.ts.
 */

class Reader {
  /** Set once the table is known to be MBR: sizes beyond 2^53 bytes then name the MBR's limit. */
  mbr = false;
  constructor(
    readonly file: string,
    readonly lines: LineCounter,
  ) {}

  pos(node: YamlNode | null | undefined): SourcePosition | undefined {
    const off = node?.range?.[0];
    if (off === undefined) return undefined;
    const lp = this.lines.linePos(off);
    return { file: this.file, line: lp.line, col: lp.col };
  }

  fail(node: YamlNode | null | undefined, message: string, hint?: string): never {
    throw layoutError(this.pos(node), message, hint);
  }

  /** The map's entries by key, refusing keys not in `allowed`. */
  entries(node: YamlNode | null | undefined, what: string, allowed: readonly string[]): { map: Map<string, YamlNode>; positions: Positions } {
    if (!isMap(node)) this.fail(node, `${what} must be a mapping of keys to values`);
    const map = new Map<string, YamlNode>();
    const positions: Positions = { keys: {} };
    const p = this.pos(node);
    if (p) positions.at = p;
    for (const pair of (node as YAMLMap).items as Pair<YamlNode, YamlNode>[]) {
      const keyNode = pair.key;
      const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined) this.fail(keyNode, `${what}: keys must be plain words`);
      if (!allowed.includes(key)) this.fail(keyNode, `unknown key '${key}' in ${what}`, `known keys: ${allowed.join(', ')}`);
      if (map.has(key)) this.fail(keyNode, `key '${key}' is given twice in ${what}`);
      const value = pair.value ?? keyNode;
      map.set(key, value);
      const vp = this.pos(pair.value ?? keyNode);
      if (vp) positions.keys[key] = vp;
    }
    return { map, positions };
  }

  scalar(node: YamlNode | undefined): unknown {
    if (!isScalar(node)) this.fail(node, 'expected a single value here, not a list or mapping');
    return node.value;
  }

  string(node: YamlNode | undefined, what: string): string {
    const v = this.scalar(node);
    if (typeof v !== 'string' && typeof v !== 'number') this.fail(node, `${what} must be text`);
    return String(v);
  }

  bool(node: YamlNode | undefined, what: string): boolean {
    const v = this.scalar(node);
    if (typeof v !== 'boolean') this.fail(node, `${what} must be true or false`);
    return v;
  }

  int(node: YamlNode | undefined, what: string, min: number, max: number): number {
    const v = this.scalar(node);
    const n = typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) this.fail(node, `${what} must be a whole number from ${min} to ${max}`);
    return n;
  }

  size(node: YamlNode | undefined, what: string, words: readonly string[] = []): number | string {
    const v = this.scalar(node);
    if (typeof v === 'string' && words.includes(v)) return v;
    const tooLarge = (text: string): never =>
      this.mbr
        ? this.fail(node, `${what} ${text} is beyond what an MBR table can address: at most 2^32 sectors of 512 bytes (2 TiB)`, 'use table: gpt, or a smaller size such as 64M or 2G')
        : this.fail(node, `${what} ${text} is too large: kiln handles disks and partitions up to 8 PiB (2^53 bytes)`, 'write a size such as 64M or 2G');
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) {
      if (v > MAX_BYTES) tooLarge(String(v));
      return v;
    }
    if (typeof v === 'string') {
      let n: number;
      try {
        n = parseSize(v, what);
      } catch (e) {
        if (/too large/.test((e as KilnError).message)) tooLarge(`'${v}'`);
        this.fail(node, (e as KilnError).message, `write a size such as 64M or 2G${words.length ? ` or ${words.join(' / ')}` : ''}`);
      }
      if (n > MAX_BYTES) tooLarge(`'${v}'`);
      return n;
    }
    this.fail(node, `${what} must be a size such as 64M${words.length ? ` or ${words.join(' / ')}` : ''}`);
  }

  /** A host path that must exist, relative to the layout file. */
  hostPath(node: YamlNode | undefined, what: string, base: string, kind: 'file' | 'dir' | 'any'): string {
    const text = this.string(node, what);
    const path = isAbsolute(text) ? text : resolve(base, text);
    if (!existsSync(path)) this.fail(node, `${what} '${text}' does not exist (looked for ${path})`, 'paths are relative to the layout file');
    const st = statSync(path);
    if (kind === 'dir' && !st.isDirectory()) this.fail(node, `${what} '${text}' is not a directory`);
    if (kind === 'file' && !st.isFile()) this.fail(node, `${what} '${text}' is not a regular file`);
    return path;
  }
}

const TOP_KEYS = ['table', 'size', 'alignment', 'seed', 'disk-signature', 'disk-guid', 'boot-code', 'partitions'] as const;
const PART_KEYS = [
  'filesystem',
  'size',
  'start',
  'name',
  'label',
  'uuid',
  'source',
  'files',
  'root-owner',
  'bootable',
  'type',
  'fat',
  'cluster-size',
  'inode-ratio',
  'syslinux',
] as const;
const SYSLINUX_KEYS = ['binaries', 'directory', 'config', 'kernel', 'initrd', 'cmdline', 'serial', 'timeout'] as const;
const ONLY_FOR: Record<string, PartitionFilesystem[]> = {
  fat: ['fat'],
  'cluster-size': ['fat'],
  syslinux: ['fat'],
  'inode-ratio': ['ext4'],
  'root-owner': ['fat', 'ext4'],
  files: ['fat', 'ext4'],
};
const LABEL_MAX: Record<PartitionFilesystem, number> = { fat: 11, ext4: 16, swap: 16, raw: 0 };
const SYSLINUX_BINARIES = ['ldlinux.bss', 'ldlinux.sys', 'ldlinux.c32', 'mbr.bin'];

function parseSyslinux(r: Reader, node: YamlNode, base: string): SyslinuxSpec {
  const { map, positions } = r.entries(node, 'syslinux', SYSLINUX_KEYS);
  if (!map.has('binaries')) r.fail(node, "syslinux needs 'binaries': the directory holding ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin");
  const binaries = r.hostPath(map.get('binaries'), 'syslinux binaries', base, 'dir');
  for (const name of SYSLINUX_BINARIES) {
    if (!existsSync(resolve(binaries, name))) r.fail(map.get('binaries'), `syslinux binaries directory has no ${name}`, `it must hold ${SYSLINUX_BINARIES.join(', ')} from one SYSLINUX build`);
  }
  let directory = map.has('directory') ? r.string(map.get('directory'), 'syslinux directory') : '/syslinux';
  if (!directory.startsWith('/')) directory = `/${directory}`;
  if (directory.length > 255) r.fail(map.get('directory'), 'syslinux directory is longer than 255 bytes');
  if (map.has('directory')) {
    const ctl = controlCharacter(directory);
    if (ctl) r.fail(map.get('directory'), `syslinux directory contains ${ctl}`, 'write a plain path inside the FAT partition, e.g. /syslinux');
    if (directory.split('/').includes('..')) r.fail(map.get('directory'), `syslinux directory '${directory}' has a '..' component, which would leave the partition`, 'write a path inside the FAT partition, e.g. /syslinux or / (the root)');
  }
  const spec: SyslinuxSpec = { binaries, directory, positions };
  if (map.has('config')) spec.config = r.hostPath(map.get('config'), 'syslinux config', base, 'file');
  for (const k of ['kernel', 'initrd', 'cmdline'] as const) {
    if (!map.has(k)) continue;
    const text = r.string(map.get(k), `syslinux ${k}`);
    // Each value becomes part of one syslinux.cfg line: a line break would add directives.
    const ctl = controlCharacter(text);
    if (ctl) r.fail(map.get(k), `syslinux ${k} contains ${ctl}; it would break the syslinux.cfg line it goes into`, `write the ${k} on one line without control characters${k === 'cmdline' ? ' (separate kernel arguments with spaces)' : ''}`);
    if (k !== 'cmdline' && /\s/.test(text)) r.fail(map.get(k), `syslinux ${k} '${text}' contains a space; SYSLINUX would read only the part before it`, `name the ${k} by a path without spaces`);
    if (k !== 'cmdline' && text === '') r.fail(map.get(k), `syslinux ${k} is empty`, `name the ${k} file, e.g. /vmlinuz`);
    spec[k] = text;
  }
  if (map.has('serial')) {
    const v = r.scalar(map.get('serial'));
    spec.serial = v === true ? 115200 : r.int(map.get('serial'), 'syslinux serial (baud rate)', 1, 4_000_000);
  }
  if (map.has('timeout')) spec.timeout = r.int(map.get('timeout'), 'syslinux timeout (tenths of a second)', 0, 36000);
  if (spec.config && (spec.kernel || spec.cmdline || spec.initrd)) r.fail(map.get('config'), "give either 'config' or kernel/initrd/cmdline, not both");
  if (!spec.config && !spec.kernel) r.fail(node, "syslinux needs 'kernel' (path of the kernel in this partition) or a 'config' file");
  return spec;
}

function parsePartition(r: Reader, node: YamlNode, index: number, base: string): PartitionSpec {
  const what = `partition ${index + 1}`;
  const { map, positions } = r.entries(node, what, PART_KEYS);
  if (!map.has('filesystem')) r.fail(node, `${what} needs 'filesystem': fat, ext4, swap or raw`);
  const fsNode = map.get('filesystem');
  const fs = r.string(fsNode, 'filesystem');
  if (!['fat', 'ext4', 'swap', 'raw'].includes(fs)) r.fail(fsNode, `unknown filesystem '${fs}'`, 'use fat, ext4, swap or raw');
  const filesystem = fs as PartitionFilesystem;
  for (const [key, kinds] of Object.entries(ONLY_FOR)) {
    if (map.has(key) && !kinds.includes(filesystem)) r.fail(map.get(key), `'${key}' does not apply to a ${filesystem} partition`);
  }
  if (!map.has('size')) r.fail(node, `${what} needs 'size' (e.g. 64M, auto or rest)`);
  const size = r.size(map.get('size'), `${what} size`, ['auto', 'rest']) as PartitionSpec['size'];
  if (typeof size === 'number' && size % 512 !== 0) r.fail(map.get('size'), `${what} size ${size} is not a multiple of 512 bytes`);
  if (size === 'auto' && filesystem === 'swap') r.fail(map.get('size'), 'a swap partition needs an explicit size', 'write e.g. size: 256M');
  const spec: PartitionSpec = { filesystem, size, positions };
  if (map.has('start')) {
    const s = r.size(map.get('start'), `${what} start`);
    if (typeof s !== 'number' || s % 512 !== 0) r.fail(map.get('start'), `${what} start must be a multiple of 512 bytes`);
    spec.start = s;
  }
  if (map.has('name')) spec.name = r.string(map.get('name'), 'name');
  if (map.has('label')) {
    const label = r.string(map.get('label'), 'label');
    const max = LABEL_MAX[filesystem];
    if (max === 0) r.fail(map.get('label'), 'a raw partition has no filesystem label', "use 'name' for a GPT partition name");
    if (Buffer.byteLength(label) > max) r.fail(map.get('label'), `${filesystem} label '${label}' is longer than ${max} bytes`);
    spec.label = label;
  }
  if (map.has('uuid')) {
    const uuid = r.string(map.get('uuid'), 'uuid');
    if (filesystem === 'fat' ? !/^[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}$/.test(uuid) : !isUuid(uuid)) {
      r.fail(map.get('uuid'), `invalid ${filesystem} uuid '${uuid}'`, filesystem === 'fat' ? 'a FAT volume id is 8 hex digits, e.g. 1234-ABCD' : 'write 8-4-4-4-12 hex digits');
    }
    if (filesystem === 'raw') r.fail(map.get('uuid'), 'a raw partition has no filesystem UUID');
    spec.uuid = uuid;
  }
  if (map.has('source')) {
    if (filesystem === 'swap') r.fail(map.get('source'), 'a swap partition takes no source');
    spec.source = r.hostPath(map.get('source'), 'source', base, filesystem === 'raw' ? 'file' : 'any');
  }
  if (map.has('files')) {
    const filesNode = map.get('files');
    if (!isMap(filesNode)) r.fail(filesNode, "'files' must map paths in the filesystem to host files");
    spec.files = {};
    for (const pair of filesNode.items as Pair<YamlNode, YamlNode>[]) {
      const dest = r.string(pair.key, 'file destination');
      if (!dest.startsWith('/')) r.fail(pair.key, `file destination '${dest}' must be an absolute path inside the filesystem`);
      const bad = badFsPath(dest);
      if (bad) r.fail(pair.key, `file destination '${JSON.stringify(dest).slice(1, -1)}' ${bad}`, 'write an absolute path inside the filesystem, e.g. /vmlinuz or /boot/initrd.img');
      if (Object.hasOwn(spec.files, dest)) r.fail(pair.key, `file destination '${dest}' is given twice`);
      spec.files[dest] = r.hostPath(pair.value ?? undefined, `file for '${dest}'`, base, 'file');
    }
  }
  if (map.has('root-owner')) spec.rootOwner = r.bool(map.get('root-owner'), 'root-owner');
  if (map.has('bootable')) spec.bootable = r.bool(map.get('bootable'), 'bootable');
  if (map.has('type')) {
    const v = r.scalar(map.get('type'));
    const named = typeof v === 'string' && !/^0x/i.test(v) ? partitionTypeByName(v) : undefined;
    const table = r.mbr ? 'mbr' : 'gpt';
    if (typeof v === 'string' && isUuid(v)) {
      if (r.mbr) r.fail(map.get('type'), `type '${v}' is a GPT type GUID, but the table is MBR`, `give an MBR type byte such as 0x83, or a name: ${partitionTypeNames('mbr').join(', ')}`);
      spec.type = v;
    } else if (named) {
      const t = r.mbr ? named.mbr : named.gpt;
      if (t === undefined) r.fail(map.get('type'), `type '${v}' has no ${table.toUpperCase()} type`, `use one of: ${partitionTypeNames(table).join(', ')}`);
      spec.type = t;
    } else if (typeof v === 'string' && !/^(0x[0-9a-f]+|\d+)$/i.test(v)) {
      r.fail(map.get('type'), `unknown partition type '${v}'`, `use a name (${partitionTypeNames(table).join(', ')}), ${r.mbr ? 'an MBR type byte such as 0x83' : 'a GPT type GUID'}`);
    } else if (!r.mbr) {
      r.fail(map.get('type'), `type ${String(v)} is an MBR type byte, but the table is GPT`, `use a name (${partitionTypeNames('gpt').join(', ')}) or a GPT type GUID`);
    } else spec.type = r.int(map.get('type'), 'type (an MBR type byte such as 0x83, or a name such as linux)', 1, 0xff);
  }
  if (map.has('fat')) {
    const t = r.int(map.get('fat'), 'fat', 12, 32);
    if (t !== 12 && t !== 16 && t !== 32) r.fail(map.get('fat'), 'fat must be 12, 16 or 32');
    spec.fatType = t;
  }
  if (map.has('cluster-size')) {
    const c = r.size(map.get('cluster-size'), 'cluster-size');
    if (typeof c !== 'number' || c < 512 || c > 65536 || (c & (c - 1)) !== 0) r.fail(map.get('cluster-size'), 'cluster-size must be a power of two from 512 bytes to 64K');
    spec.clusterSize = c;
  }
  if (map.has('inode-ratio')) spec.inodeRatio = r.int(map.get('inode-ratio'), 'inode-ratio (bytes per inode)', 1024, 64 * MiB);
  if (map.has('syslinux')) spec.syslinux = parseSyslinux(r, map.get('syslinux')!, base);
  if (filesystem === 'raw' && !spec.source && typeof size !== 'number') r.fail(map.get('size'), "a raw partition without 'source' needs an explicit size");
  return spec;
}

/** Parses a YAML layout; every error names file:line:col. Host paths are checked to exist. */
export function parseLayout(text: string, file: string): DiskLayout {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const lp = lines.linePos(e.pos[0]);
    throw layoutError({ file, line: lp.line, col: lp.col }, `YAML syntax error: ${e.message.split('\n')[0]}`);
  }
  const r: Reader = new Reader(file, lines);
  const base = dirname(resolve(file));
  const root = doc.contents as YamlNode | null;
  if (!root) throw layoutError({ file, line: 1, col: 1 }, 'the layout is empty', 'list at least table and partitions');
  const { map, positions } = r.entries(root, 'the layout', TOP_KEYS);
  const table = map.has('table') ? r.string(map.get('table'), 'table') : 'mbr';
  if (table !== 'mbr' && table !== 'gpt') r.fail(map.get('table'), `unknown table type '${table}'`, 'use mbr or gpt');
  r.mbr = table === 'mbr';
  const size = map.has('size') ? r.size(map.get('size'), 'disk size', ['auto']) : 'auto';
  if (typeof size === 'number' && size % 512 !== 0) r.fail(map.get('size'), `disk size ${size} is not a multiple of 512 bytes`);
  const alignment = map.has('alignment') ? r.size(map.get('alignment'), 'alignment') : MiB;
  if (typeof alignment !== 'number' || alignment % 512 !== 0) r.fail(map.get('alignment'), 'alignment must be a multiple of 512 bytes');
  const layout: DiskLayout = { table, size: size as DiskLayout['size'], alignment, partitions: [], file, positions };
  if (map.has('seed')) layout.seed = r.string(map.get('seed'), 'seed');
  if (map.has('disk-signature')) {
    if (table !== 'mbr') r.fail(map.get('disk-signature'), "'disk-signature' is for MBR tables; GPT has 'disk-guid'");
    layout.diskSignature = r.int(map.get('disk-signature'), 'disk-signature', 0, 0xffffffff);
  }
  if (map.has('disk-guid')) {
    if (table !== 'gpt') r.fail(map.get('disk-guid'), "'disk-guid' is for GPT tables; MBR has 'disk-signature'");
    const g = r.string(map.get('disk-guid'), 'disk-guid');
    if (!isUuid(g)) r.fail(map.get('disk-guid'), `invalid disk-guid '${g}'`, 'write 8-4-4-4-12 hex digits');
    layout.diskGuid = g;
  }
  if (map.has('boot-code')) layout.bootCode = r.hostPath(map.get('boot-code'), 'boot-code', base, 'file');
  const parts = map.get('partitions');
  if (!parts) r.fail(root, "the layout needs 'partitions': a list of partitions");
  if (!isSeq(parts) || parts.items.length === 0) r.fail(parts, "'partitions' must be a non-empty list");
  (parts.items as YamlNode[]).forEach((item, i) => layout.partitions.push(parsePartition(r, item, i, base)));
  if (table === 'mbr') {
    // An MBR entry has 32-bit start and length in 512-byte sectors: refuse what it cannot address.
    const limit = 'an MBR table addresses at most 2^32 sectors of 512 bytes (2 TiB)';
    if (typeof layout.size === 'number' && layout.size > MBR_MAX_BYTES) throw layoutError(positions.keys.size, `disk size ${formatSize(layout.size)} (${layout.size} bytes) is beyond what an MBR can address: ${limit}`, 'use table: gpt, or a smaller disk size');
    layout.partitions.forEach((p, i) => {
      if (typeof p.size === 'number' && p.size > MBR_MAX_BYTES - 512) throw layoutError(p.positions?.keys.size, `partition ${i + 1} size ${formatSize(p.size)} (${p.size} bytes) is beyond what an MBR can address: ${limit}`, 'use table: gpt, or a smaller partition');
      if (p.start !== undefined && p.start >= MBR_MAX_BYTES) throw layoutError(p.positions?.keys.start, `partition ${i + 1} start ${formatSize(p.start)} is beyond what an MBR can address: ${limit}`, 'use table: gpt, or start the partition earlier');
    });
  }
  const bootable = layout.partitions.filter((p) => p.bootable);
  if (bootable.length > 1) throw layoutError(bootable[1]!.positions?.keys.bootable, 'more than one partition is bootable', 'the boot code starts the one active partition; mark only one');
  layout.partitions.forEach((p, i) => {
    if (p.size === 'rest' && i !== layout.partitions.length - 1) throw layoutError(p.positions?.keys.size, "only the last partition can have size 'rest'");
    if (p.size === 'rest' && layout.size === 'auto') throw layoutError(p.positions?.keys.size, "size 'rest' needs an explicit disk size", 'give the layout a size, e.g. size: 2G');
  });
  return layout;
}

export function readLayoutFile(path: string): DiskLayout {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KilnError('no-layout', `cannot read layout '${path}': ${(e as Error).message}`);
  }
  return parseLayout(text, path);
}
