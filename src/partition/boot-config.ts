import { readFileSync } from 'node:fs';
import type { SyslinuxSpec } from './layout.js';

/**
 * The syslinux.cfg kiln generates from a layout's `syslinux` block: one label booted at once
 * (or after `timeout`), the console on the first serial port when `serial` is set.
 */
export function syslinuxConfig(spec: SyslinuxSpec): Uint8Array {
  if (spec.config) return new Uint8Array(readFileSync(spec.config));
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
