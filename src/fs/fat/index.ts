/** FAT12/16/32: writer, planner and reader. */
export { writeFat, planFat, normalizeLabel, type FatOptions, type FatResult } from './writer.js';
export { readFat } from './reader.js';
export { parseFatBootSector, type FatVolume, type FatType } from './boot-sector.js';
export { computeGeometry, type FatGeometry } from './geometry.js';
export type { SpecialFilePolicy } from './layout.js';
