import { Struct } from '../../fs/struct.js';

/**
 * The COFF file header that follows the 4-byte PE signature "PE\0\0" (PE/COFF specification,
 * "COFF File Header (Object and Image)").
 */
export const COFF_FILE_HEADER = new Struct('COFF file header', 20, [
  { name: 'Machine', offset: 0, type: 'u16' },
  { name: 'NumberOfSections', offset: 2, type: 'u16' },
  { name: 'TimeDateStamp', offset: 4, type: 'u32' },
  { name: 'PointerToSymbolTable', offset: 8, type: 'u32' }, // 0 in images (deprecated COFF debug info)
  { name: 'NumberOfSymbols', offset: 12, type: 'u32' }, // 18-byte records, then the string table
  { name: 'SizeOfOptionalHeader', offset: 16, type: 'u16' },
  { name: 'Characteristics', offset: 18, type: 'u16' },
] as const);

/** "PE\0\0", at e_lfanew. */
export const PE_SIGNATURE = 0x00004550;
/** Bytes of one COFF symbol table record. */
export const COFF_SYMBOL_SIZE = 18;
/** The spec's limit on NumberOfSections for an image. */
export const MAX_SECTIONS = 96;
