import { KilnError } from '../errors.js';
import type { FileContent } from '../fs/file-content.js';
import type { FileTree } from '../fs/tree.js';
import type { PartitionSpec } from './disk-layout.js';
import type { SyslinuxBinaries } from './syslinux/install.js';

/**
 * What a layout names on the host (`source`, `files`, SYSLINUX binaries and config, boot code
 * as paths) is read through a DiskHost, so that disk assembly uses no Node built-in. Node's is
 * `nodeDiskHost` (disk-file.ts); without one, a layout must give everything in code.
 */
export interface DiskHost {
  /** The tree of a host directory or tar archive; clean-ups (spools) are pushed to `disposers`. */
  sourceTree(source: string, spec: PartitionSpec, disposers: (() => void)[]): Promise<FileTree>;
  /** A host file as content (sized now, read when written). */
  file(path: string): FileContent;
  /** A host file's modification time in whole seconds. */
  mtime(path: string): number;
  /** A whole host file in memory (a syslinux.cfg given as is). */
  readFile(path: string): Uint8Array;
  /** ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin from a host directory. */
  syslinuxBinaries(dir: string): SyslinuxBinaries;
}

function refuse(what: string, path: string): never {
  throw new KilnError(
    'needs-host',
    `${what} '${path}' is a host path, and no host was given to read it`,
    "in Node pass { host: nodeDiskHost } (kiln-image/node); elsewhere give the partition's tree, content, SYSLINUX binaries and boot code in code",
  );
}

/** The host of a layout given wholly in code (browsers): every host path is refused. */
export const NO_HOST: DiskHost = {
  sourceTree: (source) => refuse('source', source),
  file: (path) => refuse('file', path),
  mtime: (path) => refuse('file', path),
  readFile: (path) => refuse('file', path),
  syslinuxBinaries: (dir) => refuse('syslinux binaries directory', dir),
};
