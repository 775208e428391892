import { writeSkippingZeros, type BlockTarget } from '../../fs/block-target.js';
import type { FileContent } from '../../fs/file-content.js';
import { ProgressMeter, type WriteControl } from '../../fs/write-control.js';
import { alignUp } from '../../units.js';
import { SECTOR } from '../mbr.js';
import { keyPosition, positioned, type ContentPlan, type PartitionFormat } from './format.js';

/** A partition of given bytes (`content` in code, or the `source` file), or left empty. */

declare module '../disk-layout.js' {
  interface PartitionSpec {
    /** raw: the bytes, given in code instead of `source`. */
    content?: FileContent;
  }
}

const CHUNK = 4 * 1024 * 1024;

function copyContent(content: FileContent, target: BlockTarget, control: WriteControl): void {
  const meter = new ProgressMeter(control, content.size, 1);
  const reader = content.open();
  try {
    const chunk = new Uint8Array(CHUNK);
    for (let off = 0; off < content.size; off += chunk.length) {
      const n = reader.read(off, chunk.subarray(0, Math.min(chunk.length, content.size - off)));
      writeSkippingZeros(target, off, chunk.subarray(0, n));
      meter.bytes(n);
    }
  } finally {
    reader.close();
  }
  meter.finish();
}

export const rawFormat: PartitionFormat<ContentPlan, 'raw'> = {
  name: 'raw',
  keys: {},
  source: 'file',
  cheapMinimum: true,
  detect: () => false,
  check(spec, fail) {
    if (!spec.source && typeof spec.size !== 'number') fail('size', "a raw partition without 'source' needs an explicit size");
  },

  async plan(spec, context) {
    const plan: ContentPlan = {};
    if (spec.content) plan.raw = spec.content;
    else if (spec.source) plan.raw = await positioned(keyPosition(spec, 'source'), context.number, () => context.host.file(spec.source!));
    return plan;
  },
  minimumSize: (plan) => (plan.raw ? alignUp(plan.raw.size, SECTOR) : SECTOR),
  types: () => ({ mbr: 'linux', gpt: 'linux' }),
  totals: (plan) => (plan.raw ? { bytes: plan.raw.size, files: 1 } : { bytes: 0, files: 0 }),
  write(plan, target, control) {
    if (plan.raw) copyContent(plan.raw, target, control);
    return {};
  },
};
