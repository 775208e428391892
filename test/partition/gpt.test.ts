import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource, MemoryTarget } from '../../src/index.js';
import { crc32 } from '../../src/fs/checksum/crc32.js';
import { decodeGpt, encodeGpt, GPT_FIRST_USABLE, type GptPartition } from '../../src/partition/gpt.js';
import { GPT_TYPES } from '../../src/partition/gpt-entry.js';
import { derivedUuid } from '../../src/fs/uuid.js';
import { guidFromBytes, guidToBytes } from '../../src/partition/guid.js';
import { decodeMbr } from '../../src/partition/mbr.js';
import { propertyRuns, run } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-gpt-'));

test('crc32 matches the standard check value and zlib', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
  assert.is(crc32(new TextEncoder().encode('6789'), crc32(new TextEncoder().encode('12345'))), 0xcbf43926);
});

test('GUID byte order: first three groups little-endian', () => {
  const b = guidToBytes(GPT_TYPES.linuxFilesystem);
  assert.is(Buffer.from(b).toString('hex'), 'af3dc60f838472478e793d69d8477de4');
  assert.is(guidFromBytes(b), GPT_TYPES.linuxFilesystem);
  assert.is(derivedUuid('x'), derivedUuid('x'));
  assert.match(derivedUuid('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

const TYPE_NAMES = [GPT_TYPES.linuxFilesystem, GPT_TYPES.linuxSwap, GPT_TYPES.efiSystem, GPT_TYPES.microsoftBasicData];

test('property: byte-identical to sfdisk (protective MBR, both headers and arrays), read back by sfdisk and our decoder', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          gap: fc.integer({ min: 0, max: 2 }),
          mib: fc.integer({ min: 1, max: 300 }),
          type: fc.constantFrom(...TYPE_NAMES),
          name: fc.stringMatching(/^[a-zA-Z0-9 _-]{0,36}$/),
          boot: fc.boolean(),
        }),
        { minLength: 1, maxLength: 8 },
      ),
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 4000 }),
      (specs, seed, tailSectors) => {
        let at = 2048;
        const parts: GptPartition[] = specs.map((s, i) => {
          at += s.gap * 2048;
          const p: GptPartition = {
            start: at,
            sectors: s.mib * 2048,
            typeGuid: s.type,
            guid: derivedUuid(`${seed}:${i}`).toUpperCase(),
            name: s.name,
            legacyBootable: s.boot,
          };
          at += p.sectors;
          return p;
        });
        const diskSectors = at + 33 + tailSectors;
        const diskGuid = derivedUuid(`${seed}:disk`).toUpperCase();
        const sectors = encodeGpt(parts, { diskSectors, diskGuid });
        const ours = join(dir, 'ours.img');
        const theirs = join(dir, 'theirs.img');
        let fd = openSync(ours, 'w');
        ftruncateSync(fd, diskSectors * 512);
        for (const s of sectors) writeSync(fd, s.bytes, 0, s.bytes.length, s.lba * 512);
        closeSync(fd);
        fd = openSync(theirs, 'w');
        ftruncateSync(fd, diskSectors * 512);
        closeSync(fd);
        const script = [`label: gpt`, `label-id: ${diskGuid}`, `first-lba: ${GPT_FIRST_USABLE}`, 'unit: sectors', ''];
        for (const p of parts)
          script.push(
            `start=${p.start}, size=${p.sectors}, type=${p.typeGuid}, uuid=${p.guid}, name="${p.name}"${p.legacyBootable ? ', attrs="LegacyBIOSBootable"' : ''}`,
          );
        run('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', theirs], { input: script.join('\n') + '\n' });
        const a = new FileSource(ours);
        const b = new FileSource(theirs);
        try {
          for (const lba of [0, 1, ...Array.from({ length: 32 }, (_, i) => 2 + i), diskSectors - 33, diskSectors - 1]) {
            assert.is(
              Buffer.from(a.read(lba * 512, 512)).toString('hex'),
              Buffer.from(b.read(lba * 512, 512)).toString('hex'),
              `sector ${lba} differs from sfdisk's`,
            );
          }
          const g = decodeGpt(a);
          assert.is(g.diskGuid, diskGuid);
          assert.equal(
            g.partitions.map((p) => [p.start, p.sectors, p.typeGuid, p.guid, p.name, p.attributes]),
            parts.map((p) => [p.start, p.sectors, p.typeGuid, p.guid, p.name, p.legacyBootable ? 4 : 0]),
          );
          assert.ok(decodeMbr(a).protective);
        } finally {
          a.close();
          b.close();
        }
        const json = JSON.parse(run('sfdisk', ['--json', ours]).stdout) as {
          partitiontable: { id: string; partitions: { start: number; size: number; type: string; uuid: string; name?: string }[] };
        };
        assert.is(json.partitiontable.id, diskGuid);
        assert.equal(
          json.partitiontable.partitions.map((p) => [p.start, p.size, p.type, p.uuid]),
          parts.map((p) => [p.start, p.sectors, p.typeGuid, p.guid]),
        );
      },
    ),
    { numRuns: propertyRuns(30), includeErrorInReport: true },
  );
});

test('refused: overlaps, outside the usable area, duplicate GUIDs, long names; a damaged primary falls back to the backup', () => {
  const base = { typeGuid: GPT_TYPES.linuxFilesystem };
  const o = { diskSectors: 100000, diskGuid: derivedUuid('d') };
  assert.throws(
    () =>
      encodeGpt(
        [
          { ...base, start: 2048, sectors: 100, guid: derivedUuid('a') },
          { ...base, start: 2100, sectors: 10, guid: derivedUuid('b') },
        ],
        o,
      ),
    /overlap/,
  );
  assert.throws(() => encodeGpt([{ ...base, start: 10, sectors: 100, guid: derivedUuid('a') }], o), /usable area/);
  assert.throws(() => encodeGpt([{ ...base, start: 2048, sectors: 100000, guid: derivedUuid('a') }], o), /usable area/);
  assert.throws(
    () =>
      encodeGpt(
        [
          { ...base, start: 2048, sectors: 10, guid: derivedUuid('a') },
          { ...base, start: 4096, sectors: 10, guid: derivedUuid('a') },
        ],
        o,
      ),
    /used twice/,
  );
  assert.throws(() => encodeGpt([{ ...base, start: 2048, sectors: 10, guid: derivedUuid('a'), name: 'x'.repeat(37) }], o), /longer than 36/);
  const disk = new MemoryTarget(100000 * 512);
  for (const s of encodeGpt([{ ...base, start: 2048, sectors: 10, guid: derivedUuid('a'), name: 'root' }], o)) disk.write(s.lba * 512, s.bytes);
  disk.write(512 + 100, new Uint8Array([1, 2, 3]));
  assert.is(decodeGpt(disk).partitions[0]!.name, 'root');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
