import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { FatOptions } from '../../fs/fat/index.js';
import { formatSize } from '../../units.js';
import { interruptible, optionSize, sourceAndOutput, sourceDateEpochFromEnv, withSourceTree } from '../inputs.js';
import { copyCounter } from '../live.js';
import { checkSizeOptions, imageSize, liveLine, MARGIN_HELP, outputOptions, printResult, type OutputOptions } from '../output.js';

interface Opts extends OutputOptions {
  fat?: string;
  size: string;
  margin?: string;
  label?: string;
  volumeId?: string;
  clusterSize?: string;
  fromTar?: string;
  hiddenSectors?: string;
  skipSpecial?: boolean;
}

/** --size auto grows a FAT volume in steps of 64 KiB, the multiples planFat's smallest sizes come in. */
const FAT_SIZE_UNIT = 64 * 1024;

function parseVolumeId(text: string): number {
  const hex = text.replace(/^0x/i, '').replace('-', '');
  if (!/^[0-9a-fA-F]{1,8}$/.test(hex))
    throw new KilnError('bad-option', `volume id '${text}' is not a 32-bit hexadecimal number`, 'write it as mkfs.fat -i does, e.g. 1234ABCD or 1234-ABCD');
  return parseInt(hex, 16);
}

/** `kiln mkfs fat [--fat 12|16|32] [--size SIZE|auto] [--label L] [--volume-id ID] [--cluster-size N] [--from-tar FILE] [SRC] OUT` */
export function addMkfsFat(mkfs: Command): void {
  const cmd = mkfs
    .command('fat')
    .description('write a FAT12/16/32 filesystem (VFAT long names) from a directory or tar archive into a new sparse file')
    .option('-F, --fat <bits>', 'FAT type 12, 16 or 32 (default: chosen by size, as mkfs.fat)')
    .option('-s, --size <size>', "image size (e.g. 64M), or 'auto' for the smallest that holds the tree plus --margin", 'auto')
    .option('--margin <size>', MARGIN_HELP)
    .option('-L, --label <label>', 'volume label (up to 11 characters, stored upper-case)')
    .option('-i, --volume-id <hex>', 'volume serial number, 32-bit hex (default: derived from the tree)')
    .option('-c, --cluster-size <bytes>', 'cluster size in bytes, a power of two from 512 to 64K (e.g. 4096 or 4K)')
    .option('--from-tar <file>', 'read the tree from a tar archive (plain, gzip, bzip2, xz or zstd) instead of SRC')
    .option('--hidden-sectors <n>', 'partition offset in 512-byte sectors for the BPB (default 0)')
    .option('--skip-special', 'leave out symlinks, devices, fifos and sockets (FAT cannot hold them) instead of failing');
  outputOptions(cmd)
    .argument('<src-or-out>', 'source directory, then the output file (only the output with --from-tar)')
    .argument('[out]', 'output file')
    .action(async (first: string, second: string | undefined, opts: Opts) => {
      const { src, out } = sourceAndOutput('fat', first, second, opts.fromTar, opts.force);
      const options: FatOptions = {};
      if (opts.fat !== undefined) {
        if (!['12', '16', '32'].includes(opts.fat))
          throw new KilnError('bad-option', `--fat ${opts.fat}: the FAT type is 12, 16 or 32`, 'give --fat 12, 16 or 32, or leave it out to choose by size');
        options.fatType = Number(opts.fat) as 12 | 16 | 32;
      }
      if (opts.label !== undefined) options.label = opts.label;
      if (opts.volumeId !== undefined) options.volumeId = parseVolumeId(opts.volumeId);
      if (opts.clusterSize !== undefined) options.clusterSize = optionSize(opts.clusterSize, 'cluster size');
      if (opts.hiddenSectors !== undefined) {
        if (!/^\d+$/.test(opts.hiddenSectors)) throw new KilnError('bad-option', `--hidden-sectors ${opts.hiddenSectors} is not a number`);
        options.hiddenSectors = Number(opts.hiddenSectors);
      }
      if (opts.skipSpecial) options.specialFiles = 'skip';
      const sde = sourceDateEpochFromEnv();
      if (sde !== undefined) options.sourceDateEpoch = sde;

      checkSizeOptions(opts.size, opts.margin);
      const line = liveLine(out, opts);
      const r = await interruptible([out], async () => {
        const { withSparseFile } = await import('../../fs/file-target.js');
        const { fatFreeBytes, planFat, writeFat } = await import('../../fs/fat/writer.js');
        return withSourceTree({ dir: src, tar: opts.fromTar, xattrs: false }, 'keep', async (tree) => {
          // Everything is checked (names, sizes, fit) before the output file is created.
          const plan = planFat(tree, options);
          const size = imageSize(opts.size, opts.margin, plan.minimumSize, (n) => fatFreeBytes(tree, n, options), FAT_SIZE_UNIT);
          // With an explicit size, writeFat refuses a tree that does not fit before its first write.
          const counter = copyCounter(line);
          // Written by this thread: measured on two cores, a write-behind worker made tree (a)
          // no faster and the large files (b) slower, for 13 MiB more.
          return withSparseFile(out, size, (t) => writeFat(tree, t, { ...options, onProgress: (p) => counter.show(p) }), { writeBehind: false });
        });
      });
      const volumeId = r.volumeId.toString(16).toUpperCase().padStart(8, '0');
      printResult(
        opts,
        {
          output: out,
          type: 'fat',
          size: r.size,
          uuid: `${volumeId.slice(0, 4)}-${volumeId.slice(4)}`,
          label: r.label ?? null,
          fatType: r.fatType,
          clusterSize: r.clusterSize,
          clusters: r.clusterCount,
          freeClusters: r.freeClusters,
          files: r.files,
          directories: r.directories,
        },
        () =>
          `fat: ${out}: FAT${r.fatType}, ${formatSize(r.size)}, ${r.clusterCount} clusters of ${r.clusterSize} bytes (${r.freeClusters} free), ${r.files} files, ${r.directories} directories, volume id ${volumeId}${r.label ? `, label ${r.label}` : ''}`,
        line,
      );
    });
}
