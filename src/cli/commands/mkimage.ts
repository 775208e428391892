import type { Command } from 'commander';
import { formatSize } from '../../units.js';
import { interruptible, outputNotDirectory, sourceDateEpochFromEnv } from '../inputs.js';


/** `kiln mkimage LAYOUT.yaml OUT.img` */
export function registerMkimage(program: Command): void {
  program
    .command('mkimage')
    .description('assemble a partitioned disk image (MBR or GPT; FAT+SYSLINUX, ext4, swap, raw) from a YAML layout')
    .argument('<layout>', 'layout file (YAML)')
    .argument('<out>', 'output disk image (sparse)')
    .action(async (layoutPath: string, out: string) => {
      const sde = sourceDateEpochFromEnv();
      outputNotDirectory(out);
      await interruptible([out], async () => {
        const { readLayoutFile } = await import('../../partition/layout.js');
        const { assembleDisk } = await import('../../partition/disk-file.js');
        const layout = readLayoutFile(layoutPath);
        const result = await assembleDisk(layout, out, sde === undefined ? {} : { sourceDateEpoch: sde });
        const lines = [`${out}: ${formatSize(result.size)}, ${result.table.toUpperCase()} ${result.id}`];
        for (const p of result.partitions) {
          const extra = [p.label ? `label ${p.label}` : '', p.uuid ? `uuid ${p.uuid}` : '', p.fatType ? `FAT${p.fatType}` : ''].filter(Boolean).join(', ');
          lines.push(`  ${p.number}: ${p.filesystem.padEnd(4)} start ${p.start / 512}, ${formatSize(p.size)}, type ${p.type}${extra ? `, ${extra}` : ''}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}
