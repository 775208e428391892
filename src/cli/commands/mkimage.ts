import type { Command } from 'commander';
import { formatSize } from '../../units.js';
import type { DiskPlan, DiskResult } from '../../partition/assemble.js';
import { usageError } from '../conventions.js';
import { findGaps, printDisk, typeNameOf, usableRange, type DiskView } from '../disk-view.js';
import { checkOutput, interruptible, outputNotDirectory, sourceDateEpochFromEnv } from '../inputs.js';
import { copyCounter } from '../live.js';
import { liveLine, outputOptions, printResult, type OutputOptions } from '../output.js';

interface Opts extends OutputOptions {
  dryRun?: boolean;
}

const LAYOUT_HELP = `
Layout (YAML):
  table: gpt                  # mbr (default) or gpt
  size: auto                  # the disk size (e.g. 2G), or auto: the partitions plus the table
  alignment: 1M               # where partitions start (default 1 MiB)
  partitions:
    - filesystem: fat         # fat, ext4, swap or raw
      type: esp               # a name (esp, xbootldr, linux, swap, home, srv, var, tmp,
                              #   root-x86-64, root-arm64, usr-x86-64, usr-arm64, bios-boot,
                              #   lvm, raid, basic-data; MBR also fat12, fat16, fat32,
                              #   fat16-lba, fat32-lba), an MBR type byte (0x83) or a GPT
                              #   type GUID; default by filesystem
      size: 256M              # or auto: the smallest that holds the content
      label: EFI
      source: esp/            # a directory or tar archive (fat, ext4) or an image (raw)
      files: { /vmlinuz: build/vmlinuz }
      uki: { stub: linuxx64.efi.stub, linux: build/vmlinuz, cmdline: console=ttyS0 }
                              # fat: a unified kernel image at \\EFI\\BOOT\\BOOTX64.EFI (docs/uefi.md)
    - filesystem: ext4
      source: rootfs.tar.zst
      size: auto
docs/layout.md describes every key.`;

/** The facts of a planned disk, as `kiln image inspect` shows a written one. */
function planView(layoutPath: string, plan: DiskPlan): DiskView {
  const gpt = plan.layout.table === 'gpt';
  const usable = usableRange(plan.layout.table, plan.size);
  return {
    image: layoutPath,
    size: plan.size,
    table: plan.layout.table,
    id: gpt ? plan.diskGuid : plan.diskSignature.toString(16).padStart(8, '0'),
    sectorSize: 512,
    partitions: plan.partitions.map((p) => {
      const type = gpt ? p.gptType : `0x${p.mbrType.toString(16).padStart(2, '0')}`;
      return {
        number: p.number,
        start: p.start,
        size: p.size,
        type,
        typeName: typeNameOf(type),
        name: p.spec.name ?? null,
        // blkid's PARTUUID: the GPT partition GUID, or for MBR the signature and the number
        partuuid: gpt ? p.guid : `${plan.diskSignature.toString(16).padStart(8, '0')}-${p.number.toString(16).padStart(2, '0')}`,
        bootable: p.spec.bootable === true,
        filesystem: p.spec.filesystem === 'raw' ? null : p.spec.filesystem,
        label: p.spec.label ?? null,
        uuid: null,
        used: null,
        free: null,
      };
    }),
    gaps: findGaps(plan.partitions, usable.first, usable.end),
  };
}

/** The facts of a written disk. */
function resultView(out: string, r: DiskResult, plan: DiskView): DiskView {
  return {
    ...plan,
    image: out,
    // as image inspect shows it: 8 hex digits without 0x
    id: r.table === 'mbr' ? r.id.replace(/^0x/i, '').padStart(8, '0') : r.id,
    partitions: r.partitions.map((p, i) => {
      const type = r.table === 'gpt' ? p.type.toUpperCase() : p.type;
      return {
        ...plan.partitions[i]!,
        type,
        typeName: typeNameOf(type),
        filesystem: p.filesystem === 'raw' ? null : p.filesystem,
        ...(p.fatType !== undefined && { fatType: p.fatType }),
        label: p.label ?? null,
        uuid: p.uuid ?? null,
      };
    }),
  };
}

/** `kiln mkimage LAYOUT.yaml OUT.img` */
export function registerMkimage(program: Command): void {
  const cmd = program
    .command('mkimage')
    .description('assemble a partitioned disk image (MBR or GPT; FAT+SYSLINUX, ext4, swap, raw) from a YAML layout')
    .option('-n, --dry-run', 'plan the disk and print its layout (as kiln image inspect shows a disk); write nothing');
  outputOptions(cmd, 'the disk image')
    .argument('<layout>', 'layout file (YAML)')
    .argument('[out]', 'output disk image (sparse); not with --dry-run')
    .addHelpText('after', LAYOUT_HELP)
    .action(async (layoutPath: string, out: string | undefined, opts: Opts) => {
      const sde = sourceDateEpochFromEnv();
      const options = sde === undefined ? {} : { sourceDateEpoch: sde };
      if (opts.dryRun) {
        if (out !== undefined) throw usageError('--dry-run writes nothing: give only the layout', 'kiln mkimage --dry-run LAYOUT.yaml');
        const { readLayoutFile } = await import('../../partition/layout.js');
        const { planDisk } = await import('../../partition/assemble.js');
        const { nodeDiskHost } = await import('../../partition/disk-file.js');
        const plan = await planDisk(readLayoutFile(layoutPath), { host: nodeDiskHost, ...options });
        try {
          const view = planView(layoutPath, plan);
          if (opts.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
          else if (!opts.quiet) printDisk(view);
        } finally {
          plan.dispose();
        }
        return;
      }
      if (out === undefined) throw usageError('missing the output disk image', 'kiln mkimage LAYOUT.yaml OUT.img (or --dry-run LAYOUT.yaml)');
      outputNotDirectory(out);
      checkOutput(out, opts.force === true);
      const line = liveLine(out, opts);
      const { view, result } = await interruptible([out], async () => {
        const { readLayoutFile } = await import('../../partition/layout.js');
        const { planDisk, writeDisk } = await import('../../partition/assemble.js');
        const { nodeDiskHost } = await import('../../partition/disk-file.js');
        const { withSparseFile } = await import('../../fs/file-target.js');
        const plan = await planDisk(readLayoutFile(layoutPath), { host: nodeDiskHost, ...options });
        try {
          const counter = copyCounter(line);
          const r = await withSparseFile(out, plan.size, (t) => writeDisk(plan, t, { onProgress: (p) => counter.show(p) }));
          return { view: resultView(out, r, planView(layoutPath, plan)), result: r };
        } finally {
          plan.dispose();
        }
      });
      printResult(
        opts,
        view,
        () => {
          const lines = [`${out}: ${formatSize(result.size)}, ${result.table.toUpperCase()} ${result.id}`];
          for (const p of result.partitions) {
            const extra = [p.label ? `label ${p.label}` : '', p.uuid ? `uuid ${p.uuid}` : '', p.fatType ? `FAT${p.fatType}` : ''].filter(Boolean).join(', ');
            lines.push(`  ${p.number}: ${p.filesystem.padEnd(4)} start ${p.start / 512}, ${formatSize(p.size)}, type ${p.type}${extra ? `, ${extra}` : ''}`);
          }
          return lines.join('\n');
        },
        line,
      );
    });
}
