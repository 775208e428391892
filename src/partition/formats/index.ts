import { ext4Format } from './ext4.js';
import { fatFormat } from './fat.js';
import type { ContentPlan, PartitionFormat } from './format.js';
import { rawFormat } from './raw.js';
import { swapFormat } from './swap.js';

/**
 * The partition formats a disk layout's `filesystem:` can name, in the order messages list them.
 *
 * A new format is one file beside these, exporting its PartitionFormat (format.ts says what it
 * declares; layout keys of its own go into PartitionSpec by a `declare module` block, as fat.ts
 * does), and one line in this table. Nothing else changes: the layout parser, disk assembly
 * and the `filesystem:` type read this table.
 */
export const PARTITION_FORMATS = [fatFormat, ext4Format, swapFormat, rawFormat] as const;

/** What a partition holds: a format's name. */
export type PartitionFilesystem = (typeof PARTITION_FORMATS)[number]['name'];

const FORMATS: readonly PartitionFormat<ContentPlan, PartitionFilesystem>[] = PARTITION_FORMATS;

/** The format named `name`, or undefined. */
export function formatNamed(name: string): PartitionFormat<ContentPlan, PartitionFilesystem> | undefined {
  return FORMATS.find((f) => f.name === name);
}

/** Every format's name, as a message lists them ('fat, ext4, swap or raw'). */
export function formatNames(): string {
  const names = FORMATS.map((f) => f.name);
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** The layout keys some format takes (each format's own, once each). */
export function formatKeys(): string[] {
  return [...new Set(FORMATS.flatMap((f) => Object.keys(f.keys)))];
}
