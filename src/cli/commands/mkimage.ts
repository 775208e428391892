import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import { assembleDisk } from '../../partition/assemble.js';
import { readLayoutFile } from '../../partition/layout.js';
import { formatSize } from '../../units.js';

function sourceDateEpoch(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new KilnError('bad-env', `SOURCE_DATE_EPOCH='${v}' is not a number of seconds`);
  return Number(v);
}

/** `kiln mkimage LAYOUT.yaml OUT.img` */
export function registerMkimage(program: Command): void {
  program
    .command('mkimage')
    .description('assemble a partitioned disk image (MBR or GPT; FAT+SYSLINUX, ext4, swap, raw) from a YAML layout')
    .argument('<layout>', 'layout file (YAML)')
    .argument('<out>', 'output disk image (sparse)')
    .action(async (layoutPath: string, out: string) => {
      const layout = readLayoutFile(layoutPath);
      const sde = sourceDateEpoch();
      const result = await assembleDisk(layout, out, sde === undefined ? {} : { sourceDateEpoch: sde });
      const lines = [`${out}: ${formatSize(result.size)}, ${result.table.toUpperCase()} ${result.id}`];
      for (const p of result.partitions) {
        const extra = [p.label ? `label ${p.label}` : '', p.uuid ? `uuid ${p.uuid}` : '', p.fatType ? `FAT${p.fatType}` : ''].filter(Boolean).join(', ');
        lines.push(`  ${p.number}: ${p.filesystem.padEnd(4)} start ${p.start / 512}, ${formatSize(p.size)}, type ${p.type}${extra ? `, ${extra}` : ''}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
