/**
 * kiln-image/fs: the filesystem writers and readers over memory. Browser-safe: nothing reachable
 * from here uses a Node built-in, `Buffer` or `process` (test/entry/browser-entries.test.ts).
 *
 * @module kiln-image/fs
 */
export { KilnError, type SourcePosition } from '../errors.js';
export { ERROR_CODES, ERROR_AREAS, type ErrorCode, type ErrorCodeInfo, type ErrorArea } from '../error-codes.js';
export { parseSize, formatSize } from '../units.js';
export { FileTree, compareNames, normalizePath, type Inode, type InodeInit, type NodeType, type Timestamp } from '../fs/tree.js';
export { readContent, type FileContent, type ContentReader } from '../fs/file-content.js';
export { BytesContent } from '../fs/bytes-content.js';
export { SubTarget, SubSource, type BlockSource, type BlockTarget, type SubTargetOptions } from '../fs/block-target.js';
export { checkAborted, zeroTarget, type WriteControl, type WriteProgress, type AbortSignalLike } from '../fs/write-control.js';
export { MemoryTarget } from '../fs/memory-target.js';
export type { FsReader, FsStat, FsDirEntry } from '../fs/reader.js';
export { writeExt4, planExt4 } from '../fs/ext4/writer.js';
export type { Ext4Options, Ext4Result, Ext4Plan } from '../fs/ext4/options.js';
export { readExt4, Ext4Reader, type Ext4ReadOptions, type ChecksumError, type Ext4Info } from '../fs/ext4/reader.js';
export {
  writeFat,
  planFat,
  readFat,
  parseFatBootSector,
  type FatOptions,
  type FatResult,
  type FatType,
  type FatVolume,
  type SpecialFilePolicy,
} from '../fs/fat/index.js';
export { writeSwap, readSwap, planSwap, type SwapOptions, type SwapInfo } from '../fs/swap.js';
export { planInitramfs, type InitramfsOptions, type InitramfsSink, type InitramfsInfo } from '../fs/cpio/initramfs-plan.js';
export { initramfsBytes, initramfsBytesSync, initramfsChunks } from '../fs/cpio/newc-writer.js';
export { parseNewc, type NewcEntry } from '../fs/cpio/newc-header.js';
export { crc32 } from '../fs/checksum/crc32.js';
