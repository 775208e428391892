import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Ext4Options } from '../../fs/ext4/options.js';
import { formatSize } from '../../units.js';
import { interruptible, optionSize, sourceAndOutput, sourceDateEpochFromEnv, withSourceTree } from '../inputs.js';
import { copyCounter } from '../live.js';
import { checkSizeOptions, imageSize, liveLine, MARGIN_HELP, outputOptions, printResult, type OutputOptions } from '../output.js';

interface Opts extends OutputOptions {
  size: string;
  margin?: string;
  label?: string;
  uuid?: string;
  inodeRatio?: string;
  reserved?: string;
  blockSize?: string;
  rootOwner?: boolean;
  fromTar?: string;
  journal?: boolean;
}

function wholeNumber(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new KilnError('bad-option', `${what} '${text}' is not a whole number`);
  return Number(text);
}

/** `kiln mkfs ext4 [--size SIZE|auto] [--margin SIZE] [--label L] [--uuid U] ... [SRC] OUT` */
export function addMkfsExt4(mkfs: Command): void {
  const cmd = mkfs
    .command('ext4')
    .description('write an ext4 filesystem (journal, extents, metadata_csum, as mke2fs -t ext4) from a directory or tar archive into a new sparse file')
    .option('-s, --size <size>', "image size (e.g. 512M), or 'auto' for the smallest that holds the tree plus --margin", 'auto')
    .option('--margin <size>', MARGIN_HELP)
    .option('-L, --label <label>', 'volume label (up to 16 bytes)')
    .option('-U, --uuid <uuid>', 'filesystem UUID (default: derived from the tree and options)')
    .option('-i, --inode-ratio <bytes>', 'bytes per inode (default as mke2fs: 4096 below 512 MiB, 16384 above)')
    .option('-m, --reserved <percent>', 'percentage of blocks reserved for root (default 5)')
    .option('-b, --block-size <bytes>', 'block size, 1024 or 4096 (default 4096)')
    .option('--root-owner', 'make every file owned by 0:0 (a directory source keeps owners otherwise)')
    .option('--from-tar <file>', 'read the tree from a tar archive (plain, gzip, bzip2, xz or zstd) instead of SRC')
    .option('--journal', 'write an empty jbd2 journal (the default)')
    .option('--no-journal', 'leave the journal out');
  outputOptions(cmd)
    .argument('<src-or-out>', 'source directory, then the output file (only the output with --from-tar)')
    .argument('[out]', 'output file')
    .action(async (first: string, second: string | undefined, opts: Opts) => {
      const { src, out } = sourceAndOutput('ext4', first, second, opts.fromTar, opts.force);
      // with both --journal and --no-journal declared, commander leaves the default unset
      const options: Ext4Options = { journal: opts.journal !== false };
      if (opts.label !== undefined) options.label = opts.label;
      if (opts.uuid !== undefined) options.uuid = opts.uuid;
      if (opts.inodeRatio !== undefined) options.inodeRatio = optionSize(opts.inodeRatio, 'inode ratio');
      if (opts.reserved !== undefined) {
        const r = Number(opts.reserved);
        if (!Number.isFinite(r)) throw new KilnError('bad-option', `--reserved '${opts.reserved}' is not a percentage`);
        options.reservedPercent = r;
      }
      if (opts.blockSize !== undefined) {
        const b = wholeNumber(String(optionSize(opts.blockSize, 'block size')), 'block size');
        if (b !== 1024 && b !== 4096) throw new KilnError('bad-option', `--block-size ${opts.blockSize}: ext4 block size is 1024 or 4096`);
        options.blockSize = b;
      }
      const sde = sourceDateEpochFromEnv();
      if (sde !== undefined) options.sourceDateEpoch = sde;
      const owners = opts.rootOwner ? 'root' : 'keep';

      // usage errors in the size options before any work
      checkSizeOptions(opts.size, opts.margin);
      const line = liveLine(out, opts);
      const r = await interruptible([out], async () => {
        const { withSparseFile } = await import('../../fs/file-target.js');
        const { ext4FreeBytes, planExt4, writeExt4 } = await import('../../fs/ext4/writer.js');
        return withSourceTree({ dir: src, tar: opts.fromTar }, owners, async (tree) => {
          // Names, xattrs and fit are all checked before the output file is created.
          const plan = planExt4(tree, options);
          const size = imageSize(opts.size, opts.margin, plan.minimumSize, (n) => ext4FreeBytes(tree, n, options), plan.blockSize);
          if (size < plan.minimumSize) {
            throw new KilnError(
              'no-space',
              `the tree needs an ext4 filesystem of at least ${plan.minimumSize} bytes (${formatSize(plan.minimumSize)}) but --size gives ${size} bytes (${formatSize(size)})`,
              'give a larger --size, or --size auto',
            );
          }
          const counter = copyCounter(line);
          return withSparseFile(out, size, (t) => writeExt4(tree, t, { ...options, onProgress: (p) => counter.show(p) }), { writeBehind: false });
        });
      });
      printResult(
        opts,
        {
          output: out,
          type: 'ext4',
          size: r.size,
          uuid: r.uuid,
          label: options.label ?? null,
          blockSize: r.blockSize,
          blocks: r.blocks,
          freeBlocks: r.freeBlocks,
          inodes: r.inodes,
          freeInodes: r.freeInodes,
          journalBlocks: r.journalBlocks,
        },
        () =>
          `ext4: ${out}: ${formatSize(r.size)}, ${r.blocks} blocks of ${r.blockSize} bytes (${r.freeBlocks} free), ${r.inodes - r.freeInodes}/${r.inodes} inodes used, journal ${r.journalBlocks} blocks, UUID ${r.uuid}${options.label ? `, label ${options.label}` : ''}`,
        line,
      );
    });
}
