import { Struct } from '../../fs/struct.js';

/**
 * The part of the x86 Linux boot protocol's setup header that names the kernel's release
 * (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header"; offsets from the start of
 * bzImage). Only the fields read here are listed.
 */
export const SETUP_HEADER = new Struct('x86 boot setup header', 0x210, [
  { name: 'header', offset: 0x202, type: 'u32' }, // "HdrS"
  { name: 'version', offset: 0x206, type: 'u16' }, // boot protocol version
  { name: 'kernel_version', offset: 0x20e, type: 'u16' }, // pointer to the version string, minus 0x200
] as const);

export const SETUP_HEADER_MAGIC = 0x53726448; // "HdrS" little-endian

/**
 * The release (`uname -r`) a bzImage says it is, as ukify finds it: the first word of the
 * version string kernel_version points at ("6.1.0-57-amd64 (debian-kernel@…) #1 SMP …"), or
 * undefined when the image is no bzImage or has no string (protocol before 2.00).
 */
export function kernelRelease(bzImage: Uint8Array): string | undefined {
  if (bzImage.length < SETUP_HEADER.size || SETUP_HEADER.get(bzImage, 'header') !== SETUP_HEADER_MAGIC) return undefined;
  const pointer = SETUP_HEADER.get(bzImage, 'kernel_version') as number;
  if ((SETUP_HEADER.get(bzImage, 'version') as number) < 0x200 || pointer === 0) return undefined;
  const start = pointer + 0x200;
  const end = bzImage.indexOf(0, start);
  if (start >= bzImage.length || end < 0) return undefined;
  const word = /^[\x21-\x7e]+/.exec(new TextDecoder('latin1').decode(bzImage.subarray(start, Math.min(end, start + 256))));
  return word?.[0];
}
