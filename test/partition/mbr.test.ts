import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource, MemoryTarget } from '../../src/index.js';
import { decodeMbr, encodeMbr, type MbrPartition } from '../../src/partition/mbr.js';
import { lbaToChs } from '../../src/partition/chs.js';
import { propertyRuns, run } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-mbr-'));

/** A sparse disk file holding only our table sectors. */
function diskWith(sectors: { lba: number; bytes: Uint8Array }[], size: number, path: string): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  for (const s of sectors) writeSync(fd, s.bytes, 0, s.bytes.length, s.lba * 512);
  closeSync(fd);
}

/** The same table written by sfdisk on an empty file of the same size. */
function sfdiskDisk(parts: MbrPartition[], signature: number, size: number, path: string): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
  const lines = [`label: dos`, `label-id: 0x${signature.toString(16).padStart(8, '0')}`, 'unit: sectors', ''];
  const logical = parts.length > 4 ? parts.slice(3) : [];
  const primary = parts.length > 4 ? parts.slice(0, 3) : parts;
  for (const p of primary) lines.push(`start=${p.start}, size=${p.sectors}, type=${p.type.toString(16)}${p.bootable ? ', bootable' : ''}`);
  if (logical.length) {
    const ext = logical[0]!.start - 2048;
    const last = logical[logical.length - 1]!;
    lines.push(`start=${ext}, size=${last.start + last.sectors - ext}, type=5`);
    for (const p of logical) lines.push(`start=${p.start}, size=${p.sectors}, type=${p.type.toString(16)}`);
  }
  run('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', path], { input: lines.join('\n') + '\n' });
}

function tableBytes(path: string, lbas: number[]): string[] {
  const src = new FileSource(path);
  try {
    return lbas.map((l) => Buffer.from(src.read(l * 512 + 440, 72)).toString('hex'));
  } finally {
    src.close();
  }
}

test('CHS as fdisk computes it: 255 heads, 63 sectors, capped at 1023/254/63', () => {
  assert.equal(lbaToChs(0), { cylinder: 0, head: 0, sector: 1 });
  assert.equal(lbaToChs(2048), { cylinder: 0, head: 32, sector: 33 });
  assert.equal(lbaToChs(16065), { cylinder: 1, head: 0, sector: 1 });
  assert.equal(lbaToChs(1024 * 16065), { cylinder: 1023, head: 254, sector: 63 });
  assert.equal(lbaToChs(2 ** 32 - 1), { cylinder: 1023, head: 254, sector: 63 });
});

/** Partitions at 1 MiB-aligned offsets with MiB sizes, as kiln lays them out. */
const partsArb = fc
  .array(
    fc.record({ gap: fc.integer({ min: 0, max: 3 }), mib: fc.integer({ min: 1, max: 600 }), type: fc.constantFrom(0x0c, 0x06, 0x0e, 0x83, 0x82, 0x01, 0x07) }),
    { minLength: 1, maxLength: 7 },
  )
  .chain((specs) =>
    fc.record({
      specs: fc.constant(specs),
      boot: fc.integer({ min: -1, max: Math.min(specs.length, 3) - 1 }),
      signature: fc.integer({ min: 1, max: 0xffffffff }),
    }),
  );

test('property: byte-identical to sfdisk (entries, CHS, EBR chain) and sfdisk --json reads back the same', () => {
  fc.assert(
    fc.property(partsArb, ({ specs, boot, signature }) => {
      let at = 2048;
      const parts: MbrPartition[] = specs.map((s, i) => {
        if (specs.length > 4 && i >= 3) at += 2048; // room for the EBR
        at += s.gap * 2048;
        const p: MbrPartition = { start: at, sectors: s.mib * 2048, type: s.type, bootable: i === boot };
        at += p.sectors;
        return p;
      });
      const size = (at + 2048) * 512;
      const sectors = encodeMbr(parts, { signature, diskSectors: size / 512 });
      const ours = join(dir, 'ours.img');
      const theirs = join(dir, 'theirs.img');
      diskWith(sectors, size, ours);
      sfdiskDisk(parts, signature, size, theirs);
      const lbas = sectors.map((s) => s.lba);
      assert.equal(tableBytes(ours, lbas), tableBytes(theirs, lbas));
      const json = JSON.parse(run('sfdisk', ['--json', ours]).stdout) as {
        partitiontable: { id: string; partitions: { node: string; start: number; size: number; type: string; bootable?: boolean }[] };
      };
      assert.is(Number(json.partitiontable.id), signature);
      const data = json.partitiontable.partitions.filter((p) => p.type !== '5');
      assert.equal(
        data.map((p) => [p.start, p.size, parseInt(p.type, 16), !!p.bootable]),
        parts.map((p) => [p.start, p.sectors, p.type, !!p.bootable]),
      );
      const src = new FileSource(ours);
      const decoded = decodeMbr(src);
      src.close();
      assert.is(decoded.signature, signature);
      assert.equal(
        decoded.partitions.map((p) => [p.number, p.start, p.sectors, p.type, p.bootable]),
        parts.map((p, i) => [parts.length > 4 && i >= 3 ? i + 2 : i + 1, p.start, p.sectors, p.type, !!p.bootable]),
      );
    }),
    { numRuns: propertyRuns(40), includeErrorInReport: true },
  );
});

test('refused: overlaps, two bootable, bootable logical, beyond the disk, boot code too long, no EBR room', () => {
  const sig = { signature: 1 };
  assert.throws(
    () =>
      encodeMbr(
        [
          { start: 2048, sectors: 4096, type: 0x83 },
          { start: 4096, sectors: 10, type: 0x83 },
        ],
        sig,
      ),
    /overlap/,
  );
  assert.throws(
    () =>
      encodeMbr(
        [
          { start: 2048, sectors: 10, type: 0x83, bootable: true },
          { start: 4096, sectors: 10, type: 0x83, bootable: true },
        ],
        sig,
      ),
    /more than one/,
  );
  const five = [0, 1, 2, 3, 4].map((i) => ({ start: 2048 + i * 4096, sectors: 2048, type: 0x83 }));
  assert.throws(
    () =>
      encodeMbr(
        five.map((p, i) => ({ ...p, bootable: i === 4 })),
        sig,
      ),
    /logical/,
  );
  assert.throws(() => encodeMbr([{ start: 2048, sectors: 4096, type: 0x83 }], { signature: 1, diskSectors: 4000 }), /beyond the disk/);
  assert.throws(() => encodeMbr([{ start: 2048, sectors: 10, type: 0x83 }], { signature: 1, bootCode: new Uint8Array(441) }), /440/);
  const tight = [0, 1, 2, 3, 4].map((i) => ({ start: 2048 + i * 2048, sectors: 2048, type: 0x83 }));
  assert.throws(() => encodeMbr(tight, sig), /extended boot record/);
});

test('boot code and signature land in sector 0; MBR decoder reports a GPT protective entry', () => {
  const code = new Uint8Array(440).fill(0xab);
  const [mbr] = encodeMbr([{ start: 2048, sectors: 2048, type: 0x0c, bootable: true }], { signature: 0xdeadbeef, bootCode: code });
  assert.equal(mbr!.bytes.subarray(0, 440), code);
  assert.is(Buffer.from(mbr!.bytes).readUInt32LE(440), 0xdeadbeef);
  assert.is(mbr!.bytes[446], 0x80);
  assert.is(Buffer.from(mbr!.bytes).readUInt16LE(510), 0xaa55);
  const path = join(dir, 'one.img');
  diskWith([mbr!], 4096 * 512, path);
  assert.match(run('sfdisk', ['--dump', path]).stdout, /label-id: 0xdeadbeef[\s\S]*start=\s*2048, size=\s*2048, type=c, bootable/);
  writeFileSync(path, new Uint8Array(512));
  assert.throws(() => decodeMbr(new MemoryTarget(readFileSync(path))), /55 AA/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
