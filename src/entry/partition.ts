/**
 * kiln-image/partition: partition tables (MBR, GPT), SYSLINUX installation, unified kernel
 * images (UEFI) and whole-disk planning and assembly into memory or any BlockTarget.
 * Browser-safe like kiln-image/fs; a layout naming host paths needs a DiskHost (nodeDiskHost
 * in kiln-image/node).
 *
 * @module kiln-image/partition
 */
export { encodeMbr, decodeMbr, type MbrPartition, type MbrOptions, type DecodedMbr, type DecodedPartition, type TableSector } from '../partition/mbr.js';
export { MBR_TYPES } from '../partition/mbr-entry.js';
export { lbaToChs, type Chs } from '../partition/chs.js';
export { encodeGpt, decodeGpt, type GptPartition, type GptOptions, type DecodedGpt, type DecodedGptPartition } from '../partition/gpt.js';
export { GPT_TYPES } from '../partition/gpt-entry.js';
export { derivedUuid, parseUuid, formatUuid } from '../fs/uuid.js';
export { installSyslinux, type SyslinuxInstallOptions, type SyslinuxInstallResult, type SyslinuxBinaries } from '../partition/syslinux/install.js';
export { writeUki, UKI_SECTIONS, type UkiParts, type UkiSection } from '../partition/uefi/uki.js';
export { readPeImage, type PeImage, type PeSection } from '../partition/uefi/pe-image.js';
export type { DiskLayout, PartitionSpec, SyslinuxSpec, TableType, PartitionFilesystem } from '../partition/disk-layout.js';
export {
  assembleDiskToMemory,
  planDisk,
  writeDisk,
  type AssembleOptions,
  type DiskPlan,
  type DiskResult,
  type PartitionResult,
  type PlannedPartition,
} from '../partition/assemble.js';
export { NO_HOST, type DiskHost } from '../partition/disk-host.js';
