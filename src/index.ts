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
export { openImage, openFilesystem, detectFilesystem, registerFilesystem, parseImageRef, readPartitions, type FilesystemKind, type ImageRef, type OpenedImage, type DiskPartition } from './partition/image.js';
export { writeFat, planFat, readFat, parseFatBootSector, type FatOptions, type FatResult, type FatType, type FatVolume, type SpecialFilePolicy } from './fs/fat/index.js';
export { installSyslinux, loadSyslinuxBinaries, type SyslinuxInstallOptions, type SyslinuxInstallResult, type SyslinuxBinaries } from './partition/syslinux/index.js';
// swap, initramfs, partition tables, disk assembly
export { writeSwap, readSwap, planSwap, type SwapOptions, type SwapInfo } from './fs/swap.js';
export { writeInitramfs, initramfsBytes, planInitramfs, type InitramfsOptions, type InitramfsSink, type InitramfsInfo } from './fs/cpio/initramfs.js';
export { withOutputFile } from './fs/cpio/file-output.js';
export { parseNewc, type NewcEntry } from './fs/cpio/newc-header.js';
export { crc32 } from './fs/checksum/crc32.js';
export { encodeMbr, decodeMbr, type MbrPartition, type MbrOptions, type DecodedMbr, type DecodedPartition, type TableSector } from './partition/mbr.js';
export { MBR_TYPES } from './partition/mbr-entry.js';
export { lbaToChs, type Chs } from './partition/chs.js';
export { encodeGpt, decodeGpt, type GptPartition, type GptOptions, type DecodedGpt, type DecodedGptPartition } from './partition/gpt.js';
export { GPT_TYPES } from './partition/gpt-entry.js';
export { derivedUuid, parseUuid, formatUuid } from './partition/guid.js';
export { parseLayout, readLayoutFile, type DiskLayout, type PartitionSpec, type SyslinuxSpec, type TableType, type FilesystemKind as PartitionFilesystem } from './partition/layout.js';
export { assembleDisk, assembleDiskToMemory, planDisk, writeDisk, type AssembleOptions, type DiskPlan, type DiskResult, type PartitionResult, type PlannedPartition } from './partition/assemble.js';
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
// pipeline: Debian packages as base system and source archive (private apt state, no host dpkg)
export { AptState, type AptTarget } from './pipeline/debian/apt-state.js';
export { resolveClosure, type ResolvedPackage, type PinnedPackage } from './pipeline/debian/closure.js';
export { fetchPackages } from './pipeline/debian/download.js';
export { stageBuildRoot, type BuildRoot, type PackageFile } from './pipeline/debian/build-root.js';
// pipeline: element kinds, sandbox, cache keys, build plan and scheduler
export { elementKinds, registerElementKind, kindOf } from './pipeline/kinds/registry.js';
export { KindConfig, type ElementKind, type AssembleContext, type KeyValue } from './pipeline/kinds/kind.js';
export { stageTree, resolveInTree, type StageReport } from './pipeline/kinds/stage-tree.js';
export { computeManifest, globToRegExp as splitRuleRegExp, splitRules, selectPaths } from './pipeline/kinds/split-rules.js';
export { BwrapSandbox, findBwrap } from './pipeline/sandbox/bwrap.js';
export type { Sandbox, SandboxMount, SandboxOptions, SandboxLog } from './pipeline/sandbox/sandbox.js';
export { computeKeys, canonicalJson, shortKey, type ElementKeys } from './pipeline/plan/keys.js';
export { Session, type ElementState } from './pipeline/plan/session.js';
export { openPipeline, type OpenPipeline, type OpenOptions } from './pipeline/plan/open.js';
export { buildPlan } from './pipeline/plan/plan.js';
export { runPlan, type BuildSummary, type SchedulerOptions, type ElementPhase } from './pipeline/plan/scheduler.js';
export { buildElement, BuildFailure } from './pipeline/plan/builder.js';
export { prepareShell, type ShellRoot } from './pipeline/plan/shell.js';
// pipeline: sources, source cache, artifact cache, checkout
export {
  sourceKinds,
  registerSourceKind,
  configureSource,
  stageSources,
  trackElements,
  fetchElements,
  translateUrl,
  SOURCE_MTIME,
  DigestMismatch,
  BaseSource,
  DownloadableSource,
  type Source,
  type SourceKind,
  type SourceContext,
  type Consistency,
} from './pipeline/sources/index.js';
export { ArtifactCache, openCache, normalName, type ArtifactRef, type ArtifactMeta, type CacheDirs, type LoadedArtifact } from './pipeline/cache/artifacts.js';
export { BlobStore, BlobContent } from './pipeline/cache/blobs.js';
export { materialize, type MaterializeOptions } from './pipeline/cache/materialize.js';
export { treeFromStagedDir, type CollectOptions } from './pipeline/cache/collect.js';
export { checkoutTree, type CheckoutOptions, type CheckoutDeps } from './pipeline/cache/checkout.js';
export { tarChunks, writeTarFile, memberHeader, type TarMember, type TarWriteOptions } from './fs/tar/writer.js';
