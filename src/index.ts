/** kiln's library entry: the writers, readers and the types they share. */
export { KilnError, type SourcePosition } from './errors.js';
export { parseSize, formatSize } from './units.js';
export { FileTree, compareNames, normalizePath, type Inode, type InodeInit, type NodeType, type Timestamp } from './fs/tree.js';
export { BytesContent, HostFileContent, readContent, type FileContent, type ContentReader } from './fs/content.js';
export {
  MemoryTarget,
  SparseFileTarget,
  SubTarget,
  SubSource,
  FileSource,
  withSparseFile,
  type BlockSource,
  type BlockTarget,
} from './fs/block-target.js';
export { treeFromDirectory, type DirTreeOptions } from './fs/tree-from-dir.js';
export { treeFromTar, type TarTree, type TarTreeOptions, type OwnerPolicy } from './fs/tree-from-tar.js';
export { parseTar, type TarEntry } from './fs/tar/reader.js';
