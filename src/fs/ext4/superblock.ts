import { crc32cUpdate } from '../checksum/crc32c.js';
import { Struct, type Values } from '../struct.js';
import { SUPERBLOCK_SIZE } from './constants.js';

/** The ext4 superblock (1024 bytes at byte 1024 of the filesystem, copies in backup groups). */
const FIELDS = [
  { name: 's_inodes_count', offset: 0x0, type: 'u32' },
  { name: 's_blocks_count_lo', offset: 0x4, type: 'u32' },
  { name: 's_r_blocks_count_lo', offset: 0x8, type: 'u32' },
  { name: 's_free_blocks_count_lo', offset: 0xc, type: 'u32' },
  { name: 's_free_inodes_count', offset: 0x10, type: 'u32' },
  { name: 's_first_data_block', offset: 0x14, type: 'u32' },
  { name: 's_log_block_size', offset: 0x18, type: 'u32' },
  { name: 's_log_cluster_size', offset: 0x1c, type: 'u32' },
  { name: 's_blocks_per_group', offset: 0x20, type: 'u32' },
  { name: 's_clusters_per_group', offset: 0x24, type: 'u32' },
  { name: 's_inodes_per_group', offset: 0x28, type: 'u32' },
  { name: 's_mtime', offset: 0x2c, type: 'u32' },
  { name: 's_wtime', offset: 0x30, type: 'u32' },
  { name: 's_mnt_count', offset: 0x34, type: 'u16' },
  { name: 's_max_mnt_count', offset: 0x36, type: 'u16' },
  { name: 's_magic', offset: 0x38, type: 'u16' },
  { name: 's_state', offset: 0x3a, type: 'u16' },
  { name: 's_errors', offset: 0x3c, type: 'u16' },
  { name: 's_minor_rev_level', offset: 0x3e, type: 'u16' },
  { name: 's_lastcheck', offset: 0x40, type: 'u32' },
  { name: 's_checkinterval', offset: 0x44, type: 'u32' },
  { name: 's_creator_os', offset: 0x48, type: 'u32' },
  { name: 's_rev_level', offset: 0x4c, type: 'u32' },
  { name: 's_def_resuid', offset: 0x50, type: 'u16' },
  { name: 's_def_resgid', offset: 0x52, type: 'u16' },
  { name: 's_first_ino', offset: 0x54, type: 'u32' },
  { name: 's_inode_size', offset: 0x58, type: 'u16' },
  { name: 's_block_group_nr', offset: 0x5a, type: 'u16' },
  { name: 's_feature_compat', offset: 0x5c, type: 'u32' },
  { name: 's_feature_incompat', offset: 0x60, type: 'u32' },
  { name: 's_feature_ro_compat', offset: 0x64, type: 'u32' },
  { name: 's_uuid', offset: 0x68, type: 'bytes', size: 16 },
  { name: 's_volume_name', offset: 0x78, type: 'string', size: 16 },
  { name: 's_last_mounted', offset: 0x88, type: 'string', size: 64 },
  { name: 's_algorithm_usage_bitmap', offset: 0xc8, type: 'u32' },
  { name: 's_prealloc_blocks', offset: 0xcc, type: 'u8' },
  { name: 's_prealloc_dir_blocks', offset: 0xcd, type: 'u8' },
  { name: 's_reserved_gdt_blocks', offset: 0xce, type: 'u16' },
  { name: 's_journal_uuid', offset: 0xd0, type: 'bytes', size: 16 },
  { name: 's_journal_inum', offset: 0xe0, type: 'u32' },
  { name: 's_journal_dev', offset: 0xe4, type: 'u32' },
  { name: 's_last_orphan', offset: 0xe8, type: 'u32' },
  /** Four u32s; the directory hash seed. */
  { name: 's_hash_seed', offset: 0xec, type: 'bytes', size: 16 },
  { name: 's_def_hash_version', offset: 0xfc, type: 'u8' },
  { name: 's_jnl_backup_type', offset: 0xfd, type: 'u8' },
  { name: 's_desc_size', offset: 0xfe, type: 'u16' },
  { name: 's_default_mount_opts', offset: 0x100, type: 'u32' },
  { name: 's_first_meta_bg', offset: 0x104, type: 'u32' },
  { name: 's_mkfs_time', offset: 0x108, type: 'u32' },
  /** 17 u32s: the journal inode's i_block[15], i_size_high, i_size. */
  { name: 's_jnl_blocks', offset: 0x10c, type: 'bytes', size: 68 },
  { name: 's_blocks_count_hi', offset: 0x150, type: 'u32' },
  { name: 's_r_blocks_count_hi', offset: 0x154, type: 'u32' },
  { name: 's_free_blocks_count_hi', offset: 0x158, type: 'u32' },
  { name: 's_min_extra_isize', offset: 0x15c, type: 'u16' },
  { name: 's_want_extra_isize', offset: 0x15e, type: 'u16' },
  { name: 's_flags', offset: 0x160, type: 'u32' },
  { name: 's_raid_stride', offset: 0x164, type: 'u16' },
  { name: 's_mmp_interval', offset: 0x166, type: 'u16' },
  { name: 's_mmp_block', offset: 0x168, type: 'u64' },
  { name: 's_raid_stripe_width', offset: 0x170, type: 'u32' },
  { name: 's_log_groups_per_flex', offset: 0x174, type: 'u8' },
  { name: 's_checksum_type', offset: 0x175, type: 'u8' },
  { name: 's_encryption_level', offset: 0x176, type: 'u8' },
  { name: 's_kbytes_written', offset: 0x178, type: 'u64' },
  { name: 's_snapshot_inum', offset: 0x180, type: 'u32' },
  { name: 's_snapshot_id', offset: 0x184, type: 'u32' },
  { name: 's_snapshot_r_blocks_count', offset: 0x188, type: 'u64' },
  { name: 's_snapshot_list', offset: 0x190, type: 'u32' },
  { name: 's_error_count', offset: 0x194, type: 'u32' },
  { name: 's_first_error_time', offset: 0x198, type: 'u32' },
  { name: 's_first_error_ino', offset: 0x19c, type: 'u32' },
  { name: 's_first_error_block', offset: 0x1a0, type: 'u64' },
  { name: 's_first_error_func', offset: 0x1a8, type: 'string', size: 32 },
  { name: 's_first_error_line', offset: 0x1c8, type: 'u32' },
  { name: 's_last_error_time', offset: 0x1cc, type: 'u32' },
  { name: 's_last_error_ino', offset: 0x1d0, type: 'u32' },
  { name: 's_last_error_line', offset: 0x1d4, type: 'u32' },
  { name: 's_last_error_block', offset: 0x1d8, type: 'u64' },
  { name: 's_last_error_func', offset: 0x1e0, type: 'string', size: 32 },
  { name: 's_mount_opts', offset: 0x200, type: 'string', size: 64 },
  { name: 's_usr_quota_inum', offset: 0x240, type: 'u32' },
  { name: 's_grp_quota_inum', offset: 0x244, type: 'u32' },
  { name: 's_overhead_clusters', offset: 0x248, type: 'u32' },
  { name: 's_backup_bgs', offset: 0x24c, type: 'bytes', size: 8 },
  { name: 's_encrypt_algos', offset: 0x254, type: 'bytes', size: 4 },
  { name: 's_encrypt_pw_salt', offset: 0x258, type: 'bytes', size: 16 },
  { name: 's_lpf_ino', offset: 0x268, type: 'u32' },
  { name: 's_prj_quota_inum', offset: 0x26c, type: 'u32' },
  { name: 's_checksum_seed', offset: 0x270, type: 'u32' },
  { name: 's_wtime_hi', offset: 0x274, type: 'u8' },
  { name: 's_mtime_hi', offset: 0x275, type: 'u8' },
  { name: 's_mkfs_time_hi', offset: 0x276, type: 'u8' },
  { name: 's_lastcheck_hi', offset: 0x277, type: 'u8' },
  { name: 's_first_error_time_hi', offset: 0x278, type: 'u8' },
  { name: 's_last_error_time_hi', offset: 0x279, type: 'u8' },
  { name: 's_first_error_errcode', offset: 0x27a, type: 'u8' },
  { name: 's_last_error_errcode', offset: 0x27b, type: 'u8' },
  { name: 's_encoding', offset: 0x27c, type: 'u16' },
  { name: 's_encoding_flags', offset: 0x27e, type: 'u16' },
  { name: 's_orphan_file_inum', offset: 0x280, type: 'u32' },
  { name: 's_checksum', offset: 0x3fc, type: 'u32' },
] as const;

export const Superblock = new Struct('ext4 superblock', SUPERBLOCK_SIZE, FIELDS);
export type SuperblockValues = Values<typeof FIELDS>;

/** crc32c(~0, superblock up to s_checksum), stored raw. */
export function superblockChecksum(sb: Uint8Array, base = 0): number {
  return crc32cUpdate(0xffffffff, sb, base, base + Superblock.offsetOf('s_checksum'));
}

export function setSuperblockChecksum(sb: Uint8Array, base = 0): void {
  Superblock.encode({ s_checksum: superblockChecksum(sb, base) }, sb, base);
}

/** The seed every other metadata checksum starts from (no csum_seed feature: from the UUID). */
export function checksumSeed(sb: SuperblockValues, incompatCsumSeed: boolean): number {
  return incompatCsumSeed ? sb.s_checksum_seed : crc32cUpdate(0xffffffff, sb.s_uuid);
}

/** 64-bit counts split over _lo/_hi fields. */
export function blocksCount(sb: SuperblockValues): number {
  return sb.s_blocks_count_lo + sb.s_blocks_count_hi * 2 ** 32;
}
export function freeBlocksCount(sb: SuperblockValues): number {
  return sb.s_free_blocks_count_lo + sb.s_free_blocks_count_hi * 2 ** 32;
}
export function reservedBlocksCount(sb: SuperblockValues): number {
  return sb.s_r_blocks_count_lo + sb.s_r_blocks_count_hi * 2 ** 32;
}

/** Groups holding superblock backups with sparse_super: 0, 1 and powers of 3, 5 and 7. */
export function groupHasSuper(group: number, sparseSuper = true): boolean {
  if (!sparseSuper || group <= 1) return true;
  if (group % 2 === 0) return false;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < group) p *= base;
    if (p === group) return true;
  }
  return false;
}
