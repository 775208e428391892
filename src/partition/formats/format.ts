import type { Node as LayoutNode } from 'yaml';
import { KilnError, type SourcePosition } from '../../errors.js';
import type { BlockSource, BlockTarget } from '../../fs/block-target.js';
import type { FileContent } from '../../fs/file-content.js';
import type { FileTree } from '../../fs/tree.js';
import { isUuid } from '../../fs/uuid.js';
import type { WriteControl } from '../../fs/write-control.js';
import type { DiskHost } from '../disk-host.js';
import { at, type PartitionSpec, type Positions } from '../disk-layout.js';

export type { LayoutNode };

/**
 * What a partition format (a `filesystem:` of a disk layout) declares, so that disk assembly
 * (assemble.ts) places partitions and leaves everything about their content to the format:
 * the layout keys it takes, what it needs at least, its default partition types, how to
 * recognise it, and its plan and write steps. The formats are listed in formats/index.ts.
 *
 * A partition is planned once and written once from the same plan object: `plan` gathers the
 * content, `minimumSize` measures it, `place` settles what depends on where it landed, and
 * `write` only writes what the plan says.
 */
export interface PartitionFormat<P extends ContentPlan = ContentPlan, N extends string = string> {
  /** Its `filesystem:` name in a layout. */
  readonly name: N;
  /** The layout keys only this format takes, each read into the spec (the reader's errors name file:line:col). */
  readonly keys: Readonly<Record<string, ReadKey>>;
  /** The longest `label:` in bytes; absent: the format has no label. */
  readonly labelBytes?: number;
  /** What a `uuid:` must look like; absent: the format has no UUID. */
  readonly uuid?: { readonly valid: (text: string) => boolean; readonly hint: string };
  /** What `source:` names: a directory or tar archive ('tree') or a file whose bytes are the partition ('file'); absent: none. */
  readonly source?: 'tree' | 'file';
  /** true: `minimumSize` is cheap and checked against every size; otherwise it is a search, asked only for `size: auto` (the writer refuses a fixed size too small). */
  readonly cheapMinimum?: boolean;
  /** A parsed layout's checks of keys that depend on each other; `fail` names the key's file:line:col. */
  check?(spec: PartitionSpec, fail: (key: string, message: string, hint?: string) => never): void;
  /** Whether the bytes hold this format (opening and inspecting images); raw: never, any bytes are raw. */
  detect(source: BlockSource): boolean;
  /** Gathers the content (tree, bytes, boot loader files) and the writer's options; nothing is placed yet. */
  plan(spec: PartitionSpec, context: PlanContext): Promise<P>;
  /** The bytes the content needs at least, before alignment. */
  minimumSize(plan: P): number;
  /** Settles what depends on where the partition landed (FAT: its type, its offset in the BPB); throws what does not fit. */
  place?(plan: P, placed: { start: number; size: number }): void;
  /** Default partition types, as names in the type-name table (type-names.ts). */
  types(plan: P): { mbr: string; gpt: string };
  /** MBR boot code the partition brings (SYSLINUX's mbr.bin), used when the layout names none. */
  bootCode?(plan: P): Uint8Array | undefined;
  /** What progress counts while it is written (file content bytes and files). */
  totals(plan: P): { bytes: number; files: number };
  /** Writes the planned content into `target`, the partition's range, which reads as zeros. */
  write(plan: P, target: BlockTarget, control: WriteControl): WrittenFacts;
}

/** Reads the value of one format key at `node` into `spec`. */
export type ReadKey = (reader: LayoutReader, node: LayoutNode, spec: PartitionSpec) => void;

/** The layout parser's readers of YAML values (layout.ts); each error names the value's file:line:col. */
export interface LayoutReader {
  fail(node: LayoutNode | null | undefined, message: string, hint?: string): never;
  /** A mapping's entries by key, refusing keys not in `allowed`. */
  entries(node: LayoutNode | null | undefined, what: string, allowed: readonly string[]): { map: Map<string, LayoutNode>; positions: Positions };
  scalar(node: LayoutNode | undefined): unknown;
  string(node: LayoutNode | undefined, what: string): string;
  bool(node: LayoutNode | undefined, what: string): boolean;
  /** A whole number (hex as 0x…) from `min` to `max`. */
  int(node: LayoutNode | undefined, what: string, min: number, max: number): number;
  /** A size such as 64M, or one of `words`. */
  size(node: LayoutNode | undefined, what: string, words?: readonly string[]): number | string;
  /** A host path that must exist, made absolute against the layout file's directory. */
  hostPath(node: LayoutNode | undefined, what: string, kind: 'file' | 'dir' | 'any'): string;
  /** Whether `name` exists in the host directory `dir` (a path hostPath gave). */
  hostHas(dir: string, name: string): boolean;
}

/** What every format's plan holds: the content that progress counters watch (`kiln mkimage` wraps `raw`). */
export interface ContentPlan {
  /** The files of the partition. */
  tree?: FileTree;
  /** The bytes of the partition. */
  raw?: FileContent;
}

export interface PlanContext {
  host: DiskHost;
  /** Clamp timestamps (seconds), as SOURCE_DATE_EPOCH does. */
  sourceDateEpoch: number | undefined;
  /** The partition's number, for messages. */
  number: number;
  /** Clean-ups (spooled tar data), run when the disk plan is disposed. */
  disposers: (() => void)[];
}

/** What a written partition says of itself, for the disk's result. */
export interface WrittenFacts {
  fatType?: number;
  /** Filesystem UUID (ext4, swap) or volume id (FAT, as XXXX-XXXX). */
  uuid?: string;
}

/** The `uuid:` of formats whose UUID is an RFC 4122 one (ext4, swap). */
export const RFC_UUID: PartitionFormat['uuid'] = { valid: isUuid, hint: 'write 8-4-4-4-12 hex digits' };

/** The position of a spec's `key` (or of the partition) for messages. */
export function keyPosition(spec: PartitionSpec, key?: string): SourcePosition | undefined {
  return (key && spec.positions?.keys[key]) || spec.positions?.at;
}

/** Runs `fn`; a KilnError it throws without a position gets `pos` and the partition number. */
export async function positioned<T>(pos: SourcePosition | undefined, number: number, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof KilnError && !/^\S+:\d+:\d+: /.test(e.message)) throw new KilnError(e.code, at(pos, `partition ${number}: ${e.message}`), e.hint);
    throw e;
  }
}
