import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../../src/errors.js';
import { COFF_FILE_HEADER } from '../../../src/partition/uefi/coff-file-header.js';
import { CERTIFICATE_TABLE, DATA_DIRECTORY } from '../../../src/partition/uefi/data-directory.js';
import { OPTIONAL_HEADER } from '../../../src/partition/uefi/optional-header.js';
import { readPeImage } from '../../../src/partition/uefi/pe-image.js';
import { SECTION_HEADER } from '../../../src/partition/uefi/section-header.js';
import { kernelRelease, SETUP_HEADER, SETUP_HEADER_MAGIC } from '../../../src/partition/uefi/setup-header.js';
import { debianKernel } from '../../helpers/boot-kernel.js';
import { writeUki, type UkiParts } from '../../../src/partition/uefi/uki.js';
import { fakeKernel, makeStub, systemdStub } from '../../helpers/uefi.js';
import { propertyRuns, run } from '../../helpers/tools.js';

/**
 * The UKI writer against binutils: objdump must read every section where the writer put it
 * (file offsets on FileAlignment, addresses on SectionAlignment after the stub's last
 * section, SizeOfImage covering them), objcopy must dump back the exact bytes given, and a
 * stub the writer cannot use must be refused by name.
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-uki-'));
const enc = new TextEncoder();

interface ObjdumpSection {
  name: string;
  size: number;
  vma: number;
  fileOffset: number;
}

function objdumpSections(file: string): ObjdumpSection[] {
  const out = run('objdump', ['-h', file]).stdout;
  return [...out.matchAll(/^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+2\*\*\d+$/gm)].map((m) => ({
    name: m[1]!,
    size: parseInt(m[2]!, 16),
    vma: parseInt(m[3]!, 16),
    fileOffset: parseInt(m[4]!, 16),
  }));
}

function objdumpHeader(file: string): Record<string, number> {
  const out = run('objdump', ['-x', file]).stdout;
  const field = (name: string): number => parseInt(new RegExp(`^${name}\\s+([0-9a-f]+)`, 'm').exec(out)![1]!, 16);
  return {
    SizeOfImage: field('SizeOfImage'),
    SizeOfHeaders: field('SizeOfHeaders'),
    CheckSum: field('CheckSum'),
    SectionAlignment: field('SectionAlignment'),
    FileAlignment: field('FileAlignment'),
  };
}

function dumpSection(file: string, name: string): Uint8Array {
  const out = join(dir, `dump${name}`);
  run('objcopy', [`--dump-section`, `${name}=${out}`, file, join(dir, 'scratch.efi')]);
  return new Uint8Array(readFileSync(out));
}

function expectRefused(parts: UkiParts, code: string, message: RegExp): void {
  try {
    writeUki(parts);
  } catch (e) {
    assert.instance(e, KilnError);
    assert.is((e as KilnError).code, code);
    assert.match((e as KilnError).message, message);
    assert.ok((e as KilnError).hint, 'the refusal says what to do');
    return;
  }
  assert.unreachable(`accepted; expected ${code} ${message}`);
}

const KERNEL = fakeKernel(new Uint8Array(5000).fill(0xcc));

test("systemd 252's stub: objdump -h shows the five sections after .sdmagic, aligned as ukify places them", () => {
  const stub = systemdStub();
  const parts = { stub, linux: KERNEL, initrd: new Uint8Array(777).fill(7), cmdline: 'root=/dev/sda2 console=ttyS0', osRelease: 'ID=kiln\n', uname: '6.1.0' };
  const file = join(dir, 'real.efi');
  writeFileSync(file, writeUki(parts));
  writeFileSync(join(dir, 'stub.efi'), stub);
  const before = objdumpSections(join(dir, 'stub.efi'));
  const after = objdumpSections(file);
  assert.equal(
    before.map((s) => s.name),
    ['.text', '.reloc', '.data', '.dynamic', '.rela', '.dynsym', '.sbat', '.sdmagic'],
  );
  assert.equal(after.slice(0, before.length), before, "the stub's own sections are unchanged");
  assert.equal(
    after.slice(before.length).map((s) => s.name),
    ['.osrel', '.cmdline', '.uname', '.initrd', '.linux'],
  );
  const h = objdumpHeader(file);
  assert.is(h.CheckSum, 0, 'CheckSum is left 0, as ukify leaves it');
  let prev = before[before.length - 1]!;
  for (const s of after.slice(before.length)) {
    assert.is(s.fileOffset % h.FileAlignment!, 0, `${s.name} file offset on FileAlignment`);
    assert.is(s.vma % h.SectionAlignment!, 0, `${s.name} VMA on SectionAlignment`);
    assert.is(s.vma, Math.ceil((prev.vma + prev.size) / h.SectionAlignment!) * h.SectionAlignment!, `${s.name} right after the section before`);
    prev = s;
  }
  assert.is(h.SizeOfImage, Math.ceil((prev.vma + prev.size) / h.SectionAlignment!) * h.SectionAlignment!, 'SizeOfImage covers .linux');
  assert.equal(dumpSection(file, '.linux'), KERNEL);
  assert.equal(dumpSection(file, '.cmdline'), enc.encode('root=/dev/sda2 console=ttyS0'));
  // The stub's COFF symbol table (it ends the file) is dropped, as ukify does.
  const coff = readPeImage(stub, 'stub').coffOffset;
  const out = new Uint8Array(readFileSync(file));
  assert.ok((COFF_FILE_HEADER.get(stub, 'PointerToSymbolTable', coff) as number) > 0);
  assert.is(COFF_FILE_HEADER.get(out, 'PointerToSymbolTable', coff), 0);
  assert.is(COFF_FILE_HEADER.get(out, 'NumberOfSymbols', coff), 0);
});

test('property: objdump reads the UKI and objcopy dumps back each section exactly, for generated parts and stub shapes', () => {
  const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: 0, maxLength: max });
  fc.assert(
    fc.property(
      fc.record({
        fileAlignment: fc.constantFrom(512, 1024, 4096),
        sectionAlignment: fc.constantFrom(1, 2, 8),
        sections: fc.array(fc.record({ name: fc.constantFrom('.text', '.data', '.reloc', '.sbat', '.sdmagic'), size: fc.integer({ min: 1, max: 9000 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
      }),
      fc.record({
        linux: bytes(20000),
        initrd: bytes(20000),
        cmdline: fc.string({ maxLength: 300 }),
        osRelease: fc.string({ maxLength: 200 }),
        uname: fc.stringMatching(/^[0-9a-z.+-]{0,40}$/),
      }),
      (shape, p) => {
        const fa = shape.fileAlignment;
        const stub = makeStub({ fileAlignment: fa, sectionAlignment: fa * shape.sectionAlignment, sections: shape.sections });
        const parts: UkiParts = { stub, linux: fakeKernel(p.linux), initrd: p.initrd, cmdline: p.cmdline, osRelease: p.osRelease, uname: p.uname };
        const uki = writeUki(parts);
        assert.is(uki.length % fa, 0);
        const file = join(dir, 'prop.efi');
        writeFileSync(file, uki);
        const sections = objdumpSections(file);
        assert.equal(
          sections.slice(0, shape.sections.length).map((s) => s.name),
          shape.sections.map((s) => s.name),
        );
        const expected: [string, Uint8Array][] = (
          [
            ['.osrel', enc.encode(p.osRelease)],
            ['.cmdline', enc.encode(p.cmdline)],
            ['.uname', enc.encode(p.uname)],
            ['.initrd', p.initrd],
            ['.linux', parts.linux],
          ] as [string, Uint8Array][]
        ).filter(([, b]) => b.length > 0);
        assert.equal(
          sections.slice(shape.sections.length).map((s) => s.name),
          expected.map(([n]) => n),
          'empty parts get no section',
        );
        for (const [name, data] of expected) assert.equal(dumpSection(file, name), data, `${name} reads back`);
        const sa = fa * shape.sectionAlignment;
        const h = objdumpHeader(file);
        assert.is(h.SectionAlignment, sa);
        for (const [i, s] of sections.entries()) {
          if (i < shape.sections.length) continue;
          const prev = sections[i - 1]!;
          assert.is(s.vma, Math.ceil((prev.vma + prev.size) / sa) * sa, `${s.name} at the next SectionAlignment after ${prev.name}`);
          assert.is(s.fileOffset % fa, 0, `${s.name} file offset on FileAlignment`);
          assert.ok(s.fileOffset >= prev.fileOffset + prev.size, `${s.name} data after ${prev.name}'s`);
        }
        const last = sections[sections.length - 1]!;
        assert.is(h.SizeOfImage, Math.ceil((last.vma + last.size) / sa) * sa);
        assert.equal(writeUki(parts), uki, 'a pure function of its parts');
      },
    ),
    { numRuns: propertyRuns(40) },
  );
});

test('a symbol table that ends the stub is dropped; one that does not is kept, and sections still go after it', () => {
  const symbols = new Uint8Array(2 * 18 + 4 + 6);
  new DataView(symbols.buffer).setUint32(36, 10, true); // string table: its 4-byte size + 6 bytes
  const stripped = makeStub({ trailer: symbols, symbols: true });
  const uki = writeUki({ stub: stripped, linux: KERNEL });
  const info = readPeImage(uki, 'uki');
  assert.is(info.symbolTable, undefined);
  assert.is(info.sections[info.sections.length - 1]!.header.PointerToRawData, stripped.length - symbols.length);
  const kept = makeStub({ trailer: new Uint8Array([...symbols, 1, 2, 3]), symbols: true });
  const uki2 = writeUki({ stub: kept, linux: KERNEL });
  const info2 = readPeImage(uki2, 'uki');
  assert.ok(info2.symbolTable);
  assert.is(info2.sections[info2.sections.length - 1]!.header.PointerToRawData, Math.ceil(kept.length / 512) * 512);
});

/** A copy of `stub` with `edit` applied (offsets from readPeImage). */
function edited(stub: Uint8Array, edit: (b: Uint8Array, pe: ReturnType<typeof readPeImage>) => void): Uint8Array {
  const b = stub.slice();
  edit(b, readPeImage(stub, 'stub'));
  return b;
}

test('stubs and kernels the writer cannot use are refused by name', () => {
  const stub = makeStub();
  const k = KERNEL;
  expectRefused({ stub: new Uint8Array(10), linux: k }, 'bad-pe', /not a PE image/);
  expectRefused({ stub: enc.encode('#!/bin/sh\necho not a stub\n'.padEnd(200)), linux: k }, 'bad-pe', /no "MZ"/);
  expectRefused(
    { stub: edited(stub, (b) => new DataView(b.buffer).setUint32(0x3c, 0x7fffffff, true)), linux: k },
    'bad-pe',
    /e_lfanew 0x7fffffff points outside/,
  );
  expectRefused({ stub: edited(stub, (b) => b.set([0x4e, 0x45], 0x80)), linux: k }, 'bad-pe', /no "PE\\0\\0" signature/);
  expectRefused({ stub: edited(stub, (b, pe) => OPTIONAL_HEADER.encode({ Magic: 0x10b }, b, pe.optionalOffset)), linux: k }, 'bad-pe', /PE32 \(32-bit\)/);
  expectRefused(
    { stub: edited(stub, (b, pe) => OPTIONAL_HEADER.encode({ Subsystem: 3 }, b, pe.optionalOffset)), linux: k },
    'bad-pe',
    /Subsystem 3 is not an EFI application/,
  );
  expectRefused(
    {
      stub: edited(stub, (b, pe) =>
        DATA_DIRECTORY.encode({ VirtualAddress: 0x1000, Size: 0x100 }, b, pe.optionalOffset + OPTIONAL_HEADER.size + CERTIFICATE_TABLE * DATA_DIRECTORY.size),
      ),
      linux: k,
    },
    'bad-pe',
    /is signed/,
  );
  expectRefused(
    { stub: edited(stub, (b, pe) => OPTIONAL_HEADER.encode({ FileAlignment: 100 }, b, pe.optionalOffset)), linux: k },
    'bad-pe',
    /FileAlignment 100/,
  );
  expectRefused(
    { stub: edited(stub, (b, pe) => COFF_FILE_HEADER.encode({ NumberOfSections: 0 }, b, pe.coffOffset)), linux: k },
    'bad-pe',
    /NumberOfSections 0/,
  );
  expectRefused(
    { stub: edited(stub, (b, pe) => SECTION_HEADER.encode({ SizeOfRawData: 0x100000 }, b, pe.sections[1]!.headerOffset)), linux: k },
    'bad-pe',
    /past the end of the file/,
  );
  expectRefused(
    { stub: edited(stub, (b, pe) => SECTION_HEADER.encode({ PointerToRawData: 0x201 }, b, pe.sections[0]!.headerOffset)), linux: k },
    'bad-pe',
    /not aligned to FileAlignment/,
  );
  expectRefused(
    {
      stub: edited(stub, (b, pe) => SECTION_HEADER.encode({ VirtualAddress: pe.sections[0]!.header.VirtualAddress }, b, pe.sections[1]!.headerOffset)),
      linux: k,
    },
    'bad-pe',
    /overlaps the headers or the section before/,
  );
  expectRefused(
    {
      stub: makeStub({ headerRoom: 0, sections: [{ name: '.text', size: 10 }] }),
      linux: k,
      cmdline: 'x',
      osRelease: 'y',
      uname: 'z',
      initrd: new Uint8Array(1),
    },
    'bad-pe',
    /no room for 5 more section headers/,
  );
  expectRefused(
    {
      stub: makeStub({
        sections: [
          { name: '.text', size: 10 },
          { name: '.linux', size: 10 },
        ],
      }),
      linux: k,
    },
    'bad-pe',
    /already has a \.linux section/,
  );
  expectRefused({ stub, linux: new Uint8Array(0) }, 'bad-kernel', /empty/);
  expectRefused({ stub, linux: enc.encode('\x7fELF not a bzImage') }, 'bad-kernel', /not an EFI-stub kernel/);
});

test('property: a stub with random bytes changed in its headers is used or refused with a KilnError, never a crash', () => {
  const stub = makeStub();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0x3ff }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (changes) => {
      const b = stub.slice();
      for (const [at, v] of changes) b[at] = v;
      try {
        const uki = writeUki({ stub: b, linux: KERNEL });
        // Used: every section the writer added lies inside the output.
        const added = readPeImage(uki, 'uki').sections.at(-1)!.header;
        assert.ok(added.PointerToRawData + added.SizeOfRawData <= uki.length);
      } catch (e) {
        if (!(e instanceof KilnError)) throw e;
      }
    }),
    { numRuns: propertyRuns(300) },
  );
});

test('kernelRelease reads the release a bzImage names, as file(1) does; other files have none', () => {
  const vmlinuz = debianKernel().vmlinuz;
  const named = /version (\S+)/.exec(run('file', ['-b', vmlinuz]).stdout)?.[1];
  assert.ok(named, 'file(1) names the version');
  assert.is(kernelRelease(new Uint8Array(readFileSync(vmlinuz))), named);
  assert.is(kernelRelease(KERNEL), undefined);
  assert.is(kernelRelease(new Uint8Array(10)), undefined);
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-z.+_-]{1,60}$/), fc.integer({ min: 0x10, max: 0x800 }), (release, pointer) => {
      const b = new Uint8Array(0x1000 + 0x300);
      SETUP_HEADER.encode({ header: SETUP_HEADER_MAGIC, version: 0x20f, kernel_version: pointer }, b);
      b.set(enc.encode(`${release} (kiln@test) #1 SMP\0`), pointer + 0x200);
      assert.is(kernelRelease(b), release);
    }),
    { numRuns: propertyRuns(100) },
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
