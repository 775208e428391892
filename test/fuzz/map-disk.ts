/**
 * The map of a partitioned disk: MBR entries, the EBR chain, GPT headers and entries (both
 * copies), plus the maps of the filesystems inside, shifted to their partitions. Structural
 * mutations: EBR chains that loop or run past what sfdisk reads, GPT headers with a valid CRC and
 * an entry size of 0, an absurd entry count or array position, entries that end before they start.
 */
import { crc32 } from '../../src/fs/checksum/crc32.js';
import { GPT_ENTRY } from '../../src/partition/gpt-entry.js';
import { GPT_HEADER } from '../../src/partition/gpt-header.js';
import { MBR_ENTRY } from '../../src/partition/mbr-entry.js';
import { shiftMap, view, type ImageMap, type Region, type Structural } from './model.js';

const SECTOR = 512;
const ENTRY_BASE = 446;

export interface InnerFs {
  /** Byte offset of the partition, its number, and the map of its filesystem. */
  offset: number;
  number: number;
  map: ImageMap;
}

function combine(own: ImageMap, inner: InnerFs[]): ImageMap {
  const shifted = inner.map((p) => shiftMap(p.map, p.offset, `partition ${p.number}:`));
  const reseals = [own.reseal, ...shifted.map((m) => m.reseal)].filter((f): f is (b: Uint8Array) => void => f !== undefined);
  return {
    regions: [...own.regions, ...shifted.flatMap((m) => m.regions)],
    structural: [...own.structural, ...shifted.flatMap((m) => m.structural)],
    // Inner filesystems first: the GPT's CRCs do not cover partition contents, so the order only
    // matters for the tables themselves.
    reseal: (b) => {
      for (let i = reseals.length - 1; i >= 0; i--) reseals[i]!(b);
    },
  };
}

/** An MBR disk with primary partitions and a chain of EBRs at `ebrs` (sectors). */
export function mapMbrDisk(bytes: Uint8Array, ebrs: number[], inner: InnerFs[]): ImageMap {
  const regions: Region[] = [];
  for (let k = 0; k < 4; k++) regions.push({ tag: 'mbr entry', offset: ENTRY_BASE + k * 16, length: 16, struct: MBR_ENTRY, owner: `slot ${k + 1}` });
  regions.push({ tag: 'mbr signature', offset: 510, length: 2 });
  for (const e of ebrs) {
    for (let k = 0; k < 2; k++)
      regions.push({ tag: 'ebr entry', offset: e * SECTOR + ENTRY_BASE + k * 16, length: 16, struct: MBR_ENTRY, owner: `EBR at sector ${e}` });
  }
  const extSlot = [0, 1, 2, 3].find((k) => [0x05, 0x0f, 0x85].includes(bytes[ENTRY_BASE + k * 16 + 4]!));
  const structural: Structural[] = [];
  const v = (b: Uint8Array): DataView => view(b);
  if (extSlot !== undefined && ebrs.length > 0) {
    const extStart = view(bytes).getUint32(ENTRY_BASE + extSlot * 16 + 8, true);
    const linkAt = (ebr: number): number => ebr * SECTOR + ENTRY_BASE + 16;
    const setLink = (b: Uint8Array, ebr: number, to: number): void => {
      b[linkAt(ebr) + 4] = 0x05;
      v(b).setUint32(linkAt(ebr) + 8, to - extStart, true);
      if (v(b).getUint32(linkAt(ebr) + 12, true) === 0) v(b).setUint32(linkAt(ebr) + 12, 1, true);
    };
    structural.push({ name: `EBR at sector ${ebrs[0]}: link -> itself`, mustFail: true, apply: (b) => setLink(b, ebrs[0]!, ebrs[0]!) });
    structural.push({ name: `last EBR: link -> the first EBR (a loop)`, mustFail: true, apply: (b) => setLink(b, ebrs[ebrs.length - 1]!, ebrs[0]!) });
    structural.push({
      name: 'extended partition: a chain of 70 EBRs (more logical partitions than sfdisk reads)',
      mustFail: true,
      apply: (b) => {
        for (let k = 0; k < 70; k++) {
          const at = extStart + k;
          b.fill(0, at * SECTOR + ENTRY_BASE, at * SECTOR + SECTOR);
          b[at * SECTOR + 510] = 0x55;
          b[at * SECTOR + 511] = 0xaa;
          const first = at * SECTOR + ENTRY_BASE;
          b[first + 4] = 0x83;
          v(b).setUint32(first + 8, 100, true);
          v(b).setUint32(first + 12, 1, true);
          if (k < 69) setLink(b, at, at + 1);
        }
      },
    });
    structural.push({
      name: 'extended partition entry: start 0 (the MBR as an EBR)',
      mustFail: true,
      apply: (b) => v(b).setUint32(ENTRY_BASE + extSlot * 16 + 8, 0, true),
    });
    structural.push({
      name: 'extended partition entry: start past the disk',
      mustFail: true,
      apply: (b) => v(b).setUint32(ENTRY_BASE + extSlot * 16 + 8, 0xfffffff0, true),
    });
  }
  structural.push({ name: 'partition 1: 0xffffffff sectors', mustFail: true, apply: (b) => v(b).setUint32(ENTRY_BASE + 12, 0xffffffff, true) });
  structural.push({ name: 'partition 1: starts at sector 0xffffffff', mustFail: true, apply: (b) => v(b).setUint32(ENTRY_BASE + 8, 0xffffffff, true) });
  return combine({ regions, structural }, inner);
}

/** A GPT disk (protective MBR, primary header at LBA 1, backup in the last sector). */
export function mapGptDisk(bytes: Uint8Array, used: number, inner: InnerFs[]): ImageMap {
  const last = bytes.length / SECTOR - 1;
  const headers = [1, last];
  const regions: Region[] = [{ tag: 'mbr entry', offset: ENTRY_BASE, length: 16, struct: MBR_ENTRY, owner: 'protective' }];
  for (const h of headers) {
    regions.push({ tag: 'gpt header', offset: h * SECTOR, length: GPT_HEADER.size, struct: GPT_HEADER, owner: `sector ${h}` });
    const entriesLba = Number(view(bytes).getBigUint64(h * SECTOR + 72, true));
    for (let i = 0; i < used; i++)
      regions.push({ tag: 'gpt entry', offset: entriesLba * SECTOR + i * 128, length: 128, struct: GPT_ENTRY, owner: `entry ${i + 1} of header ${h}` });
  }
  const reseal = (b: Uint8Array): void => {
    for (const h of headers) {
      const at = h * SECTOR;
      const hv = view(b);
      const entriesLba = hv.getBigUint64(at + 72, true);
      const count = hv.getUint32(at + 80, true);
      const size = hv.getUint32(at + 84, true);
      const arrayBytes = BigInt(count) * BigInt(size);
      if (entriesLba * 512n + arrayBytes <= BigInt(b.length) && arrayBytes <= 1n << 20n) {
        const from = Number(entriesLba) * SECTOR;
        hv.setUint32(at + 88, crc32(b.subarray(from, from + Number(arrayBytes))), true);
      }
      const headerSize = hv.getUint32(at + 12, true);
      if (headerSize >= 20 && headerSize <= SECTOR) {
        hv.setUint32(at + 16, 0, true);
        hv.setUint32(at + 16, crc32(b.subarray(at, at + headerSize)), true);
      }
    }
  };
  const both = (f: (b: Uint8Array, at: number) => void) => (b: Uint8Array) => {
    for (const h of headers) f(b, h * SECTOR);
  };
  const entryAt = (b: Uint8Array, h: number, i: number): number => Number(view(b).getBigUint64(h + 72, true)) * SECTOR + i * 128;
  const structural: Structural[] = [
    { name: 'GPT headers: entry size 0 (valid CRCs)', mustFail: true, apply: both((b, at) => view(b).setUint32(at + 84, 0, true)) },
    { name: 'GPT headers: entry size 1 (valid CRCs)', mustFail: true, apply: both((b, at) => view(b).setUint32(at + 84, 1, true)) },
    { name: 'GPT headers: 0xffffffff entries (valid header CRCs)', mustFail: true, apply: both((b, at) => view(b).setUint32(at + 80, 0xffffffff, true)) },
    { name: 'GPT headers: 100000 entries of 128 bytes (valid header CRCs)', mustFail: true, apply: both((b, at) => view(b).setUint32(at + 80, 100000, true)) },
    {
      name: 'GPT headers: entry array at sector 2^40 (valid header CRCs)',
      mustFail: true,
      apply: both((b, at) => view(b).setBigUint64(at + 72, 1n << 40n, true)),
    },
    { name: 'GPT headers: header size 0xffffffff', mustFail: true, apply: both((b, at) => view(b).setUint32(at + 12, 0xffffffff, true)) },
    {
      name: 'GPT headers: first usable after last usable (valid CRCs)',
      mustFail: true,
      apply: both((b, at) => view(b).setBigUint64(at + 40, BigInt(last + 10), true)),
    },
    {
      name: 'GPT entry 1: last sector before the first (valid CRCs)',
      mustFail: true,
      apply: both((b, at) => view(b).setBigUint64(entryAt(b, at, 0) + 40, view(b).getBigUint64(entryAt(b, at, 0) + 32, true) - 5n, true)),
    },
    {
      name: 'GPT entry 1: ends past the disk (valid CRCs)',
      mustFail: true,
      apply: both((b, at) => view(b).setBigUint64(entryAt(b, at, 0) + 40, BigInt(last + 1000), true)),
    },
    {
      name: 'GPT entry 2: last sector 2^64-1 (valid CRCs)',
      mustFail: true,
      apply: both((b, at) => view(b).setBigUint64(entryAt(b, at, 1) + 40, (1n << 64n) - 1n, true)),
    },
  ];
  return combine({ regions, structural, reseal }, inner);
}
