import { EXT4_MAGIC, SUPERBLOCK_OFFSET } from '../../fs/ext4/constants.js';
import type { Ext4Options } from '../../fs/ext4/options.js';
import { Superblock } from '../../fs/ext4/superblock.js';
import { planExt4, writeExt4 } from '../../fs/ext4/writer.js';
import type { FileTree } from '../../fs/tree.js';
import { treeTotals } from '../../fs/write-control.js';
import { RFC_UUID, type ContentPlan, type PartitionFormat } from './format.js';
import { partitionTree } from './partition-tree.js';

/** ext4. */

declare module '../disk-layout.js' {
  interface PartitionSpec {
    /** ext4: bytes per inode (layout key `inode-ratio`). */
    inodeRatio?: number;
  }
}

export interface Ext4Plan extends ContentPlan {
  tree: FileTree;
  options: Ext4Options;
}

const MAGIC_AT = SUPERBLOCK_OFFSET + Superblock.offsetOf('s_magic');

export const ext4Format: PartitionFormat<Ext4Plan, 'ext4'> = {
  name: 'ext4',
  keys: {
    'inode-ratio': (r, node, spec) => {
      spec.inodeRatio = r.int(node, 'inode-ratio (bytes per inode)', 1024, 64 * 1024 * 1024);
    },
  },
  labelBytes: 16,
  uuid: RFC_UUID,
  source: 'tree',
  detect(source) {
    if (source.size < MAGIC_AT + 2) return false;
    const b = source.read(MAGIC_AT, 2);
    return (b[0]! | (b[1]! << 8)) === EXT4_MAGIC;
  },

  async plan(spec, context) {
    const options: Ext4Options = {};
    if (spec.label !== undefined) options.label = spec.label;
    if (spec.uuid) options.uuid = spec.uuid;
    if (spec.inodeRatio) options.inodeRatio = spec.inodeRatio;
    if (context.sourceDateEpoch !== undefined) options.sourceDateEpoch = context.sourceDateEpoch;
    return { tree: await partitionTree(spec, context), options };
  },
  minimumSize: (plan) => planExt4(plan.tree, plan.options).minimumSize,
  types: () => ({ mbr: 'linux', gpt: 'linux' }),
  totals: (plan) => treeTotals(plan.tree),
  write: (plan, target, control) => ({ uuid: writeExt4(plan.tree, target, { ...plan.options, ...control }).uuid }),
};
