import { Struct } from '../struct.js';

/** The jbd2 journal superblock (big-endian), in the first block of the journal. */
export const JBD2_MAGIC = 0xc03b3998;
export const JBD2_SUPERBLOCK_V2 = 4;

export const JournalSuperblock = new Struct('jbd2 superblock', 1024, [
  { name: 'h_magic', offset: 0x0, type: 'u32be' },
  { name: 'h_blocktype', offset: 0x4, type: 'u32be' },
  { name: 'h_sequence', offset: 0x8, type: 'u32be' },
  { name: 's_blocksize', offset: 0xc, type: 'u32be' },
  { name: 's_maxlen', offset: 0x10, type: 'u32be' },
  { name: 's_first', offset: 0x14, type: 'u32be' },
  { name: 's_sequence', offset: 0x18, type: 'u32be' },
  { name: 's_start', offset: 0x1c, type: 'u32be' },
  { name: 's_errno', offset: 0x20, type: 'u32be' },
  { name: 's_feature_compat', offset: 0x24, type: 'u32be' },
  { name: 's_feature_incompat', offset: 0x28, type: 'u32be' },
  { name: 's_feature_ro_compat', offset: 0x2c, type: 'u32be' },
  { name: 's_uuid', offset: 0x30, type: 'bytes', size: 16 },
  { name: 's_nr_users', offset: 0x40, type: 'u32be' },
  { name: 's_dynsuper', offset: 0x44, type: 'u32be' },
  { name: 's_max_transaction', offset: 0x48, type: 'u32be' },
  { name: 's_max_trans_data', offset: 0x4c, type: 'u32be' },
  { name: 's_checksum_type', offset: 0x50, type: 'u8' },
  { name: 's_num_fc_blks', offset: 0x54, type: 'u32be' },
  { name: 's_head', offset: 0x58, type: 'u32be' },
  { name: 's_checksum', offset: 0xfc, type: 'u32be' },
  /** 48 × 16-byte UUIDs of the filesystems sharing an external journal. */
  { name: 's_users', offset: 0x100, type: 'bytes', size: 768 },
] as const);

/** Journal size in blocks for a filesystem of `blocks` blocks (ext2fs_default_journal_size); 0 = too small for one. */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

/** The smaller journal sizes mke2fs uses, largest first (to fall back on when a tree is tight). */
export const JOURNAL_SIZE_STEPS = [262144, 131072, 65536, 32768, 16384, 8192, 4096, 1024] as const;

/** An empty, clean journal: only the superblock; the rest of the journal reads as zeros. */
export function encodeJournalSuperblock(blockSize: number, blocks: number, uuid: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1024);
  JournalSuperblock.encode(
    {
      h_magic: JBD2_MAGIC,
      h_blocktype: JBD2_SUPERBLOCK_V2,
      h_sequence: 0,
      s_blocksize: blockSize,
      s_maxlen: blocks,
      s_first: 1,
      s_sequence: 1,
      s_start: 0,
      s_uuid: uuid,
      s_nr_users: 1,
    },
    buf,
  );
  return buf;
}
