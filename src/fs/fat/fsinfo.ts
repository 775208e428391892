import { Struct } from '../struct.js';

/** The FAT32 FSInfo sector: a hint of the free-cluster count and the next free cluster (FSI_* as the FAT specification names them). */
export const FsInfo = new Struct('FAT32 FSInfo', 512, [
  { name: 'leadSignature', offset: 0x000, type: 'u32' }, // FSI_LeadSig
  { name: 'structSignature', offset: 0x1e4, type: 'u32' }, // FSI_StrucSig
  { name: 'freeCount', offset: 0x1e8, type: 'u32' }, // FSI_Free_Count
  { name: 'nextFree', offset: 0x1ec, type: 'u32' }, // FSI_Nxt_Free
  { name: 'trailSignature', offset: 0x1fc, type: 'u32' }, // FSI_TrailSig
] as const);

export const FSINFO_LEAD = 0x41615252;
export const FSINFO_STRUCT = 0x61417272;
export const FSINFO_TRAIL = 0xaa550000;
/** "Unknown" for both hints. */
export const FSINFO_UNKNOWN = 0xffffffff;

export function encodeFsInfo(freeCount: number, nextFree: number): Uint8Array {
  return FsInfo.encode({ leadSignature: FSINFO_LEAD, structSignature: FSINFO_STRUCT, freeCount, nextFree, trailSignature: FSINFO_TRAIL });
}
