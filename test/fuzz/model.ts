/**
 * What the fuzzer knows about a base image: where its metadata structures lie (so mutations hit
 * structures, not file data), structural mutations that build loops and impossible sizes, and
 * how to re-seal checksums so a mutation gets past them to the code behind.
 */
import type { Field } from '../../src/fs/struct.js';

/** What field rewrites need of a Struct: its size and field table. */
export interface AnyStruct {
  readonly size: number;
  readonly fields: readonly Field[];
}

export interface Region {
  /** What it is, e.g. 'ext4 inode', 'fat dirent', 'gpt header'; mutations pick a tag first. */
  tag: string;
  /** Absolute byte offset in the image, and length. */
  offset: number;
  length: number;
  /** A field table laid at `offset`: field rewrites use it. */
  struct?: AnyStruct;
  /** Only fields inside the first this many bytes exist (32-byte descriptors, 128-byte inodes). */
  structSize?: number;
  /** Who owns it (inode number, cluster), for descriptions. */
  owner?: string;
}

export interface Structural {
  name: string;
  /** The mutation is invalid in a way a reader must notice: some entry point must report it. */
  mustFail: boolean;
  /** Changes the image in place (its size stays). */
  apply(bytes: Uint8Array): void;
}

export interface ImageMap {
  regions: Region[];
  structural: Structural[];
  /** Recomputes every checksum the map knows of (after a mutation), in place. */
  reseal?: (bytes: Uint8Array) => void;
}

export interface BaseImage extends ImageMap {
  name: string;
  kind: 'ext4' | 'fat' | 'disk';
  bytes: Uint8Array;
  /** What is opened: '' for the image itself, ':N' for partition N. */
  specs: string[];
  /** A regular file for `kiln image cat`. */
  cat?: { spec: string; path: string };
}

/** Shifts a partition's map to its place in a disk image. */
export function shiftMap(map: ImageMap, by: number, label: string): ImageMap {
  return {
    regions: map.regions.map((r) => ({ ...r, offset: r.offset + by, tag: `${label} ${r.tag}` })),
    structural: map.structural.map((s) => ({
      name: `${label} ${s.name}`,
      mustFail: s.mustFail,
      apply: (bytes) => s.apply(bytes.subarray(by)),
    })),
    ...(map.reseal ? { reseal: (bytes: Uint8Array) => map.reseal!(bytes.subarray(by)) } : {}),
  };
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * How many entries a whole-tree listing collects before it stops, the same bound on both sides of
 * a comparison (kiln's child and debugfs), counted per entry so both stop at the same place.
 */
export const MAX_RECORDS = 50_000;
