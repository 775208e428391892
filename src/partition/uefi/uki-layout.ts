import { KilnError } from '../../errors.js';
import { controlCharacter, type Positions } from '../disk-layout.js';
import type { DiskHost } from '../disk-host.js';
import type { LayoutNode, LayoutReader } from '../formats/format.js';
import { removableMediaPath } from './boot-path.js';
import { readPeImage } from './pe-image.js';
import { writeUki } from './uki.js';

/**
 * A FAT partition's `uki:` block: a unified kernel image built while the disk is assembled and
 * put into the partition, by default where firmware looks on a new disk (\EFI\BOOT\BOOTX64.EFI
 * for an x86-64 stub), so that an EFI system partition boots without a boot entry.
 *
 * ```yaml
 * uki:
 *   stub: /usr/lib/systemd/boot/efi/linuxx64.efi.stub
 *   linux: build/bzImage
 *   initrd: build/initramfs.gz
 *   cmdline: root=PARTLABEL=root console=ttyS0
 *   os-release: rootfs/etc/os-release
 *   # uname: 6.1.0         (default: the release the bzImage names)
 *   # path: /EFI/Linux/linux.efi   (default: the removable-media path of the stub's machine)
 * ```
 */
export interface UkiSpec {
  /** systemd's EFI stub: a host path, or its bytes given in code. */
  stub: string | Uint8Array;
  /** The kernel (EFI stub bzImage): a host path or bytes. */
  linux: string | Uint8Array;
  initrd?: string | Uint8Array;
  cmdline?: string;
  /** The system's os-release: a host path or bytes. */
  osRelease?: string | Uint8Array;
  uname?: string;
  /** Where in the FAT the image goes. */
  path?: string;
  positions?: Positions;
}

const KEYS = ['stub', 'linux', 'initrd', 'cmdline', 'os-release', 'uname', 'path'] as const;

/** Reads a layout's `uki:` block; errors name its file:line:col. */
export function readUkiSpec(r: LayoutReader, node: LayoutNode): UkiSpec {
  const { map, positions } = r.entries(node, 'uki', KEYS);
  for (const k of ['stub', 'linux'] as const)
    if (!map.has(k)) r.fail(node, `uki needs '${k}': ${k === 'stub' ? "systemd's EFI stub (linuxx64.efi.stub)" : 'the kernel (bzImage)'}`);
  const spec: UkiSpec = { stub: r.hostPath(map.get('stub'), 'uki stub', 'file'), linux: r.hostPath(map.get('linux'), 'uki linux', 'file'), positions };
  if (map.has('initrd')) spec.initrd = r.hostPath(map.get('initrd'), 'uki initrd', 'file');
  if (map.has('os-release')) spec.osRelease = r.hostPath(map.get('os-release'), 'uki os-release', 'file');
  if (map.has('cmdline')) {
    spec.cmdline = r.string(map.get('cmdline'), 'uki cmdline');
    const ctl = controlCharacter(spec.cmdline);
    if (ctl) r.fail(map.get('cmdline'), `uki cmdline contains ${ctl}`, 'write the kernel arguments on one line, separated by spaces');
  }
  if (map.has('uname')) spec.uname = r.string(map.get('uname'), 'uki uname');
  if (map.has('path')) {
    const path = r.string(map.get('path'), 'uki path');
    const ctl = controlCharacter(path);
    if (!path.startsWith('/') || path.endsWith('/') || path.split('/').includes('..') || ctl) {
      r.fail(
        map.get('path'),
        `uki path '${path}' is not a file path inside the partition${ctl ? ` (it contains ${ctl})` : ''}`,
        'write an absolute path such as /EFI/Linux/linux.efi',
      );
    }
    spec.path = path;
  }
  return spec;
}

/** The UKI's path in the partition and its bytes; host paths are read through `host`. */
export function buildUki(spec: UkiSpec, host: DiskHost): { path: string; bytes: Uint8Array } {
  const read = (v: string | Uint8Array, what: string): Uint8Array => {
    if (typeof v !== 'string') return v;
    try {
      return host.readFile(v);
    } catch (e) {
      if (e instanceof KilnError) throw e;
      throw new KilnError('no-source', `uki ${what} '${v}' cannot be read: ${(e as Error).message}`);
    }
  };
  const name = (v: string | Uint8Array, what: string): string => (typeof v === 'string' ? `uki ${what} '${v}'` : `uki ${what}`);
  const bytes = writeUki(
    {
      stub: read(spec.stub, 'stub'),
      linux: read(spec.linux, 'linux'),
      ...(spec.initrd !== undefined && { initrd: read(spec.initrd, 'initrd') }),
      ...(spec.osRelease !== undefined && { osRelease: read(spec.osRelease, 'os-release') }),
      ...(spec.cmdline !== undefined && { cmdline: spec.cmdline }),
      ...(spec.uname !== undefined && { uname: spec.uname }),
    },
    { stub: name(spec.stub, 'stub'), linux: name(spec.linux, 'linux') },
  );
  const machine = readPeImage(bytes, 'the UKI').machine;
  const path = spec.path ?? removableMediaPath(machine);
  if (path === undefined) {
    throw new KilnError(
      'bad-layout',
      `the stub is for machine 0x${machine.toString(16)}, which has no removable-media path kiln knows`,
      "give the UKI's place in the partition with path:",
    );
  }
  return { path, bytes };
}
