import { KilnError } from './errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  KB: 1000,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1000 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1000 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1000 ** 4,
  TIB: 1024 ** 4,
};

/**
 * Parses a size such as `512`, `64M`, `1.5G`, `100MiB`, `2GB` into bytes.
 * Single-letter suffixes are binary (K = 1024) as in mkfs and truncate.
 */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) {
    throw new KilnError(
      'bad-size',
      `invalid ${what} '${text}'`,
      'write a number of bytes with an optional suffix: K, M, G, T (binary) or KB, MB, GB (decimal)',
    );
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new KilnError('bad-size', `${what} '${text}' is too large`);
  return bytes;
}

export function formatSize(bytes: number): string {
  const steps: [number, string][] = [
    [1024 ** 4, 'TiB'],
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [n, u] of steps) if (bytes >= n) return `${(bytes / n).toFixed(bytes % n === 0 ? 0 : 1)} ${u}`;
  return `${bytes} B`;
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
