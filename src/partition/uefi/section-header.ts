import { Struct } from '../../fs/struct.js';

/** One 40-byte entry of the section table (PE/COFF specification, "Section Table (Section Headers)"). */
export const SECTION_HEADER = new Struct('section header', 40, [
  { name: 'Name', offset: 0, type: 'bytes', size: 8 }, // UTF-8, NUL-padded; 8 bytes need no NUL
  { name: 'VirtualSize', offset: 8, type: 'u32' }, // bytes when loaded
  { name: 'VirtualAddress', offset: 12, type: 'u32' }, // RVA, multiple of SectionAlignment
  { name: 'SizeOfRawData', offset: 16, type: 'u32' }, // bytes in the file, multiple of FileAlignment
  { name: 'PointerToRawData', offset: 20, type: 'u32' }, // file offset, multiple of FileAlignment
  { name: 'PointerToRelocations', offset: 24, type: 'u32' },
  { name: 'PointerToLinenumbers', offset: 28, type: 'u32' },
  { name: 'NumberOfRelocations', offset: 32, type: 'u16' },
  { name: 'NumberOfLinenumbers', offset: 34, type: 'u16' },
  { name: 'Characteristics', offset: 36, type: 'u32' },
] as const);

/** Section flags (the spec's "Section Flags"). */
export const IMAGE_SCN_CNT_CODE = 0x00000020;
export const IMAGE_SCN_CNT_INITIALIZED_DATA = 0x00000040;
export const IMAGE_SCN_MEM_READ = 0x40000000;
