import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import { withOutputFile } from '../../fs/cpio/file-output.js';
import { planInitramfs, writeInitramfs, type InitramfsOptions } from '../../fs/cpio/initramfs.js';
import { treeFromDirectory } from '../../fs/tree-from-dir.js';
import { treeFromTar } from '../../fs/tree-from-tar.js';
import type { FileTree } from '../../fs/tree.js';

interface Opts {
  rootOwner?: boolean;
  keepOwner?: boolean;
  compress: boolean;
  fromTar?: boolean;
  level?: string;
}

function sourceDateEpoch(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new KilnError('bad-env', `SOURCE_DATE_EPOCH='${v}' is not a number of seconds`);
  return Number(v);
}

/** `kiln mkinitramfs [--keep-owner] [--no-compress] [--from-tar] SRC OUT` */
export function registerMkinitramfs(program: Command): void {
  program
    .command('mkinitramfs')
    .description('write a gzip-compressed cpio (newc) initramfs from a directory or tar archive')
    .option('--root-owner', 'make every file owned by 0:0 (the default)')
    .option('--keep-owner', "keep the source's owners instead")
    .option('--no-compress', 'write the bare cpio archive')
    .option('--from-tar', 'SRC is a tar archive (plain, gzip, bzip2, xz or zstd)')
    .option('--level <n>', 'gzip level 1-9', '6')
    .argument('<src>', 'source directory (or archive with --from-tar)')
    .argument('<out>', 'output file')
    .action(async (src: string, out: string, opts: Opts) => {
      if (opts.keepOwner && opts.rootOwner) throw new KilnError('bad-option', '--root-owner and --keep-owner contradict each other', 'give one of them');
      const owners = opts.keepOwner ? 'keep' : 'root';
      const sde = sourceDateEpoch();
      const options: InitramfsOptions = { compress: opts.compress, owners, level: Number(opts.level ?? 6) };
      if (sde !== undefined) options.sourceDateEpoch = sde;
      let tree: FileTree;
      let dispose = (): void => {};
      if (opts.fromTar) {
        const t = await treeFromTar(src, { owners });
        tree = t.tree;
        dispose = t.dispose;
      } else tree = treeFromDirectory(src, { owners });
      try {
        planInitramfs(tree, options);
        const info = await withOutputFile(out, (sink) => writeInitramfs(tree, sink, options));
        process.stdout.write(`initramfs: ${out}: ${info.entries} entries, ${info.cpioBytes} bytes of cpio, ${info.bytes} bytes written\n`);
      } finally {
        dispose();
      }
    });
}
