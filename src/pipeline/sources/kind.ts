import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import type { FileTree, Timestamp } from '../../fs/tree.js';
import type { BlobStore } from '../cache/blobs.js';
import type { Element, SourceDecl, YamlMap, YamlValue } from '../model.js';

/**
 * The source-kind plugin interface (docs/format.md#sources): one module per kind exports one
 * SourceKind (its name, its config keys, and how it configures a Source), listed in one table
 * (registry.ts) that library users extend with `registerSourceKind`. A kind turns a SourceDecl
 * into a Source: it validates the values up front (errors carry file:line:col), knows its ref,
 * reports a unique key for the element's cache key, tracks (computes a new ref), fetches (downloads
 * and verifies into the source cache) and stages (adds its files to the element's source tree).
 */

/** BuildStream's fixed mtime for staged sources: 2011-11-11 11:11:11 UTC. */
export const SOURCE_MTIME: Timestamp = Object.freeze({ sec: 1321009871, nsec: 0 });

/** Where a source's cached files live and how it reports. Built once per session. */
export interface SourceContext {
  /** The source cache root: `<cache>/sources`; each kind uses `<sourceDir>/<kind>/...`. */
  sourceDir: string;
  /** Content-addressed blobs, for files a stage step creates itself (e.g. `patch` output). */
  blobs: BlobStore;
  /** A scratch directory that outlives staging (the caller removes it at the end of the session). */
  tmpDir: string;
  /** Warnings such as "Potential man-in-the-middle attack!" on track. */
  warn(message: string): void;
  /** Progress lines (downloads); optional. */
  info?(message: string): void;
  /** A shared cache to ask for pinned files no other origin has (set when remote caches are configured). */
  remote?: SourceRemote;
}

/** Pinned files by sha256 from a shared cache: the last origin a fetch tries, accepted by digest. */
export interface SourceRemote {
  /** Puts the file with this sha256 at `dest` (verified, atomically); `tried` says what each remote answered. */
  fetchFile(sha256: string, dest: string, where: string): Promise<{ ok: boolean; tried: string[] }>;
}

/** Consistency of a source (docs/format.md#refs). */
export type Consistency = 'inconsistent' | 'resolved' | 'cached';

export interface Source {
  readonly kind: string;
  readonly element: Element;
  readonly decl: SourceDecl;
  /** Staging subdirectory inside the element's source area ('' = top). */
  readonly directory: string;
  /** "contents/busybox.bst: source #1 (tar)": how messages name this source. */
  readonly label: string;
  /** False for kinds without versions (local, patch): they are always consistent. */
  readonly needsRef: boolean;
  /** The URLs it downloads from, as written (`alias:path`), for the `unaliased-url` warning. */
  readonly urls?: readonly string[];
  /** The exact version, or undefined while none is set. */
  readonly ref: YamlValue | undefined;
  /** Sets a ref (after track); validated like a ref read from the file. */
  setRef(ref: YamlValue | undefined): void;
  /** Kind-specific unique key (JSON-able), or undefined while the source has no ref. */
  uniqueKey(): YamlValue | undefined;
  /** Whether the exact ref is in the source cache (kinds without refs: always). */
  isCached(ctx: SourceContext): boolean;
  /** Computes a new ref from upstream (downloading as needed); undefined = nothing to track. */
  track(ctx: SourceContext): Promise<YamlValue | undefined>;
  /** Downloads the exact ref into the source cache and verifies it. */
  fetch(ctx: SourceContext): Promise<void>;
  /**
   * `track --fix-missing`: fetches the ref, and where no origin offers part of it any more
   * (an archive dropped a superseded version), returns a ref that re-pins only that part.
   * Undefined: the ref is fetched as it is. Kinds without it just fetch.
   */
  fixMissing?(ctx: SourceContext): Promise<YamlValue | undefined>;
  /** How a ref change reads for people, one line per changed pin (default: old → new). */
  describeChange?(old: YamlValue | undefined, ref: YamlValue): string[];
  /**
   * Adds this source's files to `tree` (the element's source area) under `directory`. Earlier
   * sources' files are already there (patch applies to them). Contents reference the source cache
   * or blobs; nothing is extracted to disk except where a host tool needs it.
   */
  stage(ctx: SourceContext, tree: FileTree): Promise<void>;
  /** The pinned files in the source cache with their sha256 (what `kiln source push` sends); kinds that pin no files by digest omit it. */
  cachedFiles?(ctx: SourceContext): { sha256: string; path: string }[];
}

/** A registered source kind: configure validates the declaration and returns a Source. */
export interface SourceKind {
  readonly name: string;
  /** The keys its sources accept besides kind, directory and ref; others are rejected at their file:line:col. */
  readonly configKeys: readonly string[];
  configure(decl: SourceDecl, element: Element): Source;
}

/** Where a key of a source mapping was written, falling back to the mapping itself. */
export function sourcePosition(element: Element, decl: SourceDecl, key?: string): SourcePosition {
  if (key !== undefined) {
    for (const k of [`sources.${decl.index}.${key}`, `sources[${decl.index}].${key}`]) {
      const p = element.positions.get(k);
      if (p) return p;
    }
  }
  return decl.position;
}

export function sourceLabel(element: Element, decl: SourceDecl): string {
  return `${element.name}: source #${decl.index + 1} (${decl.kind})`;
}

/** An error about a source's declaration, located at the key (or the source mapping). */
export function sourceError(element: Element, decl: SourceDecl, key: string | undefined, code: string, message: string, hint?: string): KilnError {
  return new KilnError(code, `${formatPosition(sourcePosition(element, decl, key))}: ${sourceLabel(element, decl)}: ${message}`, hint);
}

/** Keys every source mapping may carry besides the kind-specific ones. */
const COMMON_KEYS = new Set(['kind', 'directory', 'ref', 'provenance']);

/** Rejects keys the kind does not list (BuildStream validates them too), at the key's file:line:col. */
export function checkSourceKeys(kind: SourceKind, decl: SourceDecl, element: Element): void {
  for (const key of Object.keys(decl.config)) {
    if (COMMON_KEYS.has(key) || kind.configKeys.includes(key)) continue;
    const accepted = [...new Set([...kind.configKeys, 'directory', 'ref'])].join(', ');
    throw sourceError(element, decl, key, 'source-unknown-key', `unknown key '${key}'`, `the ${decl.kind} source accepts: ${accepted}`);
  }
}

/** Typed reads of a source's config: every value must be a string where a string is expected. */
export class SourceConfig {
  constructor(
    readonly element: Element,
    readonly decl: SourceDecl,
  ) {}
  private value(key: string): YamlValue | undefined {
    return (this.decl.config as YamlMap)[key];
  }
  string(key: string): string | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw sourceError(this.element, this.decl, key, 'source-bad-type', `'${key}' must be a string`);
    return v;
  }
  requireString(key: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') throw sourceError(this.element, this.decl, undefined, 'source-missing-key', `'${key}' is required`);
    return v;
  }
  bool(key: string, def: boolean): boolean {
    const v = this.string(key);
    if (v === undefined || v === '') return def;
    if (v === 'True' || v === 'true' || v === '1') return true;
    if (v === 'False' || v === 'false' || v === '0') return false;
    throw sourceError(this.element, this.decl, key, 'source-bad-type', `'${key}' must be True or False, not '${v}'`);
  }
  int(key: string, def: number): number {
    const v = this.string(key);
    if (v === undefined || v === '') return def;
    if (!/^\d+$/.test(v)) throw sourceError(this.element, this.decl, key, 'source-bad-type', `'${key}' must be a non-negative integer, not '${v}'`);
    return Number(v);
  }
}
