/** FAT12/16/32: writer, planner and reader. */
export { writeFat, planFat, normalizeLabel, type FatOptions, type FatResult } from './writer.js';
export { readFat, parseFatBootSector, type FatVolume } from './reader.js';
export { computeGeometry, type FatGeometry } from './geometry.js';
export type { FatType } from './boot-sector.js';
export type { SpecialFilePolicy } from './layout.js';
