import { KilnError } from '../../errors.js';
import { alignUp } from '../../units.js';
import { COFF_FILE_HEADER, MAX_SECTIONS, PE_SIGNATURE } from './coff-file-header.js';
import { DOS_HEADER, DOS_MAGIC } from './dos-header.js';
import { OPTIONAL_HEADER } from './optional-header.js';
import { readPeImage, stubError, type PeImage } from './pe-image.js';
import { kernelRelease } from './setup-header.js';
import { IMAGE_SCN_CNT_CODE, IMAGE_SCN_CNT_INITIALIZED_DATA, IMAGE_SCN_MEM_READ, SECTION_HEADER } from './section-header.js';

/**
 * A unified kernel image (UKI, the UAPI group's specification): systemd's EFI stub with the
 * kernel, initrd, command line, os-release and `uname -r` appended as PE sections, which the
 * stub finds by name when the firmware runs it. Written as systemd's ukify does:
 *   - a COFF symbol table at the very end of the stub is dropped (images should have none);
 *   - SizeOfHeaders is rounded up to FileAlignment, and each new section header goes after
 *     the last one, which must still fit there;
 *   - each section's data starts at the next FileAlignment boundary of the file, padded with
 *     zeros to FileAlignment; its RVA is the end of the section before rounded up to
 *     SectionAlignment; VirtualSize is the content's exact length;
 *   - `.linux` is code (older kernels run in place through the EFI handover protocol), the
 *     others initialized data, all readable; SizeOfInitializedData grows by each section's size;
 *   - SizeOfImage covers the last section, rounded to SectionAlignment; CheckSum is 0.
 * Sections go in ukify's order, `.linux` last so that it has room to decompress after it.
 */

export interface UkiParts {
  /** The stub (e.g. linuxx64.efi.stub), a PE32+ EFI application. */
  stub: Uint8Array;
  /** The kernel, an EFI-stub kernel image (bzImage on x86). */
  linux: Uint8Array;
  initrd?: Uint8Array;
  /** Kernel command line. */
  cmdline?: Uint8Array | string;
  /** The os-release file of the system (`.osrel`, shown by boot menus). */
  osRelease?: Uint8Array | string;
  /** The kernel's `uname -r` (default, as ukify: the release a bzImage names; '' for none). */
  uname?: Uint8Array | string;
}

/** The sections a UKI gets, in the order they are appended. */
export const UKI_SECTIONS = ['.osrel', '.cmdline', '.uname', '.initrd', '.linux'] as const;
export type UkiSection = (typeof UKI_SECTIONS)[number];

const PART_OF: Record<UkiSection, keyof UkiParts> = { '.osrel': 'osRelease', '.cmdline': 'cmdline', '.uname': 'uname', '.initrd': 'initrd', '.linux': 'linux' };

function bytesOf(v: Uint8Array | string | undefined): Uint8Array | undefined {
  return typeof v === 'string' ? new TextEncoder().encode(v) : v;
}

/** The kernel must carry the EFI stub (an "MZ" header pointing at a PE signature), or no UEFI stub can start it. */
function checkKernel(linux: Uint8Array, name: string): void {
  const hint = 'give the bzImage (arch/x86/boot/bzImage; Image on arm64) of a kernel built with CONFIG_EFI_STUB, not vmlinux or an initrd';
  if (linux.length === 0) throw new KilnError('bad-kernel', `${name} is empty`, hint);
  const pe = linux.length >= DOS_HEADER.size && DOS_HEADER.get(linux, 'e_magic') === DOS_MAGIC ? (DOS_HEADER.get(linux, 'e_lfanew') as number) : -1;
  if (pe < DOS_HEADER.size || pe + 4 > linux.length || new DataView(linux.buffer, linux.byteOffset).getUint32(pe, true) !== PE_SIGNATURE) {
    throw new KilnError('bad-kernel', `${name} is not an EFI-stub kernel (no "MZ" header with a PE signature)`, hint);
  }
}

/**
 * Writes a UKI: a pure function of its parts. Throws KilnError on a stub or kernel it cannot
 * use; `names` says what to call them in those messages (their paths, say).
 */
export function writeUki(parts: UkiParts, names: { stub?: string; linux?: string } = {}): Uint8Array {
  const stubName = names.stub ?? 'the stub';
  const stub: PeImage = readPeImage(parts.stub, stubName);
  const badStub = (message: string): KilnError => stubError(stubName, message);
  checkKernel(parts.linux, names.linux ?? 'the kernel');
  const withUname = { ...parts, uname: parts.uname ?? kernelRelease(parts.linux) };
  const added = UKI_SECTIONS.map((name) => ({ name, data: bytesOf(withUname[PART_OF[name]] as Uint8Array | string | undefined) })).filter(
    (s): s is { name: UkiSection; data: Uint8Array } => s.data !== undefined && s.data.length > 0,
  );
  for (const s of added) {
    if (stub.sections.some((t) => t.name === s.name)) throw badStub(`already has a ${s.name} section (is it a UKI already?)`);
  }
  if (stub.sections.length + added.length > MAX_SECTIONS)
    throw badStub(`${stub.sections.length} sections leave no room for ${added.length} more (at most ${MAX_SECTIONS})`);
  const tableEnd = stub.sectionTableOffset + (stub.sections.length + added.length) * SECTION_HEADER.size;
  if (tableEnd > stub.sizeOfHeaders) {
    throw badStub(
      `its headers (SizeOfHeaders ${stub.sizeOfHeaders}) have no room for ${added.length} more section headers (${tableEnd - stub.sizeOfHeaders} bytes short)`,
    );
  }

  // The stub's bytes, without a symbol table that ends the file.
  const sym = stub.symbolTable;
  const keep = sym && sym.offset + sym.size === parts.stub.length ? sym.offset : parts.stub.length;
  const fa = stub.fileAlignment;
  const sa = stub.sectionAlignment;
  const last = stub.sections[stub.sections.length - 1]!.header;
  let fileEnd = keep;
  let rvaEnd = last.VirtualAddress + last.VirtualSize;
  const placed = added.map((s) => {
    const PointerToRawData = alignUp(fileEnd, fa);
    const SizeOfRawData = alignUp(s.data.length, fa);
    const VirtualAddress = alignUp(rvaEnd, sa);
    fileEnd = PointerToRawData + SizeOfRawData;
    rvaEnd = VirtualAddress + s.data.length;
    return { ...s, PointerToRawData, SizeOfRawData, VirtualAddress };
  });
  const sizeOfImage = alignUp(rvaEnd, sa);
  if (fileEnd > 0xffffffff || sizeOfImage > 0xffffffff)
    throw new KilnError('uki-too-large', `the UKI would be ${fileEnd} bytes (${sizeOfImage} loaded); PE offsets end at 4 GiB`, 'make the initrd smaller');

  const out = new Uint8Array(fileEnd);
  out.set(parts.stub.subarray(0, keep));
  const coff = COFF_FILE_HEADER.decode(out, stub.coffOffset);
  const opt = OPTIONAL_HEADER.decode(out, stub.optionalOffset);
  let initialized = opt.SizeOfInitializedData;
  placed.forEach((s, i) => {
    out.set(s.data, s.PointerToRawData);
    SECTION_HEADER.encode(
      {
        Name: new TextEncoder().encode(s.name),
        VirtualSize: s.data.length,
        VirtualAddress: s.VirtualAddress,
        SizeOfRawData: s.SizeOfRawData,
        PointerToRawData: s.PointerToRawData,
        Characteristics: IMAGE_SCN_MEM_READ | (s.name === '.linux' ? IMAGE_SCN_CNT_CODE : IMAGE_SCN_CNT_INITIALIZED_DATA),
      },
      out,
      stub.sectionTableOffset + (stub.sections.length + i) * SECTION_HEADER.size,
    );
    // ukify counts every new section, .linux too, as initialized data.
    initialized += s.data.length;
  });
  COFF_FILE_HEADER.encode(
    {
      NumberOfSections: coff.NumberOfSections + placed.length,
      // ukify means to set IMAGE_FILE_LOCAL_SYMS_STRIPPED too, but pefile never writes that flag back: Characteristics stay.
      ...(keep < parts.stub.length && { PointerToSymbolTable: 0, NumberOfSymbols: 0 }),
    },
    out,
    stub.coffOffset,
  );
  OPTIONAL_HEADER.encode(
    { SizeOfInitializedData: initialized, SizeOfImage: sizeOfImage, SizeOfHeaders: stub.sizeOfHeaders, CheckSum: 0 },
    out,
    stub.optionalOffset,
  );
  return out;
}
