import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { InitramfsOptions } from '../../fs/cpio/initramfs-plan.js';
import { checkOutput, interruptible, sourceDateEpochFromEnv, withSourceTree } from '../inputs.js';
import { copyCounter } from '../live.js';
import { liveLine, outputOptions, printResult, type OutputOptions } from '../output.js';

interface Opts extends OutputOptions {
  rootOwner?: boolean;
  keepOwner?: boolean;
  compress: boolean;
  fromTar?: boolean;
  level?: string;
}

/** `kiln mkinitramfs [--keep-owner] [--no-compress] [--from-tar] SRC OUT` */
export function registerMkinitramfs(program: Command): void {
  const cmd = program
    .command('mkinitramfs')
    .description('write a gzip-compressed cpio (newc) initramfs from a directory or tar archive')
    .option('--root-owner', 'make every file owned by 0:0 (the default)')
    .option('--keep-owner', "keep the source's owners instead")
    .option('--no-compress', 'write the bare cpio archive')
    .option('--from-tar', 'SRC is a tar archive (plain, gzip, bzip2, xz or zstd)')
    .option('--level <n>', 'gzip level 1-9', '6');
  outputOptions(cmd)
    .argument('<src>', 'source directory (or archive with --from-tar)')
    .argument('<out>', 'output file')
    .action(async (src: string, out: string, opts: Opts) => {
      if (opts.keepOwner && opts.rootOwner) throw new KilnError('bad-option', '--root-owner and --keep-owner contradict each other', 'give one of them');
      const owners = opts.keepOwner ? 'keep' : 'root';
      const sde = sourceDateEpochFromEnv();
      if (!/^[1-9]$/.test(opts.level ?? '6')) throw new KilnError('bad-option', `--level ${opts.level}: the gzip level is a whole number from 1 to 9`);
      const options: InitramfsOptions = { compress: opts.compress, owners, level: Number(opts.level ?? 6) };
      if (sde !== undefined) options.sourceDateEpoch = sde;
      checkOutput(out, opts.force === true);
      const line = liveLine(out, opts);
      const info = await interruptible([out], async () => {
        const { withOutputFile } = await import('../../fs/cpio/file-output.js');
        const { planInitramfs } = await import('../../fs/cpio/initramfs-plan.js');
        const { writeInitramfs } = await import('../../fs/cpio/initramfs.js');
        return withSourceTree(opts.fromTar ? { tar: src } : { dir: src }, owners, async (tree) => {
          planInitramfs(tree, options);
          const counter = copyCounter(line);
          return withOutputFile(out, (sink) => writeInitramfs(tree, sink, { ...options, onProgress: (p) => counter.show(p) }));
        });
      });
      printResult(
        opts,
        { output: out, type: 'initramfs', size: info.bytes, entries: info.entries, cpioBytes: info.cpioBytes, compressed: opts.compress },
        () => `initramfs: ${out}: ${info.entries} entries, ${info.cpioBytes} bytes of cpio, ${info.bytes} bytes written`,
        line,
      );
    });
}
