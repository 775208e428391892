import { KilnError } from '../errors.js';
import { derivedUuid, formatUuid, parseUuid } from './uuid.js';
import type { BlockSource, BlockTarget } from './block-target.js';
import { Struct } from './struct.js';
import { ProgressMeter, zeroTarget, type WriteControl } from './write-control.js';

/**
 * The Linux swap area header, version 1 (`union swap_header` in include/linux/swap.h): the
 * first page of the area, with the magic in its last 10 bytes. Only the fields the kernel,
 * blkid and swaplabel read are written; the rest of the page stays a hole.
 */
export const SWAP_INFO = new Struct('swap_header', 1536, [
  { name: 'version', offset: 1024, type: 'u32' }, // info.version: 1
  { name: 'lastPage', offset: 1028, type: 'u32' }, // info.last_page: index of the last usable page
  { name: 'nrBadPages', offset: 1032, type: 'u32' }, // info.nr_badpages
  { name: 'uuid', offset: 1036, type: 'bytes', size: 16 }, // info.sws_uuid: RFC 4122 byte order
  { name: 'volumeName', offset: 1052, type: 'string', size: 16 }, // info.sws_volume: label, NUL-padded
] as const);

export const SWAP_MAGIC = 'SWAPSPACE2';
/** The kernel refuses smaller areas; mkswap requires the same. */
export const SWAP_MIN_PAGES = 10;
const LABEL_MAX = 16;

export interface SwapOptions extends WriteControl {
  label?: string;
  /** Default: derived from the size and label, so the same request gives the same bytes. */
  uuid?: string;
  /** The page size of the machine that will use it (default 4096, x86). */
  pageSize?: number;
}

export interface SwapInfo {
  pageSize: number;
  lastPage: number;
  label: string;
  uuid: string;
}

/** Checks the options and size; throws before anything is written. */
export function planSwap(size: number, options: SwapOptions = {}): { uuid: Uint8Array; label: string; pageSize: number; lastPage: number } {
  const pageSize = options.pageSize ?? 4096;
  if (![4096, 8192, 16384, 65536].includes(pageSize)) {
    throw new KilnError('bad-swap', `unsupported swap page size ${pageSize}`, 'use 4096 (x86), 8192, 16384 or 65536');
  }
  const pages = Math.floor(size / pageSize);
  if (pages < SWAP_MIN_PAGES) {
    throw new KilnError(
      'swap-too-small',
      `a swap area of ${size} bytes has ${pages} pages of ${pageSize} bytes; at least ${SWAP_MIN_PAGES} are needed`,
      `make it at least ${SWAP_MIN_PAGES * pageSize} bytes`,
    );
  }
  if (pages - 1 > 0xffffffff) throw new KilnError('swap-too-large', `a swap area of ${size} bytes has too many pages for the version-1 header`);
  const label = options.label ?? '';
  if (new TextEncoder().encode(label).length > LABEL_MAX) {
    throw new KilnError('bad-label', `swap label '${label}' is longer than ${LABEL_MAX} bytes`, 'shorten the label');
  }
  const uuid = parseUuid(options.uuid ?? derivedUuid(`kiln-swap:${size}:${pageSize}:${label}`), 'swap UUID');
  return { uuid, label, pageSize, lastPage: pages - 1 };
}

/**
 * Writes a swap header onto `target` (its whole size is the swap area). A target not declared
 * `zeroed` is zeroed first (the header page's unused fields, and the area, as mkswap leaves
 * them). Progress has nothing to count: one final call with zero totals.
 */
export function writeSwap(target: BlockTarget, options: SwapOptions = {}): SwapInfo {
  const plan = planSwap(target.size, options);
  zeroTarget(target, target.size, options.signal);
  const info = SWAP_INFO.encode({ version: 1, lastPage: plan.lastPage, nrBadPages: 0, uuid: plan.uuid, volumeName: plan.label });
  target.write(1024, info.subarray(1024, 1068));
  target.write(plan.pageSize - SWAP_MAGIC.length, new TextEncoder().encode(SWAP_MAGIC));
  new ProgressMeter(options, 0, 0).finish();
  return { pageSize: plan.pageSize, lastPage: plan.lastPage, label: plan.label, uuid: formatUuid(plan.uuid) };
}

/** Reads a version-1 swap header (page size found from the magic's position). */
export function readSwap(source: BlockSource): SwapInfo {
  for (const pageSize of [4096, 8192, 16384, 65536]) {
    if (source.size < pageSize) break;
    const magic = new TextDecoder().decode(source.read(pageSize - SWAP_MAGIC.length, SWAP_MAGIC.length));
    if (magic !== SWAP_MAGIC) continue;
    const v = SWAP_INFO.decode(source.read(0, SWAP_INFO.size));
    if (v.version !== 1) throw new KilnError('bad-swap', `swap header version ${v.version} is not supported`);
    return { pageSize, lastPage: v.lastPage, label: v.volumeName, uuid: formatUuid(v.uuid) };
  }
  throw new KilnError('not-swap', `no ${SWAP_MAGIC} signature found`, 'is this a swap area (mkswap version 1)?');
}
