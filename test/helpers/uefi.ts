import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COFF_FILE_HEADER, PE_SIGNATURE } from '../../src/partition/uefi/coff-file-header.js';
import { DATA_DIRECTORY } from '../../src/partition/uefi/data-directory.js';
import { DOS_HEADER, DOS_MAGIC } from '../../src/partition/uefi/dos-header.js';
import { IMAGE_SUBSYSTEM_EFI_APPLICATION, OPTIONAL_HEADER, PE32_PLUS_MAGIC } from '../../src/partition/uefi/optional-header.js';
import { IMAGE_SCN_CNT_CODE, IMAGE_SCN_MEM_READ, SECTION_HEADER } from '../../src/partition/uefi/section-header.js';

/**
 * UEFI test inputs: systemd's stub and the OVMF firmware from Debian's packages (test inputs
 * only; images built by the pipeline take the stub from a build input), and small made-up PE
 * images and kernels for the writer's properties and refusals.
 */

const STUB = '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd';

/** systemd 252's x86-64 stub (Debian package systemd-boot-efi). */
export function systemdStubPath(): string {
  if (!existsSync(STUB)) throw new Error(`${STUB} is missing (Debian package: systemd-boot-efi); run .ci/run or apt-get install it`);
  return STUB;
}

export function systemdStub(): Uint8Array {
  return new Uint8Array(readFileSync(systemdStubPath()));
}

/** OVMF's code (read-only) and a scratch copy of its variable store in `dir` (Debian package: ovmf). */
export function ovmf(dir: string, name = 'OVMF_VARS.fd'): { code: string; vars: string } {
  for (const f of [OVMF_CODE, OVMF_VARS]) if (!existsSync(f)) throw new Error(`${f} is missing (Debian package: ovmf); run .ci/run or apt-get install it`);
  const vars = join(dir, name);
  copyFileSync(OVMF_VARS, vars);
  return { code: OVMF_CODE, vars };
}

export interface StubShape {
  fileAlignment?: number;
  sectionAlignment?: number;
  /** Section names and raw sizes, in order. */
  sections?: { name: string; size: number }[];
  /** Extra bytes of header room after the section table (before rounding to fileAlignment). */
  headerRoom?: number;
  /** Bytes appended after the last section, given as a COFF symbol table when `symbols` is set. */
  trailer?: Uint8Array;
  symbols?: boolean;
}

/** A small well-formed PE32+ EFI application (x86-64) with the given shape. */
export function makeStub(shape: StubShape = {}): Uint8Array {
  const fa = shape.fileAlignment ?? 512;
  const sa = shape.sectionAlignment ?? 4096;
  const sections = shape.sections ?? [
    { name: '.text', size: 100 },
    { name: '.data', size: 40 },
  ];
  const peOffset = 0x80;
  const optionalOffset = peOffset + 4 + COFF_FILE_HEADER.size;
  const optionalSize = OPTIONAL_HEADER.size + 16 * DATA_DIRECTORY.size;
  const tableOffset = optionalOffset + optionalSize;
  const headers = Math.ceil((tableOffset + sections.length * SECTION_HEADER.size + (shape.headerRoom ?? 5 * SECTION_HEADER.size)) / fa) * fa;
  let file = headers;
  let rva = Math.ceil(headers / sa) * sa;
  const placed = sections.map((s) => {
    const p = { ...s, raw: file, rawSize: Math.ceil(s.size / fa) * fa, rva };
    file += p.rawSize;
    rva = Math.ceil((rva + s.size) / sa) * sa;
    return p;
  });
  const trailer = shape.trailer ?? new Uint8Array(0);
  const out = new Uint8Array(file + trailer.length);
  DOS_HEADER.encode({ e_magic: DOS_MAGIC, e_lfanew: peOffset }, out);
  new DataView(out.buffer).setUint32(peOffset, PE_SIGNATURE, true);
  COFF_FILE_HEADER.encode(
    {
      Machine: 0x8664,
      NumberOfSections: sections.length,
      SizeOfOptionalHeader: optionalSize,
      Characteristics: 0x206,
      ...(shape.symbols && { PointerToSymbolTable: file, NumberOfSymbols: Math.floor((trailer.length - 4) / 18) }),
    },
    out,
    peOffset + 4,
  );
  OPTIONAL_HEADER.encode(
    {
      Magic: PE32_PLUS_MAGIC,
      SectionAlignment: sa,
      FileAlignment: fa,
      SizeOfImage: rva,
      SizeOfHeaders: headers,
      Subsystem: IMAGE_SUBSYSTEM_EFI_APPLICATION,
      NumberOfRvaAndSizes: 16,
      AddressOfEntryPoint: placed[0]?.rva ?? 0,
    },
    out,
    optionalOffset,
  );
  placed.forEach((p, i) => {
    SECTION_HEADER.encode(
      {
        Name: new TextEncoder().encode(p.name),
        VirtualSize: p.size,
        VirtualAddress: p.rva,
        SizeOfRawData: p.rawSize,
        PointerToRawData: p.raw,
        Characteristics: IMAGE_SCN_MEM_READ | IMAGE_SCN_CNT_CODE,
      },
      out,
      tableOffset + i * SECTION_HEADER.size,
    );
    out.fill(0x90 + i, p.raw, p.raw + p.size);
  });
  out.set(trailer, file);
  return out;
}

/** A stand-in kernel: an "MZ" header pointing at a PE signature, then `body`. */
export function fakeKernel(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(0x44 + body.length);
  DOS_HEADER.encode({ e_magic: DOS_MAGIC, e_lfanew: 0x40 }, out);
  new DataView(out.buffer).setUint32(0x40, PE_SIGNATURE, true);
  out.set(body, 0x44);
  return out;
}
