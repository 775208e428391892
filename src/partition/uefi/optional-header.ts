import { Struct } from '../../fs/struct.js';

/**
 * The PE32+ optional header (PE/COFF specification, "Optional Header (Image Only)": the
 * standard fields, the Windows-specific fields, then NumberOfRvaAndSizes data directories of
 * 8 bytes each from offset 112). PE32 (32-bit) images have a different layout and are not
 * read here: every 64-bit UEFI stub is PE32+.
 */
export const OPTIONAL_HEADER = new Struct('PE32+ optional header', 112, [
  { name: 'Magic', offset: 0, type: 'u16' },
  { name: 'MajorLinkerVersion', offset: 2, type: 'u8' },
  { name: 'MinorLinkerVersion', offset: 3, type: 'u8' },
  { name: 'SizeOfCode', offset: 4, type: 'u32' },
  { name: 'SizeOfInitializedData', offset: 8, type: 'u32' },
  { name: 'SizeOfUninitializedData', offset: 12, type: 'u32' },
  { name: 'AddressOfEntryPoint', offset: 16, type: 'u32' },
  { name: 'BaseOfCode', offset: 20, type: 'u32' },
  { name: 'ImageBase', offset: 24, type: 'u64' },
  { name: 'SectionAlignment', offset: 32, type: 'u32' },
  { name: 'FileAlignment', offset: 36, type: 'u32' },
  { name: 'MajorOperatingSystemVersion', offset: 40, type: 'u16' },
  { name: 'MinorOperatingSystemVersion', offset: 42, type: 'u16' },
  { name: 'MajorImageVersion', offset: 44, type: 'u16' },
  { name: 'MinorImageVersion', offset: 46, type: 'u16' },
  { name: 'MajorSubsystemVersion', offset: 48, type: 'u16' },
  { name: 'MinorSubsystemVersion', offset: 50, type: 'u16' },
  { name: 'Win32VersionValue', offset: 52, type: 'u32' },
  { name: 'SizeOfImage', offset: 56, type: 'u32' }, // multiple of SectionAlignment
  { name: 'SizeOfHeaders', offset: 60, type: 'u32' }, // headers and section table, rounded to FileAlignment
  { name: 'CheckSum', offset: 64, type: 'u32' },
  { name: 'Subsystem', offset: 68, type: 'u16' },
  { name: 'DllCharacteristics', offset: 70, type: 'u16' },
  { name: 'SizeOfStackReserve', offset: 72, type: 'u64' },
  { name: 'SizeOfStackCommit', offset: 80, type: 'u64' },
  { name: 'SizeOfHeapReserve', offset: 88, type: 'u64' },
  { name: 'SizeOfHeapCommit', offset: 96, type: 'u64' },
  { name: 'LoaderFlags', offset: 104, type: 'u32' },
  { name: 'NumberOfRvaAndSizes', offset: 108, type: 'u32' },
] as const);

/** Magic of a PE32+ image. */
export const PE32_PLUS_MAGIC = 0x20b;
/** Magic of a PE32 image (refused, with this named). */
export const PE32_MAGIC = 0x10b;
/** Subsystem IMAGE_SUBSYSTEM_EFI_APPLICATION. */
export const IMAGE_SUBSYSTEM_EFI_APPLICATION = 10;
