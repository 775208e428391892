import { KilnError } from '../errors.js';
import { controlCharacter, type SyslinuxSpec } from './disk-layout.js';

/**
 * The syslinux.cfg kiln generates from a layout's `syslinux` block: one label booted at once
 * (or after `timeout`), the console on the first serial port when `serial` is set. Values go
 * into single lines, so control characters (a line break would add directives) are refused.
 * A `config` given as is is a host path, read with `readFile`.
 */
export function syslinuxConfig(spec: SyslinuxSpec, readFile: (path: string) => Uint8Array): Uint8Array {
  if (spec.config) {
    try {
      return readFile(spec.config);
    } catch (e) {
      if (e instanceof KilnError && e.code === 'needs-host') throw e;
      throw new KilnError('no-source', `cannot read syslinux config '${spec.config}': ${(e as Error).message}`);
    }
  }
  for (const k of ['kernel', 'initrd', 'cmdline'] as const) {
    const v = spec[k];
    const ctl = v === undefined ? undefined : controlCharacter(v);
    if (ctl)
      throw new KilnError(
        'bad-layout',
        `syslinux ${k} contains ${ctl}; it would break the syslinux.cfg line it goes into`,
        `write the ${k} on one line without control characters`,
      );
  }
  const lines: string[] = [];
  if (spec.serial !== undefined) lines.push(`SERIAL 0 ${spec.serial}`);
  lines.push('DEFAULT linux');
  lines.push(spec.timeout ? 'PROMPT 1' : 'PROMPT 0');
  lines.push(`TIMEOUT ${spec.timeout ?? 0}`);
  lines.push('LABEL linux');
  lines.push(`  KERNEL ${spec.kernel ?? '/vmlinuz'}`);
  const append = [spec.initrd ? `initrd=${spec.initrd}` : '', spec.cmdline ?? ''].filter(Boolean).join(' ');
  if (append) lines.push(`  APPEND ${append}`);
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}
