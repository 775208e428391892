import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Struct } from '../../src/fs/struct.js';

// Every numeric type once, at offsets that are not aligned to their width.
const Sample = new Struct('Sample', 40, [
  { name: 'a', offset: 1, type: 'u8' },
  { name: 'b', offset: 2, type: 'u16' },
  { name: 'c', offset: 5, type: 'u32' },
  { name: 'd', offset: 9, type: 'u64' },
  { name: 'e', offset: 17, type: 'u16be' },
  { name: 'f', offset: 19, type: 'u32be' },
  { name: 'g', offset: 23, type: 'u64be' },
  { name: 'h', offset: 31, type: 'string', size: 8, pad: 0x20 },
] as const);

/** The bytes DataView's setters make for the same values: the oracle. */
function viaDataView(v: { a: number; b: number; c: number; d: number; e: number; f: number; g: number }): Uint8Array {
  const buf = new Uint8Array(40);
  const view = new DataView(buf.buffer);
  view.setUint8(1, v.a);
  view.setUint16(2, v.b, true);
  view.setUint32(5, v.c, true);
  view.setBigUint64(9, BigInt(v.d), true);
  view.setUint16(17, v.e, false);
  view.setUint32(19, v.f, false);
  view.setBigUint64(23, BigInt(v.g), false);
  return buf;
}

const values = fc.record({
  a: fc.integer({ min: 0, max: 0xff }),
  b: fc.integer({ min: 0, max: 0xffff }),
  c: fc.integer({ min: 0, max: 0xffffffff }),
  d: fc.maxSafeNat(),
  e: fc.integer({ min: 0, max: 0xffff }),
  f: fc.integer({ min: 0, max: 0xffffffff }),
  g: fc.maxSafeNat(),
});

test('numeric fields are the bytes DataView writes, and decode back to the values', () => {
  fc.assert(
    fc.property(values, (v) => {
      const bytes = Sample.encode(v, new Uint8Array(40));
      assert.equal([...bytes], [...viaDataView(v)]);
      const back = Sample.decode(bytes);
      assert.equal({ a: back.a, b: back.b, c: back.c, d: back.d, e: back.e, f: back.f, g: back.g }, { ...v });
    }),
    { numRuns: 500 },
  );
});

test('values wider than a field keep their low bytes, as DataView does (negative ones wrap)', () => {
  const v = { a: 0x1ff, b: -1, c: 2 ** 32 + 5, d: 2 ** 40 + 7, e: 0x12345, f: -2, g: 2 ** 52 + 1 };
  const expected = viaDataView({ ...v, a: 0xff, b: 0xffff, c: 5, e: 0x2345, f: 0xfffffffe });
  assert.equal([...Sample.encode(v, new Uint8Array(40))], [...expected]);
});

test('fields not given are left as they are; strings are padded', () => {
  const buf = new Uint8Array(40).fill(0xaa);
  Sample.encode({ b: 0x0102, h: 'KILN' }, buf);
  assert.equal([...buf.subarray(0, 5)], [0xaa, 0xaa, 0x02, 0x01, 0xaa]);
  assert.equal(new TextDecoder().decode(buf.subarray(31, 39)), 'KILN    ');
  assert.is(Sample.get(buf, 'h'), 'KILN');
});

test('encoding past the end of the buffer is refused, not cut short', () => {
  assert.throws(() => Sample.encode({ a: 1 }, new Uint8Array(39)), /Sample at 0 overruns a 39-byte buffer/);
  assert.throws(() => Sample.encode({ a: 1 }, new Uint8Array(80), 41), /Sample at 41 overruns/);
  assert.not.throws(() => Sample.encode({ a: 1 }, new Uint8Array(80), 40));
});

test.run();
