/** ext4 constants: magic numbers, feature flags, mode bits, inode flags, reserved inodes. */

export const EXT4_MAGIC = 0xef53;
export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;

/** Reserved inode numbers. */
export const ROOT_INO = 2;
export const JOURNAL_INO = 8;
export const FIRST_INO = 11;
export const LOST_FOUND_INO = 11;

export const INODE_SIZE = 256;
/** Bytes of the inode beyond the classic 128 that we fill (up to i_projid). */
export const EXTRA_ISIZE = 32;
export const GOOD_OLD_INODE_SIZE = 128;
export const DESC_SIZE = 64;
export const LOG_GROUPS_PER_FLEX = 4;

export const COMPAT = {
  DIR_PREALLOC: 0x1,
  IMAGIC_INODES: 0x2,
  HAS_JOURNAL: 0x4,
  EXT_ATTR: 0x8,
  RESIZE_INODE: 0x10,
  DIR_INDEX: 0x20,
  SPARSE_SUPER2: 0x200,
} as const;

export const INCOMPAT = {
  COMPRESSION: 0x1,
  FILETYPE: 0x2,
  RECOVER: 0x4,
  JOURNAL_DEV: 0x8,
  META_BG: 0x10,
  EXTENTS: 0x40,
  BIT64: 0x80,
  MMP: 0x100,
  FLEX_BG: 0x200,
  EA_INODE: 0x400,
  DIRDATA: 0x1000,
  CSUM_SEED: 0x2000,
  LARGEDIR: 0x4000,
  INLINE_DATA: 0x8000,
  ENCRYPT: 0x10000,
  CASEFOLD: 0x20000,
} as const;

export const RO_COMPAT = {
  SPARSE_SUPER: 0x1,
  LARGE_FILE: 0x2,
  BTREE_DIR: 0x4,
  HUGE_FILE: 0x8,
  GDT_CSUM: 0x10,
  DIR_NLINK: 0x20,
  EXTRA_ISIZE: 0x40,
  QUOTA: 0x100,
  BIGALLOC: 0x200,
  METADATA_CSUM: 0x400,
  READONLY: 0x1000,
  PROJECT: 0x2000,
  ORPHAN_PRESENT: 0x10000,
} as const;

/** What `mke2fs -t ext4` enables on Debian bookworm, minus resize_inode. */
export const DEFAULT_FEATURES = {
  compat: COMPAT.HAS_JOURNAL | COMPAT.EXT_ATTR | COMPAT.DIR_INDEX,
  incompat: INCOMPAT.FILETYPE | INCOMPAT.EXTENTS | INCOMPAT.BIT64 | INCOMPAT.FLEX_BG,
  roCompat: RO_COMPAT.SPARSE_SUPER | RO_COMPAT.LARGE_FILE | RO_COMPAT.HUGE_FILE | RO_COMPAT.DIR_NLINK | RO_COMPAT.EXTRA_ISIZE | RO_COMPAT.METADATA_CSUM,
} as const;

/** s_default_mount_opts */
export const DEFM_XATTR_USER = 0x4;
export const DEFM_ACL = 0x8;
/** s_flags */
export const FLAGS_SIGNED_HASH = 0x1;
export const FLAGS_UNSIGNED_HASH = 0x2;
/** s_state */
export const STATE_CLEAN = 1;
/** s_errors */
export const ERRORS_CONTINUE = 1;
/** s_checksum_type */
export const CHECKSUM_CRC32C = 1;
/** s_jnl_backup_type: s_jnl_blocks holds a copy of the journal inode's i_block and size. */
export const JNL_BACKUP_BLOCKS = 1;

/** s_def_hash_version / dx_root hash_version */
export const HASH = { LEGACY: 0, HALF_MD4: 1, TEA: 2, LEGACY_UNSIGNED: 3, HALF_MD4_UNSIGNED: 4, TEA_UNSIGNED: 5 } as const;

/** i_mode file type bits. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** Directory entry file_type values. */
export const FT = { UNKNOWN: 0, REG: 1, DIR: 2, CHR: 3, BLK: 4, FIFO: 5, SOCK: 6, SYMLINK: 7 } as const;
/** file_type of the checksum tail that ends every directory leaf block. */
export const FT_DIR_CSUM = 0xde;

/** i_flags */
export const INODE_FLAG = {
  SECRM: 0x1,
  UNRM: 0x2,
  COMPR: 0x4,
  SYNC: 0x8,
  IMMUTABLE: 0x10,
  APPEND: 0x20,
  NODUMP: 0x40,
  NOATIME: 0x80,
  /** EXT4_ENCRYPT_FL: fscrypt; names and contents are ciphertext. */
  ENCRYPT: 0x800,
  INDEX: 0x1000,
  JOURNAL_DATA: 0x4000,
  HUGE_FILE: 0x40000,
  EXTENTS: 0x80000,
  EA_INODE: 0x200000,
  INLINE_DATA: 0x10000000,
} as const;

/** bg_flags */
export const BG_INODE_UNINIT = 0x1;
export const BG_BLOCK_UNINIT = 0x2;
export const BG_INODE_ZEROED = 0x4;

/** Largest link count; directories with more subdirectories report 1 (dir_nlink). */
export const LINK_MAX = 65000;
export const NAME_MAX = 255;
/** Symlink targets shorter than i_block (60 bytes) live in the inode. */
export const FAST_SYMLINK_MAX = 59;
