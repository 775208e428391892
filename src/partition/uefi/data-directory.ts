import { Struct } from '../../fs/struct.js';

/**
 * One entry of the optional header's data directories (PE/COFF specification, "Optional
 * Header Data Directories (Image Only)"): an RVA and a size, except for the Certificate Table,
 * whose VirtualAddress is a file offset.
 */
export const DATA_DIRECTORY = new Struct('data directory', 8, [
  { name: 'VirtualAddress', offset: 0, type: 'u32' },
  { name: 'Size', offset: 4, type: 'u32' },
] as const);

/** Index of the Certificate Table (Authenticode signatures, "attribute certificate table"). */
export const CERTIFICATE_TABLE = 4;
