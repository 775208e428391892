import { partitionTypeName } from '../partition/type-names.js';
import { formatSize } from '../units.js';
import { useColour } from './colour.js';

/**
 * What `kiln image inspect` and `kiln mkimage --dry-run` show of a disk: the facts (also the
 * `--json` shape, documented in docs/cli.md#json-output) and the picture drawn from them.
 */

export interface PartitionView {
  /** As Linux numbers it (sda1…; 5 and up are logical partitions of an MBR). */
  number: number;
  /** Bytes from the start of the disk. */
  start: number;
  size: number;
  /** GPT type GUID (upper case) or MBR type byte as `0x83`; null for a bare filesystem image. */
  type: string | null;
  /** `esp`, `linux`, `swap`, … when the type has a name (see docs/layout.md#partition-types). */
  typeName: string | null;
  /** GPT partition name. */
  name: string | null;
  /** GPT unique partition GUID (blkid's PARTUUID); for MBR `SIGNATURE-NN` as blkid prints it. */
  partuuid: string | null;
  bootable: boolean;
  /** `ext4` (`ext2`, `ext3` for older ones, as blkid names them), `fat`, `swap`, or null when no filesystem kiln knows is found. */
  filesystem: string | null;
  /** FAT: 12, 16 or 32. */
  fatType?: number;
  label: string | null;
  uuid: string | null;
  /** Bytes used and free inside the filesystem, when its reader knows. */
  used: number | null;
  free: number | null;
}

export interface DiskView {
  /** The image file (or the layout, for a dry run). */
  image: string;
  size: number;
  /** `mbr`, `gpt`, or null for a bare filesystem image. */
  table: 'mbr' | 'gpt' | null;
  /** MBR disk signature as 8 hex digits, or GPT disk GUID. */
  id: string | null;
  sectorSize: 512;
  partitions: PartitionView[];
  /** Unallocated regions of at least GAP_MIN bytes inside the table's usable sectors. */
  gaps: GapView[];
}

export interface GapView {
  start: number;
  size: number;
}

/** Smaller holes are alignment leftovers (the first MiB before an aligned partition), not gaps. */
export const GAP_MIN = 1024 * 1024;

/**
 * The unallocated regions between `first` and `end` (bytes; the table's usable sectors) that
 * no partition covers, as a partition editor shows free space. An extended partition covers
 * its logical ones and the space between them.
 */
export function findGaps(partitions: readonly { start: number; size: number }[], first: number, end: number): GapView[] {
  const sorted = [...partitions].sort((a, b) => a.start - b.start);
  const out: GapView[] = [];
  let at = first;
  for (const p of sorted) {
    if (p.start > at && p.start - at >= GAP_MIN) out.push({ start: at, size: Math.min(p.start, end) - at });
    at = Math.max(at, p.start + p.size);
  }
  if (end - at >= GAP_MIN) out.push({ start: at, size: end - at });
  return out;
}

/** The usable bytes of a table as kiln and sfdisk write it: MBR from sector 1, GPT between its two copies. */
export function usableRange(table: DiskView['table'], size: number): { first: number; end: number } {
  if (table === 'gpt') return { first: 34 * 512, end: size - 33 * 512 };
  return { first: 512, end: size };
}

export function typeNameOf(type: string | null): string | null {
  if (type === null) return null;
  return partitionTypeName(/^0x/.test(type) ? parseInt(type, 16) : type) ?? null;
}

/** One row per partition, as a table people read. */
export function renderTable(view: DiskView): string[] {
  const head = `${view.image}: ${formatSize(view.size)} (${view.size} bytes), ${view.table ? `${view.table.toUpperCase()} ${view.id ?? ''}`.trimEnd() : 'no partition table'}`;
  const rows = [['#', 'start', 'end', 'size', 'type', 'fs', 'label', 'uuid', 'used']];
  const items: ({ gap: GapView } | { part: PartitionView })[] = [...view.partitions.map((part) => ({ part })), ...view.gaps.map((gap) => ({ gap }))];
  items.sort((a, b) => ('gap' in a ? a.gap.start : a.part.start) - ('gap' in b ? b.gap.start : b.part.start) || ('gap' in a ? 1 : -1));
  for (const item of items) {
    if ('gap' in item) {
      const g = item.gap;
      rows.push(['-', String(g.start / 512), String(Math.ceil((g.start + g.size) / 512) - 1), formatSize(g.size), 'free space', '', '', '', '']);
      continue;
    }
    const p = item.part;
    const fs = p.filesystem === 'fat' && p.fatType ? `fat${p.fatType}` : (p.filesystem ?? '-');
    rows.push([
      String(p.number),
      String(p.start / 512),
      String((p.start + p.size) / 512 - 1),
      formatSize(p.size),
      `${p.typeName ?? p.type ?? '-'}${p.bootable ? '*' : ''}`,
      fs,
      p.label ?? '-',
      p.uuid ?? '-',
      p.used !== null && p.free !== null ? `${formatSize(p.used)} (${Math.round((100 * p.used) / Math.max(1, p.used + p.free))}%)` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => (i === 0 || i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return [head, ...(items.length > 0 ? lines : [])];
}

/** The colours of the bar, per partition in turn (ANSI 256-colour backgrounds). */
const COLOURS = [33, 70, 166, 134, 37, 178, 161, 67];

/**
 * The to-scale picture: one character per `size / width` bytes, each partition drawn with its
 * number (and filesystem when there is room), gaps as `·`, the table's own sectors as `▒`.
 * Every partition gets at least one character, so a tiny one is never lost. With colour, each
 * partition has its own background.
 */
export function renderBar(view: DiskView, width: number, colour: boolean): string[] {
  const w = Math.max(20, width);
  const cells: (number | -1)[] = new Array<number | -1>(w).fill(-1);
  const cellOf = (byte: number): number => Math.min(w - 1, Math.floor((byte / view.size) * w));
  view.partitions.forEach((p, i) => {
    const from = cellOf(p.start);
    const to = Math.max(from, cellOf(p.start + p.size - 1));
    for (let c = from; c <= to; c++) cells[c] = i;
  });
  let out = '';
  let c = 0;
  while (c < w) {
    const i = cells[c]!;
    let e = c;
    while (e < w && cells[e] === i) e++;
    const n = e - c;
    let seg: string;
    if (i === -1) seg = '·'.repeat(n);
    else {
      const p = view.partitions[i]!;
      const fs = p.filesystem === 'fat' && p.fatType ? `fat${p.fatType}` : (p.filesystem ?? p.typeName ?? '');
      const full = ` ${p.number} ${fs} ${formatSize(p.size)} `;
      const short = ` ${p.number} ${fs} `;
      const label = full.length <= n - 2 ? full : short.length <= n - 2 ? short : String(p.number);
      const left = Math.floor((n - Math.min(n, label.length)) / 2);
      seg = label.length <= n ? `${'█'.repeat(left)}${label}${'█'.repeat(n - left - label.length)}` : String(p.number).slice(0, n);
      if (!colour) seg = seg.replace(/\u2588/g, i % 2 === 0 ? '█' : '▓');
    }
    out += colour && i !== -1 ? `\x1b[48;5;${COLOURS[i % COLOURS.length]!}m\x1b[97m${seg.replace(/\u2588/g, ' ')}\x1b[0m` : seg;
    c = e;
  }
  const scale = `0${' '.repeat(Math.max(1, w - 1 - formatSize(view.size).length))}${formatSize(view.size)}`;
  return [`[${out}]`, ` ${scale}`];
}

/** Prints the table and, on a terminal, the to-scale bar (coloured unless NO_COLOR). */
export function printDisk(view: DiskView): void {
  const lines = renderTable(view);
  if (process.stdout.isTTY) lines.push('', ...renderBar(view, Math.min(100, (process.stdout.columns || 80) - 3), useColour(process.stdout)));
  process.stdout.write(`${lines.join('\n')}\n`);
}
