import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { KilnError } from '../../errors.js';
import { checkOutput, interruptible } from '../inputs.js';
import { liveLine, outputOptions, printResult, type OutputOptions } from '../output.js';

interface Opts extends OutputOptions {
  stub: string;
  linux: string;
  initrd?: string;
  cmdline?: string;
  osRelease?: string;
  uname?: string;
}

const UKI_HELP = `
A unified kernel image is systemd's EFI stub with the kernel, initrd, command line,
os-release and uname -r appended as PE sections (.linux, .initrd, .cmdline, .osrel,
.uname), placed as systemd's ukify places them. Firmware starts it like every other EFI program:
copy it to \\EFI\\BOOT\\BOOTX64.EFI on an EFI system partition (or let an x86image with
boot: uefi or a layout's uki: do it). Not signed: sign it afterwards for Secure Boot.

Example:
  kiln mkuki --stub /usr/lib/systemd/boot/efi/linuxx64.efi.stub --linux bzImage \\
    --initrd initramfs.gz --cmdline 'root=/dev/sda2 console=ttyS0' \\
    --os-release @rootfs/etc/os-release --uname 6.1.0 BOOTX64.EFI`;

function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new KilnError('no-source', `${what} '${path}' cannot be read: ${(e as Error).message}`);
  }
}

/** ukify's TEXT|@PATH: the text itself, or the bytes of a file. */
function textOrFile(value: string, what: string): Uint8Array | string {
  return value.startsWith('@') ? readInput(value.slice(1), what) : value;
}

/** `kiln mkuki --stub STUB --linux KERNEL [--initrd …] OUT.efi` */
export function registerMkuki(program: Command): void {
  const cmd = program
    .command('mkuki')
    .description("write a unified kernel image (UEFI): systemd's stub with a kernel, initrd and command line")
    .requiredOption('--stub <file>', "systemd's EFI stub (Debian: /usr/lib/systemd/boot/efi/linuxx64.efi.stub of systemd-boot-efi)")
    .requiredOption('--linux <file>', 'the kernel, built with CONFIG_EFI_STUB (bzImage) [.linux]')
    .option('--initrd <file>', 'the initramfs [.initrd]')
    .option('--cmdline <text|@file>', 'the kernel command line [.cmdline]')
    .option('--os-release <text|@file>', "the system's os-release [.osrel]")
    .option('--uname <version>', "the kernel's uname -r [.uname] (default: the release the bzImage names; '' for none)");
  outputOptions(cmd, 'the image')
    .argument('<out>', 'output file (e.g. BOOTX64.EFI)')
    .addHelpText('after', UKI_HELP)
    .action(async (out: string, opts: Opts) => {
      checkOutput(out, opts.force === true);
      const line = liveLine(out, opts);
      const result = await interruptible([out], async () => {
        const { writeUki } = await import('../../partition/uefi/uki.js');
        const { readPeImage } = await import('../../partition/uefi/pe-image.js');
        const { removableMediaPath } = await import('../../partition/uefi/boot-path.js');
        const { withOutputFile } = await import('../../fs/cpio/file-output.js');
        const stub = readInput(opts.stub, 'stub');
        const uki = writeUki(
          {
            stub,
            linux: readInput(opts.linux, 'kernel'),
            ...(opts.initrd !== undefined && { initrd: readInput(opts.initrd, 'initrd') }),
            ...(opts.cmdline !== undefined && { cmdline: textOrFile(opts.cmdline, 'command line file') }),
            ...(opts.osRelease !== undefined && { osRelease: textOrFile(opts.osRelease, 'os-release file') }),
            ...(opts.uname !== undefined && { uname: opts.uname }),
          },
          { stub: `stub '${opts.stub}'`, linux: `kernel '${opts.linux}'` },
        );
        await withOutputFile(out, async (sink) => sink.write(uki));
        const pe = readPeImage(uki, out);
        const added = pe.sections.slice(readPeImage(stub, 'stub').sections.length);
        return {
          output: out,
          type: 'uki',
          size: uki.length,
          bootPath: removableMediaPath(pe.machine) ?? null,
          sections: added.map((s) => ({
            name: s.name,
            size: s.header.VirtualSize,
            virtualAddress: s.header.VirtualAddress,
            fileOffset: s.header.PointerToRawData,
          })),
        };
      });
      printResult(
        opts,
        result,
        () =>
          [
            `uki: ${out}: ${result.size} bytes${result.bootPath ? ` (for ${result.bootPath.replaceAll('/', '\\')} on an EFI system partition)` : ''}`,
            ...result.sections.map((s) => `  ${s.name.padEnd(8)} ${s.size} bytes at RVA 0x${s.virtualAddress.toString(16)}`),
          ].join('\n'),
        line,
      );
    });
}
