import { SWAP_MAGIC, SWAP_MIN_PAGES, writeSwap, type SwapOptions } from '../../fs/swap.js';
import { RFC_UUID, type ContentPlan, type PartitionFormat } from './format.js';

/** Linux swap: a header page, nothing to measure (so no `size: auto`). */

export interface SwapPlan extends ContentPlan {
  options: SwapOptions;
}

const PAGE_SIZES = [4096, 8192, 16384, 65536];

export const swapFormat: PartitionFormat<SwapPlan, 'swap'> = {
  name: 'swap',
  keys: {},
  labelBytes: 16,
  uuid: RFC_UUID,
  cheapMinimum: true,
  check(spec, fail) {
    if (spec.size === 'auto') fail('size', 'a swap partition needs an explicit size', 'write e.g. size: 256M');
  },
  /** The magic at the end of the first page, for any page size the kernel uses. */
  detect(source) {
    for (const page of PAGE_SIZES) {
      if (source.size < page) return false;
      if (new TextDecoder().decode(source.read(page - SWAP_MAGIC.length, SWAP_MAGIC.length)) === SWAP_MAGIC) return true;
    }
    return false;
  },

  async plan(spec) {
    const options: SwapOptions = {};
    if (spec.label !== undefined) options.label = spec.label;
    if (spec.uuid) options.uuid = spec.uuid;
    return { options };
  },
  minimumSize: () => SWAP_MIN_PAGES * 4096,
  types: () => ({ mbr: 'swap', gpt: 'swap' }),
  totals: () => ({ bytes: 0, files: 0 }),
  write: (plan, target, control) => ({ uuid: writeSwap(target, { ...plan.options, ...control }).uuid }),
};
