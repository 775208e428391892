import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../errors.js';
import { BytesContent } from '../../fs/bytes-content.js';
import { readContent } from '../../fs/file-content.js';
import { FileTree, normalizePath, type Inode } from '../../fs/tree.js';
import type { DiskFileResult } from '../../partition/disk-file.js';
import type { DiskLayout, PartitionSpec } from '../../partition/disk-layout.js';
import type { UkiSpec } from '../../partition/uefi/uki-layout.js';
import { parseSize } from '../../units.js';
import type { Element } from '../model.js';
import { scope } from '../scope.js';
import { KindConfig, elementError, requireBuildDepsOnly, requireNoSources, type AssembleContext, type ElementKind, type KeyValue } from './kind.js';
import { integrate, sandboxRelative, stageArtifacts, subtree } from './staging.js';
import { knowHoles } from '../cache/known-holes.js';

/**
 * x86image (bst-external, docs/format.md#x86image): the input system becomes a bootable
 * disk written by kiln's own writers, with no mkfs, mtools, syslinux, parted or dd. With
 * `boot: bios` (the default, and the plugin's disk) an MBR disk:
 *   p1 FAT (/boot of the input, FAT32 when the size allows) with SYSLINUX installed, active;
 *   p2 ext4 labelled `root` (one inode per 8192 bytes) holding the rest of the input;
 *   p3 swap labelled `swap`.
 * With `boot: uefi` a GPT disk (docs/uefi.md): p1 the EFI system partition (FAT32, /boot of
 * the input plus a unified kernel image at \EFI\BOOT\BOOTX64.EFI, built from the stub at
 * %{uefi-stub} of the input or base, the kernel, /boot/initramfs.gz and %{kernel-args}), p2
 * the root and p3 swap with the Discoverable Partitions types. `boot: hybrid` is that disk
 * booting from a BIOS too: SYSLINUX on the ESP, marked legacy-BIOS-bootable, and SYSLINUX's
 * gptmbr.bin in the protective MBR.
 * The image goes straight into `%{install-root}/%{name}.img` as a sparse file; only
 * `final-commands` run in the sandbox, with `base` staged at '/'. The three shell steps that
 * the writers replace must stay empty: commands there would edit a tree kiln never puts on disk.
 */

const COMMAND_LISTS = ['filesystem-tree-setup-commands', 'filesystem-image-creation-commands', 'partition-commands', 'final-commands'] as const;
const REPLACED_LISTS = COMMAND_LISTS.slice(0, 3);
const SYSLINUX_FILES = ['ldlinux.bss', 'ldlinux.sys', 'ldlinux.c32', 'mbr.bin'] as const;
/** SYSLINUX's boot code for GPT disks: it starts the partition marked legacy-BIOS-bootable. */
const GPTMBR = 'gptmbr.bin';
const BOOT_MODES = ['bios', 'uefi', 'hybrid'] as const;
type BootMode = (typeof BOOT_MODES)[number];
/** The Discoverable Partitions Specification's type of an x86-64 root partition. */
const ROOT_X86_64 = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';
/** The syslinux install directory inside the FAT, as the plugin's `syslinux --directory /syslinux/`. */
const SYSLINUX_DIR = '/syslinux';
const INODE_RATIO = 8192;

interface ImageConfig {
  /** 1.x `base`/`input` element names; undefined in the 2.x form. */
  base?: string;
  input?: string;
  commands: Record<(typeof COMMAND_LISTS)[number], string[]>;
  boot: BootMode;
}

function readConfig(element: Element): ImageConfig {
  const c = new KindConfig(element);
  const commands = Object.fromEntries(COMMAND_LISTS.map((k) => [k, c.stringList(k)])) as ImageConfig['commands'];
  const boot = c.string('boot', 'bios');
  if (!(BOOT_MODES as readonly string[]).includes(boot)) {
    throw c.error(
      'boot',
      'x86image-boot',
      `config boot '${boot}' is not one of ${BOOT_MODES.join(', ')}`,
      'bios: an MBR disk with SYSLINUX; uefi: a GPT disk with an EFI system partition; hybrid: a GPT disk booting both ways',
    );
  }
  const out: ImageConfig = { commands, boot: boot as BootMode };
  const base = c.value('base');
  const input = c.value('input');
  if (base !== undefined) out.base = c.string('base', '');
  if (input !== undefined) out.input = c.string('input', '');
  if ((out.base === undefined) !== (out.input === undefined)) {
    throw c.error(
      out.base === undefined ? 'input' : 'base',
      'x86image-config',
      'config needs both `base` and `input` (or neither, with `config: {input: true}` on one dependency)',
    );
  }
  return out;
}

/** The variables that shape the image (all go into the cache key; `uefi-stub` too unless boot is bios). */
const IMAGE_VARIABLES = [
  'boot-size',
  'rootfs-size',
  'swap-size',
  'sector-size',
  'kernel-args',
  'kernel-name',
  'name',
  'syslinux-dir',
  'install-root',
  'build-root',
  'cwd',
] as const;

function variable(element: Element, name: string): string {
  const v = element.variables[name];
  if (v === undefined || v === '')
    throw elementError(
      element,
      'x86image-variable',
      `the variable '${name}' is not set`,
      `set it under variables: (the x86image defaults give one)`,
      'variables',
    );
  return v;
}

function sizeVariable(element: Element, name: string): number | 'auto' {
  const text = variable(element, name);
  if (text.trim() === 'auto') return 'auto';
  try {
    return parseSize(text, name);
  } catch (e) {
    if (e instanceof KilnError) throw elementError(element, e.code, e.message, e.hint, `variables.${name}`);
    throw e;
  }
}

/** The base and input elements: by name (1.x) or by the dependency marked `input: true` (2.x). */
function roles(element: Element, buildScope: Element[]): { base: Element[]; input: Element } {
  const c = readConfig(element);
  if (c.base !== undefined && c.input !== undefined) {
    const find = (name: string, key: string): Element => {
      const found = buildScope.find((d) => d.name === name);
      if (!found)
        throw elementError(
          element,
          'x86image-config',
          `config ${key} names '${name}', which is not among the build dependencies`,
          'add it as a build dependency',
          `config.${key}`,
        );
      return found;
    };
    return { base: [find(c.base, 'base')], input: find(c.input, 'input') };
  }
  const marked = element.dependencies.filter((d) => d.config?.input === 'True' || d.config?.input === 'true');
  if (marked.length !== 1) {
    throw elementError(
      element,
      'x86image-config',
      `needs exactly one input: config base/input, or one dependency with config: {input: true} (found ${marked.length})`,
      undefined,
      'depends',
    );
  }
  return { base: element.dependencies.filter((d) => d !== marked[0]).map((d) => d.element), input: marked[0]!.element };
}

/** The syslinux.cfg the plugin writes (docs/format.md#x86image). */
export function pluginSyslinuxConfig(kernelName: string, kernelArgs: string): string {
  return [
    'PROMPT 0',
    'TIMEOUT 5',
    '',
    'ALLOWOPTIONS 1',
    'SERIAL 0 115200',
    '',
    'DEFAULT boot',
    'LABEL boot',
    '',
    `KERNEL /${kernelName}`,
    'INITRD /initramfs.gz',
    '',
    `APPEND ${kernelArgs}`,
    '',
  ].join('\n');
}

/** The fstab the plugin writes (step 2): root, /boot, swap by device name. */
export const PLUGIN_FSTAB = [
  '/dev/sda2   /       ext4   defaults,rw,noatime   0 1',
  '/dev/sda1   /boot   vfat   defaults              0 2',
  '/dev/sda3   none    swap   defaults              0 0',
  '',
].join('\n');

/**
 * Splits the staged input into the /boot FAT tree and the root tree (steps 1–3): /boot's
 * contents move to the FAT, leaving an empty /boot mount point; /etc/fstab is replaced;
 * the SYSLINUX config is returned for the installer.
 */
export function splitImageTrees(element: Element, input: FileTree): { boot: FileTree; root: FileTree } {
  const boot = subtree(input, 'boot');
  if (!boot || input.children('boot').length === 0) {
    throw elementError(
      element,
      'x86image-no-boot',
      `the input has nothing in /boot (the kernel and initramfs.gz go there)`,
      'make the input install the kernel into /boot',
    );
  }
  const etc = input.get('etc');
  if (!etc || etc.type !== 'dir')
    throw elementError(
      element,
      'x86image-no-etc',
      'the input has no /etc directory for the generated fstab',
      'create /etc in one of the input elements (busybox.bst does in the example)',
    );
  const root = new FileTree();
  const firstPath = new Map<Inode, string>();
  for (const [path, inode] of input.walk()) {
    if (path === '') Object.assign(root.root, { ...inode });
    else if (path.startsWith('boot/')) continue;
    else if (inode.type === 'dir') root.add(path, { ...inode, content: undefined });
    else if (firstPath.has(inode)) root.link(path, firstPath.get(inode)!);
    else {
      root.add(path, inode);
      firstPath.set(inode, path);
    }
  }
  const old = root.get('etc/fstab');
  if (old && old.type !== 'file') root.remove('etc/fstab');
  const fstab = root.get('etc/fstab');
  const mtime = fstab?.mtime ?? etc.mtime;
  root.set('etc/fstab', { type: 'file', mode: 0o644, uid: 0, gid: 0, mtime, content: new BytesContent(new TextEncoder().encode(PLUGIN_FSTAB)) });
  return { boot, root };
}

/**
 * Writes the SYSLINUX binaries found at `dir` of `trees` (the first tree holding all of
 * `files`) into the host directory `out`.
 */
function extractSyslinux(element: Element, trees: FileTree[], dir: string, files: readonly string[], out: string): void {
  const rel = normalizePath(dir);
  const tree = trees.find((t) => files.every((f) => t.get(rel ? `${rel}/${f}` : f)?.type === 'file'));
  if (!tree) {
    throw elementError(
      element,
      'x86image-no-syslinux',
      `the SYSLINUX binaries (${files.join(', ')}) are not in ${dir} of the input or the base`,
      'add an element that installs them (built from the syslinux sources) to the input, or set the variable syslinux-dir to where they are',
      'variables.syslinux-dir',
    );
  }
  mkdirSync(out, { recursive: true });
  for (const f of files) writeFileSync(join(out, f), readContent(tree.get(rel ? `${rel}/${f}` : f)!.content!));
}

/** The bytes of the regular file at `path` in the first of `trees` that has one. */
function fileBytes(trees: FileTree[], path: string): Uint8Array | undefined {
  const rel = normalizePath(path);
  for (const t of trees) {
    const inode = t.get(rel);
    if (inode?.type === 'file' && inode.content) return readContent(inode.content);
  }
  return undefined;
}

/**
 * The parts of the unified kernel image (docs/uefi.md): the stub from the input or the base,
 * the kernel and initramfs.gz of /boot (as the SYSLINUX config names them), the command line
 * %{kernel-args}, and the system's os-release when it has one.
 */
function ukiParts(element: Element, boot: FileTree, root: FileTree, baseTree: FileTree): UkiSpec {
  const stubPath = variable(element, 'uefi-stub');
  const stub = fileBytes([root, baseTree], stubPath);
  if (!stub) {
    throw elementError(
      element,
      'x86image-no-uefi-stub',
      `the UEFI stub ${stubPath} is not in the input or the base`,
      "add an element that installs it to the base (the example's image/uefi-stub.bst imports Debian's systemd-boot-efi), or set the variable uefi-stub to where it is",
      'variables.uefi-stub',
    );
  }
  const kernelName = variable(element, 'kernel-name');
  const linux = fileBytes([boot], kernelName);
  if (!linux)
    throw elementError(
      element,
      'x86image-no-kernel',
      `the input's /boot has no ${kernelName} for the unified kernel image`,
      'install the kernel into /boot, or set the variable kernel-name to its name there',
      'variables.kernel-name',
    );
  const initrd = fileBytes([boot], 'initramfs.gz');
  const osRelease = fileBytes([root], 'etc/os-release') ?? fileBytes([root], 'usr/lib/os-release');
  return { stub, linux, cmdline: variable(element, 'kernel-args'), ...(initrd && { initrd }), ...(osRelease && { osRelease }) };
}

/** FAT32 when the given size can hold a FAT32 filesystem (as the FAT format lays it out); else the writer's choice (FAT12/16). */
async function bootFatType(size: number | 'auto'): Promise<32 | undefined> {
  if (size === 'auto') return undefined;
  // the writers load when an image is written, not with the kind (every pipeline command loads that)
  const { fatGeometry } = await import('../../partition/formats/fat.js');
  return 'error' in fatGeometry(size, { fatType: 32 }) ? undefined : 32;
}

/** The disk layout of a `boot: bios` image (steps 4–7). Partitions follow each other sector by sector, as the plugin's. */
export async function imageLayout(element: Element, boot: FileTree, root: FileTree, syslinuxBinaries: string, syslinuxCfg: string): Promise<DiskLayout> {
  const sectorSize = checkedSectorSize(element);
  const bootSize = sizeVariable(element, 'boot-size');
  const fatType = await bootFatType(bootSize);
  const fat: PartitionSpec = {
    filesystem: 'fat',
    size: bootSize,
    tree: boot,
    bootable: true,
    syslinux: { binaries: syslinuxBinaries, directory: SYSLINUX_DIR, config: syslinuxCfg },
    ...(fatType && { fatType }),
  };
  const ext4: PartitionSpec = { filesystem: 'ext4', size: sizeVariable(element, 'rootfs-size'), tree: root, label: 'root', inodeRatio: INODE_RATIO };
  const swap: PartitionSpec = { filesystem: 'swap', size: sizeVariable(element, 'swap-size'), label: 'swap' };
  return {
    table: 'mbr',
    size: 'auto',
    alignment: sectorSize,
    seed: `kiln-x86image:${element.project.name}:${element.name}`,
    partitions: [fat, ext4, swap],
    file: element.file,
  };
}

function checkedSectorSize(element: Element): number {
  const sectorSize = Number(variable(element, 'sector-size'));
  if (sectorSize !== 512)
    throw elementError(
      element,
      'x86image-sector-size',
      `sector-size ${variable(element, 'sector-size')} is not supported`,
      'kiln writes 512-byte sectors; set sector-size: 512',
      'variables.sector-size',
    );
  return sectorSize;
}

/**
 * The disk layout of a `boot: uefi` or `hybrid` image: GPT with partitions on 1 MiB
 * boundaries, each named (esp, root, swap); the ESP is FAT32 whatever its size (the UEFI
 * specification's file system for fixed disks). `legacy` adds the BIOS path of a hybrid disk.
 */
export async function uefiImageLayout(
  element: Element,
  boot: FileTree,
  root: FileTree,
  uki: UkiSpec,
  legacy?: { syslinuxBinaries: string; syslinuxCfg: string; gptmbr: Uint8Array },
): Promise<DiskLayout> {
  checkedSectorSize(element);
  const bootSize = sizeVariable(element, 'boot-size');
  if (bootSize !== 'auto' && (await bootFatType(bootSize)) !== 32) {
    throw elementError(
      element,
      'x86image-esp-size',
      `boot-size ${variable(element, 'boot-size')} is too small for the FAT32 EFI system partition`,
      'FAT32 needs 65525 clusters: give boot-size 40M or more, or auto',
      'variables.boot-size',
    );
  }
  const esp: PartitionSpec = {
    filesystem: 'fat',
    size: bootSize,
    tree: boot,
    fatType: 32,
    label: 'ESP',
    name: 'esp',
    uki,
    ...(legacy && { bootable: true, syslinux: { binaries: legacy.syslinuxBinaries, directory: SYSLINUX_DIR, config: legacy.syslinuxCfg } }),
  };
  const ext4: PartitionSpec = {
    filesystem: 'ext4',
    size: sizeVariable(element, 'rootfs-size'),
    tree: root,
    label: 'root',
    name: 'root',
    type: ROOT_X86_64,
    inodeRatio: INODE_RATIO,
  };
  const swap: PartitionSpec = { filesystem: 'swap', size: sizeVariable(element, 'swap-size'), label: 'swap', name: 'swap' };
  return {
    table: 'gpt',
    size: 'auto',
    seed: `kiln-x86image:${element.project.name}:${element.name}`,
    partitions: [esp, ext4, swap],
    file: element.file,
    ...(legacy && { bootCode: legacy.gptmbr }),
  };
}

/**
 * The base staged at '/' as a tree: one element's artifact as it is (staged alone into an
 * empty tree it would be copied path by path into the same tree), else the elements staged in
 * order. The install root is made on the host afterwards, so the root must be writable.
 */
function baseRoot(ctx: AssembleContext, elements: Element[]): FileTree {
  const only = elements.length === 1 ? ctx.artifact(elements[0]!) : undefined;
  if (only && (only.root.mode & 0o200) !== 0) return only;
  const tree = new FileTree();
  stageArtifacts(ctx, tree, elements);
  return tree;
}

function sourceDateEpoch(element: Element): number | undefined {
  const v = element.environment.SOURCE_DATE_EPOCH;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export const x86imageKind: ElementKind = {
  name: 'x86image',
  configKeys: ['base', 'input', 'boot', ...COMMAND_LISTS],
  defaults: new URL('./x86image.yaml', import.meta.url),
  pluginPackage: 'BuildStream-external',
  version: 1,
  strictRebuild: true,
  configure(element) {
    const c = readConfig(element);
    requireNoSources(element);
    requireBuildDepsOnly(element);
    for (const k of REPLACED_LISTS) {
      if (c.commands[k].length > 0) {
        throw new KindConfig(element).error(
          k,
          'x86image-commands',
          `kiln writes the boot FAT, the ext4 root, the swap and the partition table itself, so '${k}' must be empty (it has ${c.commands[k].length} command(s))`,
          'change the input tree with an element before the image, or add commands that touch the finished image to final-commands',
        );
      }
    }
    roles(element, scope(element, 'build'));
    for (const v of IMAGE_VARIABLES.slice(0, 8)) variable(element, v);
    if (c.boot !== 'bios') variable(element, 'uefi-stub');
  },
  uniqueKey(element): KeyValue {
    const c = readConfig(element);
    const key: { [k: string]: KeyValue } = { commands: c.commands as unknown as { [k: string]: KeyValue } };
    for (const v of IMAGE_VARIABLES) key[v] = element.variables[v] ?? null;
    key['source-date-epoch'] = sourceDateEpoch(element) ?? null;
    if (c.base !== undefined) key.base = c.base;
    if (c.input !== undefined) key.input = c.input;
    // Only when set: images of boot: bios keep the keys they had before the key existed.
    if (c.boot !== 'bios') {
      key.boot = c.boot;
      key['uefi-stub'] = element.variables['uefi-stub'] ?? null;
    }
    return key;
  },
  async assemble(ctx: AssembleContext): Promise<FileTree> {
    const e = ctx.element;
    const c = readConfig(e);
    const { base, input } = roles(e, ctx.dependencies(e, 'build'));

    // Steps 1–3 on trees: the input's runtime closure, never integrated (as the plugin stages it).
    ctx.status(`Staging ${input.name}`);
    const staged = new FileTree();
    stageArtifacts(ctx, staged, ctx.dependencies(input, 'run'));
    const { boot, root } = splitImageTrees(e, staged);
    const baseElements: Element[] = [];
    for (const b of base) for (const d of ctx.dependencies(b, 'run')) if (!baseElements.includes(d)) baseElements.push(d);
    const baseTree = baseRoot(ctx, baseElements);

    const syslinuxBin = join(ctx.workDir, 'syslinux');
    const cfg = join(ctx.workDir, 'syslinux.cfg');
    const legacy = c.boot !== 'uefi';
    const syslinuxFiles = c.boot === 'hybrid' ? [...SYSLINUX_FILES, GPTMBR] : SYSLINUX_FILES;
    if (legacy) {
      extractSyslinux(e, [staged, baseTree], variable(e, 'syslinux-dir'), syslinuxFiles, syslinuxBin);
      writeFileSync(cfg, pluginSyslinuxConfig(variable(e, 'kernel-name'), variable(e, 'kernel-args')));
    }
    const layout = async (): Promise<DiskLayout> => {
      if (c.boot === 'bios') return imageLayout(e, boot, root, syslinuxBin, cfg);
      const uki = ukiParts(e, boot, root, baseTree);
      const hybrid =
        c.boot === 'hybrid' ? { syslinuxBinaries: syslinuxBin, syslinuxCfg: cfg, gptmbr: new Uint8Array(readFileSync(join(syslinuxBin, GPTMBR))) } : undefined;
      return uefiImageLayout(e, boot, root, uki, hybrid);
    };

    // The sandbox root: base at '/', the install root writable; the image goes straight into it.
    const installRoot = e.variables['install-root'] ?? '/buildstream-install';
    const installRel = sandboxRelative(installRoot, 'install-root');
    const sysroot = join(ctx.workDir, 'root');
    const finalCommands = c.commands['final-commands'];
    if (finalCommands.length > 0) await ctx.materialize(baseTree, sysroot);
    // the install root's mount point (the base need not hold it)
    mkdirSync(join(sysroot, installRel), { recursive: true });
    const imagePath = join(sysroot, installRel, `${variable(e, 'name')}.img`);

    ctx.status(`Writing ${variable(e, 'name')}.img`);
    const started = Date.now();
    const sde = sourceDateEpoch(e);
    let result: DiskFileResult;
    try {
      const { assembleDisk } = await import('../../partition/disk-file.js');
      result = await assembleDisk(await layout(), imagePath, sde !== undefined ? { sourceDateEpoch: sde } : {});
    } catch (err) {
      if (err instanceof KilnError) throw elementError(e, err.code, err.message, err.hint);
      throw err;
    }
    ctx.status(
      `Wrote ${variable(e, 'name')}.img: ${result.size} bytes in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        result.partitions.map((p) => `p${p.number} ${p.filesystem}${p.fatType ? p.fatType : ''} ${p.size} bytes at ${p.start}`).join(', '),
    );

    if (finalCommands.length > 0) {
      await integrate(ctx, sysroot, baseElements);
      ctx.status(`Running 'final-commands'`);
      await ctx.sandbox.run(finalCommands, sysroot, [{ path: installRoot }], e.environment, ctx.log, {
        cwd: e.variables.cwd ?? '/',
        rootReadOnly: true,
        uid: e.sandbox.buildUid,
        gid: e.sandbox.buildGid,
        onCommand: (cmd) => ctx.status(`Running command: ${cmd}`),
      });
    }
    return ctx.collect(join(sysroot, installRel), result.dataRanges && [knowHoles(imagePath, result.dataRanges)]);
  },
};
