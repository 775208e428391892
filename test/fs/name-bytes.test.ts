import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytesToName, canonicalName, compareNameBytes, hasRawBytes, nameToBytes, printableName } from '../../src/fs/name-bytes.js';
import { compareNames } from '../../src/fs/tree.js';

const bytesEq = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
/** Byte strings biased towards UTF-8-ish content: ASCII, multi-byte sequences, stray high bytes. */
const byteString = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(0x41, 0x61, 0x2e, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xfe, 0xed, 0xa0, 0xef, 0xbb, 0xbf, 0x80),
        fc.integer({ min: 0, max: 255 }),
      ),
      { maxLength: 24 },
    )
    .map((a) => Uint8Array.from(a)),
);

test('bytes → name → bytes is the identity', () => {
  fc.assert(
    fc.property(byteString, (b) => bytesEq(nameToBytes(bytesToName(b)), b)),
    { numRuns: 5000 },
  );
});

test('valid UTF-8 decodes as text; invalid bytes as U+DC80…U+DCFF', () => {
  assert.is(bytesToName(new TextEncoder().encode('héllo €😀')), 'héllo €😀');
  assert.is(bytesToName(Uint8Array.from([0x61, 0xff])), 'a\udcff');
  assert.is(bytesToName(Uint8Array.from([0xef, 0xbb, 0xbf, 0x41])), '\ufeffA', 'a leading BOM is kept');
  assert.is(bytesToName(Uint8Array.from([0xed, 0xa0, 0x80])), '\udced\udca0\udc80', 'an encoded surrogate is not UTF-8');
  assert.is(bytesToName(Uint8Array.from([0xc0, 0xaf])), '\udcc0\udcaf', 'overlong');
  assert.is(bytesToName(Uint8Array.from([0xc3])), '\udcc3', 'truncated sequence');
  assert.ok(hasRawBytes('a\udcff'));
  assert.not.ok(hasRawBytes('a😀'));
  assert.not.equal(bytesToName(Uint8Array.from([0x61, 0xff])), bytesToName(Uint8Array.from([0x61, 0xfe])));
});

test('strings without lone surrogates encode as UTF-8; canonicalName merges spellings of the same bytes', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      (s) => bytesEq(nameToBytes(s), new TextEncoder().encode(s)) && bytesToName(nameToBytes(s)) === s,
    ),
  );
  assert.is(canonicalName('\udcc3\udca9'), 'é');
  assert.is(canonicalName('a\udcff'), 'a\udcff');
});

test('compareNames orders by bytes', () => {
  fc.assert(
    fc.property(byteString, byteString, (a, b) => {
      const want = Math.sign(cmpBytes(a, b));
      return Math.sign(compareNameBytes(bytesToName(a), bytesToName(b))) === want && Math.sign(compareNames(bytesToName(a), bytesToName(b))) === want;
    }),
    { numRuns: 5000 },
  );
  assert.ok(compareNames('a\udc80', 'aé') < 0, '0x80 sorts before 0xc3');
  assert.ok(compareNames('a\uffff', 'a😀') < 0, 'EF BF BF before F0');
});

test('printableName escapes raw bytes and control characters', () => {
  assert.is(printableName('a\udcff\udcfeb'), 'a\\xff\\xfeb');
  assert.is(printableName('x\ny'), 'x\\x0ay');
  assert.is(printableName('héllo😀'), 'héllo😀');
});

test.run();
