/**
 * kiln-image/node: the Node adapters of the writers: host files and directories, tar archives,
 * sparse image files, streamed initramfs output (cpio-stream), YAML disk layouts and disk
 * assembly from host paths, opening image files and their partitions.
 *
 * @module kiln-image/node
 */
export { HostContent, HostFileContent } from '../fs/content.js';
export { SparseFileTarget, FileSource, ImageFileTarget, withSparseFile } from '../fs/file-target.js';
export { treeFromDirectory, type DirTreeOptions } from '../fs/tree-from-dir.js';
export { treeFromTar, type TarTree, type TarTreeOptions, type OwnerPolicy } from '../fs/tree-from-tar.js';
export { parseTar, type TarEntry } from '../fs/tar/reader.js';
export { tarChunks, writeTarFile, memberHeader, type TarMember, type TarWriteOptions } from '../fs/tar/writer.js';
export { writeInitramfs } from '../fs/cpio/initramfs.js';
export { withOutputFile } from '../fs/cpio/file-output.js';
export { loadSyslinuxBinaries } from '../partition/syslinux/binaries.js';
export { parseLayout, readLayoutFile } from '../partition/layout.js';
export { assembleDisk, nodeDiskHost } from '../partition/disk-file.js';
export {
  openImage,
  openImageTarget,
  openFilesystem,
  detectFilesystem,
  registerFilesystem,
  parseImageRef,
  readPartitions,
  type FilesystemKind,
  type ImageRef,
  type OpenedImage,
  type OpenedImageTarget,
  type DiskPartition,
} from '../partition/image.js';
