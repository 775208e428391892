import { KilnError } from '../../errors.js';
import type { Values } from '../../fs/struct.js';
import { COFF_FILE_HEADER, COFF_SYMBOL_SIZE, MAX_SECTIONS, PE_SIGNATURE } from './coff-file-header.js';
import { CERTIFICATE_TABLE, DATA_DIRECTORY } from './data-directory.js';
import { DOS_HEADER, DOS_MAGIC } from './dos-header.js';
import { IMAGE_SUBSYSTEM_EFI_APPLICATION, OPTIONAL_HEADER, PE32_MAGIC, PE32_PLUS_MAGIC } from './optional-header.js';
import { SECTION_HEADER } from './section-header.js';

/**
 * Reads the headers of a PE32+ EFI application (a stub to build a UKI from) and checks every
 * offset and size the UKI writer relies on, so that a damaged or hostile file is refused by
 * name before anything is written. Section data is not interpreted.
 */

export type SectionHeader = Values<typeof SECTION_HEADER.fields>;

export interface PeSection {
  name: string;
  header: SectionHeader;
  /** File offset of this section's 40-byte header. */
  headerOffset: number;
}

export interface PeImage {
  bytes: Uint8Array;
  machine: number;
  /** File offset of the COFF file header (after "PE\0\0"). */
  coffOffset: number;
  /** File offset of the optional header. */
  optionalOffset: number;
  /** File offset of the section table. */
  sectionTableOffset: number;
  fileAlignment: number;
  sectionAlignment: number;
  sizeOfHeaders: number;
  sections: PeSection[];
  /** A COFF symbol table with its string table, when the header points at one. */
  symbolTable?: { offset: number; size: number };
}

/** A stub kiln cannot build a UKI from; `what` names it ("stub 'x.efi'"). */
export function stubError(what: string, message: string): KilnError {
  return new KilnError('bad-pe', `${what}: ${message}`, 'give the stub as its package ships it (Debian: linuxx64.efi.stub of systemd-boot-efi)');
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A section name as written: up to 8 bytes, NUL-padded. */
function sectionName(raw: Uint8Array): string {
  const nul = raw.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(nul < 0 ? raw : raw.subarray(0, nul));
}

/** Reads and checks a PE32+ EFI application; `what` names it in errors ("stub 'x.efi'"). */
export function readPeImage(bytes: Uint8Array, what: string): PeImage {
  if (bytes.length < DOS_HEADER.size || DOS_HEADER.get(bytes, 'e_magic') !== DOS_MAGIC) throw stubError(what, 'is not a PE image (no "MZ" at the start)');
  const peOffset = DOS_HEADER.get(bytes, 'e_lfanew') as number;
  const coffOffset = peOffset + 4;
  if (peOffset < DOS_HEADER.size || coffOffset + COFF_FILE_HEADER.size > bytes.length)
    throw stubError(what, `e_lfanew ${hex(peOffset)} points outside the ${bytes.length}-byte file`);
  if (new DataView(bytes.buffer, bytes.byteOffset).getUint32(peOffset, true) !== PE_SIGNATURE)
    throw stubError(what, `no "PE\\0\\0" signature at e_lfanew ${hex(peOffset)}`);
  const coff = COFF_FILE_HEADER.decode(bytes, coffOffset);
  const optionalOffset = coffOffset + COFF_FILE_HEADER.size;
  if (coff.SizeOfOptionalHeader < OPTIONAL_HEADER.size || optionalOffset + coff.SizeOfOptionalHeader > bytes.length) {
    throw stubError(
      what,
      `SizeOfOptionalHeader ${coff.SizeOfOptionalHeader} (a PE32+ optional header has at least ${OPTIONAL_HEADER.size} bytes, within the file)`,
    );
  }
  const opt = OPTIONAL_HEADER.decode(bytes, optionalOffset);
  if (opt.Magic === PE32_MAGIC) throw stubError(what, 'is a PE32 (32-bit) image; kiln builds unified kernel images from 64-bit (PE32+) stubs');
  if (opt.Magic !== PE32_PLUS_MAGIC) throw stubError(what, `optional header Magic ${hex(opt.Magic)} is not PE32+ (0x20b)`);
  if (opt.Subsystem !== IMAGE_SUBSYSTEM_EFI_APPLICATION)
    throw stubError(what, `Subsystem ${opt.Subsystem} is not an EFI application (${IMAGE_SUBSYSTEM_EFI_APPLICATION})`);
  if (OPTIONAL_HEADER.size + opt.NumberOfRvaAndSizes * DATA_DIRECTORY.size > coff.SizeOfOptionalHeader) {
    throw stubError(what, `${opt.NumberOfRvaAndSizes} data directories do not fit in the ${coff.SizeOfOptionalHeader}-byte optional header`);
  }
  if (opt.NumberOfRvaAndSizes > CERTIFICATE_TABLE) {
    const cert = DATA_DIRECTORY.decode(bytes, optionalOffset + OPTIONAL_HEADER.size + CERTIFICATE_TABLE * DATA_DIRECTORY.size);
    // Appending sections would break the signature, and the certificate table must stay last in the file.
    if (cert.VirtualAddress !== 0 || cert.Size !== 0)
      throw new KilnError(
        'bad-pe',
        `${what}: is signed (it has a certificate table)`,
        'build the UKI from the unsigned stub and sign the UKI afterwards (sbsign)',
      );
  }
  const fileAlignment = opt.FileAlignment;
  const sectionAlignment = opt.SectionAlignment;
  if (!isPowerOfTwo(fileAlignment) || fileAlignment < 512 || fileAlignment > 65536)
    throw stubError(what, `FileAlignment ${fileAlignment} is not a power of two from 512 to 65536`);
  if (!isPowerOfTwo(sectionAlignment) || sectionAlignment < fileAlignment)
    throw stubError(what, `SectionAlignment ${sectionAlignment} is not a power of two of at least FileAlignment (${fileAlignment})`);

  const count = coff.NumberOfSections;
  const sectionTableOffset = optionalOffset + coff.SizeOfOptionalHeader;
  // ukify rounds SizeOfHeaders up to FileAlignment: the room up to there is header room by definition.
  const sizeOfHeaders = Math.ceil(opt.SizeOfHeaders / fileAlignment) * fileAlignment;
  if (count < 1 || count > MAX_SECTIONS) throw stubError(what, `NumberOfSections ${count} (1 to ${MAX_SECTIONS})`);
  const tableEnd = sectionTableOffset + count * SECTION_HEADER.size;
  if (tableEnd > sizeOfHeaders || sizeOfHeaders > bytes.length)
    throw stubError(what, `the section table (to ${hex(tableEnd)}) or SizeOfHeaders ${hex(opt.SizeOfHeaders)} lies outside the headers or the file`);

  const sections: PeSection[] = [];
  let previousEnd = 0;
  for (let i = 0; i < count; i++) {
    const headerOffset = sectionTableOffset + i * SECTION_HEADER.size;
    const header = SECTION_HEADER.decode(bytes, headerOffset);
    const name = sectionName(header.Name);
    const where = `section ${i + 1} (${name || 'no name'})`;
    if (header.PointerToRawData % fileAlignment !== 0 || header.SizeOfRawData % fileAlignment !== 0) {
      throw stubError(
        what,
        `${where}: raw data at ${hex(header.PointerToRawData)} of ${hex(header.SizeOfRawData)} bytes is not aligned to FileAlignment ${hex(fileAlignment)}`,
      );
    }
    if (header.SizeOfRawData > 0 && (header.PointerToRawData < sizeOfHeaders || header.PointerToRawData + header.SizeOfRawData > bytes.length)) {
      throw stubError(
        what,
        `${where}: raw data ${hex(header.PointerToRawData)}–${hex(header.PointerToRawData + header.SizeOfRawData)} lies in the headers or past the end of the file (${hex(bytes.length)})`,
      );
    }
    // Not checked against SectionAlignment: systemd 252's own stub has .sdmagic at 0x19100 with 0x200.
    // New sections go after the last one, so the sections must ascend without overlapping.
    if (header.VirtualAddress < previousEnd || header.VirtualAddress < sizeOfHeaders) {
      throw stubError(
        what,
        `${where}: VirtualAddress ${hex(header.VirtualAddress)} overlaps the headers or the section before (which ends at ${hex(Math.max(previousEnd, sizeOfHeaders))})`,
      );
    }
    previousEnd = header.VirtualAddress + header.VirtualSize;
    if (previousEnd > opt.SizeOfImage) throw stubError(what, `${where}: ends at ${hex(previousEnd)}, past SizeOfImage ${hex(opt.SizeOfImage)}`);
    sections.push({ name, header, headerOffset });
  }

  const image: PeImage = {
    bytes,
    machine: coff.Machine,
    coffOffset,
    optionalOffset,
    sectionTableOffset,
    fileAlignment,
    sectionAlignment,
    sizeOfHeaders,
    sections,
  };
  if (coff.PointerToSymbolTable !== 0) {
    const offset = coff.PointerToSymbolTable;
    let size = coff.NumberOfSymbols * COFF_SYMBOL_SIZE;
    // The string table follows the symbols; its first 4 bytes are its size (with themselves).
    if (offset + size + 4 <= bytes.length) size += new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset + size, true);
    image.symbolTable = { offset, size };
  }
  return image;
}
