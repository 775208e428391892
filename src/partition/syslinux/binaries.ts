import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import type { SyslinuxBinaries } from './install.js';

/** Reads ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin from a directory the caller names. */
export function loadSyslinuxBinaries(dir: string): SyslinuxBinaries {
  const read = (name: string): Uint8Array => {
    try {
      return new Uint8Array(readFileSync(join(dir, name)));
    } catch (e) {
      throw new KilnError(
        'syslinux-missing',
        `cannot read ${name} in '${dir}': ${(e as Error).message}`,
        'point to a directory holding ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin from one SYSLINUX BIOS build',
      );
    }
  };
  const b = { bss: read('ldlinux.bss'), sys: read('ldlinux.sys'), c32: read('ldlinux.c32'), mbr: read('mbr.bin') };
  if (b.bss.length !== 512) throw new KilnError('syslinux-bad-binary', `${join(dir, 'ldlinux.bss')} is ${b.bss.length} bytes, not 512`);
  if (b.mbr.length > 446) throw new KilnError('syslinux-bad-binary', `${join(dir, 'mbr.bin')} is ${b.mbr.length} bytes; MBR boot code fits in 440`);
  return b;
}
