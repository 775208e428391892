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
export type { FsReader, FsStat, FsDirEntry } from './fs/reader.js';
export { writeExt4, planExt4 } from './fs/ext4/writer.js';
export type { Ext4Options, Ext4Result, Ext4Plan } from './fs/ext4/options.js';
export { readExt4, Ext4Reader, type Ext4ReadOptions, type ChecksumError, type Ext4Info } from './fs/ext4/reader.js';
export { openImage, openFilesystem, detectFilesystem, registerFilesystem, parseImageRef, readPrimaryPartitions, type FilesystemKind, type ImageRef, type OpenedImage, type PrimaryPartition } from './fs/image.js';
export { writeFat, planFat, readFat, parseFatBootSector, type FatOptions, type FatResult, type FatType, type FatVolume, type SpecialFilePolicy } from './fs/fat/index.js';
export { installSyslinux, loadSyslinuxBinaries, type SyslinuxInstallOptions, type SyslinuxInstallResult, type SyslinuxBinaries } from './partition/syslinux/index.js';
// pipeline: loading (project.conf, .bst, composition, variables, graph)
export type { Project, Element, SourceDecl, Dependency, DepType, Scope, YamlValue, YamlMap } from './pipeline/model.js';
export {
  loadProject,
  LoadedProject,
  findProjectDirectory,
  writeSourceRef,
  dependencies as pipelineDependencies,
  directDependencies,
  scope as pipelineScope,
  scopeOf as pipelineScopeOf,
  type LoadOptions,
} from './pipeline/load/index.js';
export { kindDefaults, BUILTIN_ELEMENT_KINDS, BUILTIN_SOURCE_KINDS } from './pipeline/kinds/defaults/index.js';
