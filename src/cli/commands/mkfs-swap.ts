import type { Command } from 'commander';
import { withSparseFile } from '../../fs/file-target.js';
import { planSwap, writeSwap } from '../../fs/swap.js';
import { checkOutput, optionSize } from '../inputs.js';
import { outputOptions, printResult, type OutputOptions } from '../output.js';

interface Opts extends OutputOptions {
  size: string;
  label?: string;
  uuid?: string;
}

/** `kiln mkfs swap --size SIZE [--label L] [--uuid U] OUT` */
export function addMkfsSwap(mkfs: Command): void {
  const cmd = mkfs
    .command('swap')
    .description('write a Linux swap area (version-1 header) into a new sparse file')
    .requiredOption('-s, --size <size>', 'size of the swap area (e.g. 256M); at least 10 pages')
    .option('-L, --label <label>', 'swap label (up to 16 bytes)')
    .option('-U, --uuid <uuid>', 'UUID (default: derived from size and label)');
  outputOptions(cmd)
    .argument('<out>', 'output file')
    .action(async (out: string, opts: Opts) => {
      const size = optionSize(opts.size, 'swap size');
      const options = { ...(opts.label !== undefined && { label: opts.label }), ...(opts.uuid !== undefined && { uuid: opts.uuid }) };
      planSwap(size, options); // refuse bad input before creating anything
      checkOutput(out, opts.force === true);
      const info = await withSparseFile(out, size, (t) => writeSwap(t, options));
      printResult(
        opts,
        { output: out, type: 'swap', size, uuid: info.uuid, label: info.label === '' ? null : info.label, pageSize: info.pageSize, pages: info.lastPage },
        () => `swap: ${out}: ${info.lastPage} pages of ${info.pageSize} bytes, UUID ${info.uuid}${info.label ? `, label ${info.label}` : ''}`,
      );
    });
}
