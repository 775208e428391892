import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { KilnError, type SourcePosition } from '../errors.js';
import { partitionTypeByName, partitionTypeNames } from './type-names.js';
import { formatSize, parseSize } from '../units.js';
import { badFsPath, layoutError, MAX_BYTES, MBR_MAX_BYTES, MiB, type DiskLayout, type PartitionSpec, type Positions } from './disk-layout.js';
import { isUuid } from '../fs/uuid.js';
import type { LayoutReader } from './formats/format.js';
import { formatKeys, formatNamed, formatNames } from './formats/index.js';

/**
 * Disk layouts written as YAML (Node only: paths are checked on the host and made absolute
 * against the layout file's directory). The layout types themselves are in disk-layout.ts.
 */

class Reader implements LayoutReader {
  /** Set once the table is known to be MBR: sizes beyond 2^53 bytes then name the MBR's limit. */
  mbr = false;
  constructor(
    readonly file: string,
    readonly lines: LineCounter,
    /** The layout file's directory, which host paths are relative to. */
    readonly base: string,
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
        ? this.fail(
            node,
            `${what} ${text} is beyond what an MBR table can address: at most 2^32 sectors of 512 bytes (2 TiB)`,
            'use table: gpt, or a smaller size such as 64M or 2G',
          )
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
  hostPath(node: YamlNode | undefined, what: string, kind: 'file' | 'dir' | 'any'): string {
    const text = this.string(node, what);
    const path = isAbsolute(text) ? text : resolve(this.base, text);
    if (!existsSync(path)) this.fail(node, `${what} '${text}' does not exist (looked for ${path})`, 'paths are relative to the layout file');
    const st = statSync(path);
    if (kind === 'dir' && !st.isDirectory()) this.fail(node, `${what} '${text}' is not a directory`);
    if (kind === 'file' && !st.isFile()) this.fail(node, `${what} '${text}' is not a regular file`);
    return path;
  }

  hostHas(dir: string, name: string): boolean {
    return existsSync(resolve(dir, name));
  }
}

const TOP_KEYS = ['table', 'size', 'alignment', 'seed', 'disk-signature', 'disk-guid', 'boot-code', 'partitions'] as const;
/** The keys of a partition every format shares; each format adds its own (formats/index.ts). */
const COMMON_KEYS: readonly string[] = ['filesystem', 'size', 'start', 'name', 'label', 'uuid', 'source', 'files', 'root-owner', 'bootable', 'type'];
/** Keys of the formats whose content is a tree. */
const TREE_KEYS: readonly string[] = ['root-owner', 'files'];

function parsePartition(r: Reader, node: YamlNode, index: number): PartitionSpec {
  const what = `partition ${index + 1}`;
  const { map, positions } = r.entries(node, what, [...COMMON_KEYS, ...formatKeys()]);
  if (!map.has('filesystem')) r.fail(node, `${what} needs 'filesystem': ${formatNames()}`);
  const fsNode = map.get('filesystem');
  const fs = r.string(fsNode, 'filesystem');
  const format = formatNamed(fs);
  if (!format) r.fail(fsNode, `unknown filesystem '${fs}'`, `use ${formatNames()}`);
  const filesystem = format.name;
  for (const key of map.keys()) {
    const applies = COMMON_KEYS.includes(key) ? !TREE_KEYS.includes(key) || format.source === 'tree' : Object.hasOwn(format.keys, key);
    if (!applies) r.fail(map.get(key), `'${key}' does not apply to a ${filesystem} partition`);
  }
  if (!map.has('size')) r.fail(node, `${what} needs 'size' (e.g. 64M, auto or rest)`);
  const size = r.size(map.get('size'), `${what} size`, ['auto', 'rest']) as PartitionSpec['size'];
  if (typeof size === 'number' && size % 512 !== 0) r.fail(map.get('size'), `${what} size ${size} is not a multiple of 512 bytes`);
  const spec: PartitionSpec = { filesystem, size, positions };
  if (map.has('start')) {
    const s = r.size(map.get('start'), `${what} start`);
    if (typeof s !== 'number' || s % 512 !== 0) r.fail(map.get('start'), `${what} start must be a multiple of 512 bytes`);
    spec.start = s;
  }
  if (map.has('name')) spec.name = r.string(map.get('name'), 'name');
  if (map.has('label')) {
    const label = r.string(map.get('label'), 'label');
    const max = format.labelBytes;
    if (max === undefined) r.fail(map.get('label'), `a ${filesystem} partition has no filesystem label`, "use 'name' for a GPT partition name");
    if (Buffer.byteLength(label) > max) r.fail(map.get('label'), `${filesystem} label '${label}' is longer than ${max} bytes`);
    spec.label = label;
  }
  if (map.has('uuid')) {
    const uuid = r.string(map.get('uuid'), 'uuid');
    if (!format.uuid) r.fail(map.get('uuid'), `a ${filesystem} partition has no filesystem UUID`);
    if (!format.uuid.valid(uuid)) r.fail(map.get('uuid'), `invalid ${filesystem} uuid '${uuid}'`, format.uuid.hint);
    spec.uuid = uuid;
  }
  if (map.has('source')) {
    if (!format.source) r.fail(map.get('source'), `a ${filesystem} partition takes no source`);
    spec.source = r.hostPath(map.get('source'), 'source', format.source === 'file' ? 'file' : 'any');
  }
  if (map.has('files')) {
    const filesNode = map.get('files');
    if (!isMap(filesNode)) r.fail(filesNode, "'files' must map paths in the filesystem to host files");
    spec.files = {};
    for (const pair of filesNode.items as Pair<YamlNode, YamlNode>[]) {
      const dest = r.string(pair.key, 'file destination');
      if (!dest.startsWith('/')) r.fail(pair.key, `file destination '${dest}' must be an absolute path inside the filesystem`);
      const bad = badFsPath(dest);
      if (bad)
        r.fail(
          pair.key,
          `file destination '${JSON.stringify(dest).slice(1, -1)}' ${bad}`,
          'write an absolute path inside the filesystem, e.g. /vmlinuz or /boot/initrd.img',
        );
      if (Object.hasOwn(spec.files, dest)) r.fail(pair.key, `file destination '${dest}' is given twice`);
      spec.files[dest] = r.hostPath(pair.value ?? undefined, `file for '${dest}'`, 'file');
    }
  }
  if (map.has('root-owner')) spec.rootOwner = r.bool(map.get('root-owner'), 'root-owner');
  if (map.has('bootable')) spec.bootable = r.bool(map.get('bootable'), 'bootable');
  if (map.has('type')) {
    const v = r.scalar(map.get('type'));
    const named = typeof v === 'string' && !/^0x/i.test(v) ? partitionTypeByName(v) : undefined;
    const table = r.mbr ? 'mbr' : 'gpt';
    if (typeof v === 'string' && isUuid(v)) {
      if (r.mbr)
        r.fail(
          map.get('type'),
          `type '${v}' is a GPT type GUID, but the table is MBR`,
          `give an MBR type byte such as 0x83, or a name: ${partitionTypeNames('mbr').join(', ')}`,
        );
      spec.type = v;
    } else if (named) {
      const t = r.mbr ? named.mbr : named.gpt;
      if (t === undefined) r.fail(map.get('type'), `type '${v}' has no ${table.toUpperCase()} type`, `use one of: ${partitionTypeNames(table).join(', ')}`);
      spec.type = t;
    } else if (typeof v === 'string' && !/^(0x[0-9a-f]+|\d+)$/i.test(v)) {
      r.fail(
        map.get('type'),
        `unknown partition type '${v}'`,
        `use a name (${partitionTypeNames(table).join(', ')}), ${r.mbr ? 'an MBR type byte such as 0x83' : 'a GPT type GUID'}`,
      );
    } else if (!r.mbr) {
      r.fail(
        map.get('type'),
        `type ${String(v)} is an MBR type byte, but the table is GPT`,
        `use a name (${partitionTypeNames('gpt').join(', ')}) or a GPT type GUID`,
      );
    } else spec.type = r.int(map.get('type'), 'type (an MBR type byte such as 0x83, or a name such as linux)', 1, 0xff);
  }
  for (const [key, read] of Object.entries(format.keys)) if (map.has(key)) read(r, map.get(key)!, spec);
  format.check?.(spec, (key, message, hint) => r.fail(map.get(key), message, hint));
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
  const r: Reader = new Reader(file, lines, dirname(resolve(file)));
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
  if (map.has('boot-code')) layout.bootCode = r.hostPath(map.get('boot-code'), 'boot-code', 'file');
  const parts = map.get('partitions');
  if (!parts) r.fail(root, "the layout needs 'partitions': a list of partitions");
  if (!isSeq(parts) || parts.items.length === 0) r.fail(parts, "'partitions' must be a non-empty list");
  (parts.items as YamlNode[]).forEach((item, i) => layout.partitions.push(parsePartition(r, item, i)));
  if (table === 'mbr') {
    // An MBR entry has 32-bit start and length in 512-byte sectors: refuse what it cannot address.
    const limit = 'an MBR table addresses at most 2^32 sectors of 512 bytes (2 TiB)';
    if (typeof layout.size === 'number' && layout.size > MBR_MAX_BYTES)
      throw layoutError(
        positions.keys.size,
        `disk size ${formatSize(layout.size)} (${layout.size} bytes) is beyond what an MBR can address: ${limit}`,
        'use table: gpt, or a smaller disk size',
      );
    layout.partitions.forEach((p, i) => {
      if (typeof p.size === 'number' && p.size > MBR_MAX_BYTES - 512)
        throw layoutError(
          p.positions?.keys.size,
          `partition ${i + 1} size ${formatSize(p.size)} (${p.size} bytes) is beyond what an MBR can address: ${limit}`,
          'use table: gpt, or a smaller partition',
        );
      if (p.start !== undefined && p.start >= MBR_MAX_BYTES)
        throw layoutError(
          p.positions?.keys.start,
          `partition ${i + 1} start ${formatSize(p.start)} is beyond what an MBR can address: ${limit}`,
          'use table: gpt, or start the partition earlier',
        );
    });
  }
  const bootable = layout.partitions.filter((p) => p.bootable);
  if (bootable.length > 1)
    throw layoutError(
      bootable[1]!.positions?.keys.bootable,
      'more than one partition is bootable',
      'the boot code starts the one active partition; mark only one',
    );
  layout.partitions.forEach((p, i) => {
    if (p.size === 'rest' && i !== layout.partitions.length - 1) throw layoutError(p.positions?.keys.size, "only the last partition can have size 'rest'");
    if (p.size === 'rest' && layout.size === 'auto')
      throw layoutError(p.positions?.keys.size, "size 'rest' needs an explicit disk size", 'give the layout a size, e.g. size: 2G');
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
