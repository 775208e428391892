/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8 for speed: ext4
 * checksums every metadata block with it.
 *
 * ext4 uses the *raw* update without the customary final inversion: a checksum is
 * `crc32cUpdate(seed, bytes)` where the filesystem seed is `crc32cUpdate(~0, uuid)`. The
 * standard (iSCSI) CRC-32C of a message is `~crc32cUpdate(~0, message)`, offered as `crc32c`.
 */
const TABLES = (() => {
  const t = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/** Continues a raw CRC-32C (no pre/post inversion) over `data[start, end)`. */
export function crc32cUpdate(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  const t = TABLES;
  let c = crc >>> 0;
  let i = start;
  const fast = end - 8;
  while (i <= fast) {
    const lo = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

const U32 = new Uint8Array(4);
/** Continues a raw CRC-32C over one little-endian 32-bit value (inode numbers, group numbers). */
export function crc32cU32(crc: number, value: number): number {
  U32[0] = value & 0xff;
  U32[1] = (value >>> 8) & 0xff;
  U32[2] = (value >>> 16) & 0xff;
  U32[3] = (value >>> 24) & 0xff;
  return crc32cUpdate(crc, U32);
}

/** The standard CRC-32C of `data` (check value of "123456789" is 0xE3069283). */
export function crc32c(data: Uint8Array): number {
  return ~crc32cUpdate(0xffffffff, data) >>> 0;
}
