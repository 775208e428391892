import { Struct } from '../../fs/struct.js';

/**
 * The MS-DOS header every PE image starts with (PE/COFF specification, "MS-DOS Stub (Image
 * Only)"; winnt.h's IMAGE_DOS_HEADER). Of its fields a UEFI loader reads two: the magic and
 * the offset of the PE signature.
 */
export const DOS_HEADER = new Struct('MS-DOS header', 64, [
  { name: 'e_magic', offset: 0x00, type: 'u16' }, // "MZ"
  { name: 'e_lfanew', offset: 0x3c, type: 'u32' }, // file offset of the PE signature
] as const);

export const DOS_MAGIC = 0x5a4d; // "MZ" little-endian
