import { crc32cUpdate } from '../checksum/crc32c.js';
import { Struct } from '../struct.js';
import { HASH } from './constants.js';

/**
 * Hashed directories (dir_index). Block 0 is the dx_root: fake '.' and '..' entries, the
 * root info, then a count/limit header and (hash, block) pairs; deeper levels are dx_nodes
 * (one fake empty entry, then count/limit and pairs). With metadata_csum a dx_tail follows
 * the `limit` pairs.
 */
export const DxRootInfo = new Struct('ext4 dx_root_info', 8, [
  { name: 'reserved_zero', offset: 0, type: 'u32' },
  { name: 'hash_version', offset: 4, type: 'u8' },
  { name: 'info_length', offset: 5, type: 'u8' },
  { name: 'indirect_levels', offset: 6, type: 'u8' },
  { name: 'unused_flags', offset: 7, type: 'u8' },
] as const);
/** dx_root_info sits after the '.' (12 bytes) and '..' (12 bytes of header+name) entries. */
export const DX_ROOT_INFO_OFFSET = 24;
/** Entries start after the root info in a dx_root, after the fake entry in a dx_node. */
export const DX_ROOT_ENTRIES_OFFSET = 32;
export const DX_NODE_ENTRIES_OFFSET = 8;

/** Overlays the first (hash-less) entry: limit and count, then the first child block. */
export const DxCountLimit = new Struct('ext4 dx_countlimit', 8, [
  { name: 'limit', offset: 0, type: 'u16' },
  { name: 'count', offset: 2, type: 'u16' },
  { name: 'block', offset: 4, type: 'u32' },
] as const);

export const DxEntry = new Struct('ext4 dx_entry', 8, [
  { name: 'hash', offset: 0, type: 'u32' },
  { name: 'block', offset: 4, type: 'u32' },
] as const);

export const DxTail = new Struct('ext4 dx_tail', 8, [
  { name: 'dt_reserved', offset: 0, type: 'u32' },
  { name: 'dt_checksum', offset: 4, type: 'u32' },
] as const);
export const DX_TAIL_SIZE = 8;

/** (hash, block) pairs that fit in a root or node block, leaving room for the dx_tail. */
export function dxLimit(blockSize: number, entriesOffset: number, csum = true): number {
  return Math.floor((blockSize - entriesOffset - (csum ? DX_TAIL_SIZE : 0)) / 8);
}

const ZERO4 = new Uint8Array(4);

/** crc32c(inode seed, block up to the used entries, dt_reserved, a zero checksum). */
export function dxChecksum(inodeSeed: number, block: Uint8Array, entriesOffset: number): number {
  const count = DxCountLimit.get(block, 'count', entriesOffset) as number;
  const limit = DxCountLimit.get(block, 'limit', entriesOffset) as number;
  const tail = entriesOffset + limit * 8;
  let c = crc32cUpdate(inodeSeed, block, 0, entriesOffset + count * 8);
  c = crc32cUpdate(c, block, tail, tail + 4);
  return crc32cUpdate(c, ZERO4);
}

export function setDxChecksum(inodeSeed: number, block: Uint8Array, entriesOffset: number): void {
  const limit = DxCountLimit.get(block, 'limit', entriesOffset) as number;
  DxTail.encode({ dt_reserved: 0, dt_checksum: dxChecksum(inodeSeed, block, entriesOffset) }, block, entriesOffset + limit * 8);
}

// ---- directory name hashes (half_md4 is the mke2fs default; TEA and legacy for readers) ----

function rotl(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}

const K2 = 0x5a827999;
const K3 = 0x6ed9eba1;

// One function per round kind (not a round taking its function): each stays monomorphic and inlined.
const RF = (w: number, x: number, y: number, z: number, k: number, s: number): number => rotl((w + (z ^ (x & (y ^ z))) + k) >>> 0, s);
const RG = (w: number, x: number, y: number, z: number, k: number, s: number): number => rotl((w + (((x & y) + ((x ^ y) & z)) >>> 0) + k) >>> 0, s);
const RH = (w: number, x: number, y: number, z: number, k: number, s: number): number => rotl((w + (x ^ y ^ z) + k) >>> 0, s);

function halfMd4Transform(buf: Uint32Array, inp: Uint32Array): void {
  let a = buf[0]!;
  let b = buf[1]!;
  let c = buf[2]!;
  let d = buf[3]!;
  a = RF(a, b, c, d, inp[0]!, 3);
  d = RF(d, a, b, c, inp[1]!, 7);
  c = RF(c, d, a, b, inp[2]!, 11);
  b = RF(b, c, d, a, inp[3]!, 19);
  a = RF(a, b, c, d, inp[4]!, 3);
  d = RF(d, a, b, c, inp[5]!, 7);
  c = RF(c, d, a, b, inp[6]!, 11);
  b = RF(b, c, d, a, inp[7]!, 19);
  a = RG(a, b, c, d, (inp[1]! + K2) >>> 0, 3);
  d = RG(d, a, b, c, (inp[3]! + K2) >>> 0, 5);
  c = RG(c, d, a, b, (inp[5]! + K2) >>> 0, 9);
  b = RG(b, c, d, a, (inp[7]! + K2) >>> 0, 13);
  a = RG(a, b, c, d, (inp[0]! + K2) >>> 0, 3);
  d = RG(d, a, b, c, (inp[2]! + K2) >>> 0, 5);
  c = RG(c, d, a, b, (inp[4]! + K2) >>> 0, 9);
  b = RG(b, c, d, a, (inp[6]! + K2) >>> 0, 13);
  a = RH(a, b, c, d, (inp[3]! + K3) >>> 0, 3);
  d = RH(d, a, b, c, (inp[7]! + K3) >>> 0, 9);
  c = RH(c, d, a, b, (inp[2]! + K3) >>> 0, 11);
  b = RH(b, c, d, a, (inp[6]! + K3) >>> 0, 15);
  a = RH(a, b, c, d, (inp[1]! + K3) >>> 0, 3);
  d = RH(d, a, b, c, (inp[5]! + K3) >>> 0, 9);
  c = RH(c, d, a, b, (inp[0]! + K3) >>> 0, 11);
  b = RH(b, c, d, a, (inp[4]! + K3) >>> 0, 15);
  buf[0] = (buf[0]! + a) >>> 0;
  buf[1] = (buf[1]! + b) >>> 0;
  buf[2] = (buf[2]! + c) >>> 0;
  buf[3] = (buf[3]! + d) >>> 0;
}

function teaTransform(buf: Uint32Array, inp: Uint32Array): void {
  let sum = 0;
  let b0 = buf[0]!;
  let b1 = buf[1]!;
  const [a, b, c, d] = [inp[0]!, inp[1]!, inp[2]!, inp[3]!];
  for (let n = 16; n > 0; n--) {
    sum = (sum + 0x9e3779b9) >>> 0;
    b0 = (b0 + ((((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >>> 5) + b)) >>> 0)) >>> 0;
    b1 = (b1 + ((((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >>> 5) + d)) >>> 0)) >>> 0;
  }
  buf[0] = (buf[0]! + b0) >>> 0;
  buf[1] = (buf[1]! + b1) >>> 0;
}

/** Packs up to num*4 name bytes into words, padding with the length (as e2fsprogs does). */
function str2hashbuf(msg: Uint8Array, start: number, len: number, out: Uint32Array, num: number, signed: boolean): void {
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  let val = pad;
  let o = 0;
  const n = Math.min(len, num * 4);
  for (let i = 0; i < n; i++) {
    const byte = msg[start + i]!;
    const c = signed && byte > 127 ? byte - 256 : byte;
    val = (c + ((val << 8) >>> 0)) >>> 0;
    if (i % 4 === 3) {
      out[o++] = val;
      val = pad;
      num--;
    }
  }
  if (--num >= 0) out[o++] = val;
  while (--num >= 0) out[o++] = pad;
}

function legacyHash(name: Uint8Array, signed: boolean): number {
  let hash0 = 0x12a3fe2d;
  let hash1 = 0x37abe8f9;
  for (let i = 0; i < name.length; i++) {
    const byte = name[i]!;
    const c = signed && byte > 127 ? byte - 256 : byte;
    let hash = (hash1 + (hash0 ^ Math.imul(c, 7152373))) >>> 0;
    if (hash & 0x80000000) hash = (hash - 0x7fffffff) >>> 0;
    hash1 = hash0;
    hash0 = hash;
  }
  return (hash0 << 1) >>> 0;
}

const DEFAULT_SEED = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
const HASH_BUF = new Uint32Array(4);
const HASH_INPUT = new Uint32Array(8);

export interface DirHash {
  hash: number;
  minor: number;
}

/**
 * The directory hash of a name (ext2fs_dirhash): `version` is a HASH value; `seed` is the
 * superblock's s_hash_seed (16 bytes; all zeros means the default constants).
 */
export function dirHash(name: Uint8Array, version: number, seed: Uint8Array): DirHash {
  // Scratch words shared by every call (a directory's names are hashed by the thousand).
  const buf = HASH_BUF;
  let zero = true;
  for (let i = 0; i < 16; i++) if (seed[i] !== 0) zero = false;
  if (zero) buf.set(DEFAULT_SEED);
  else for (let i = 0; i < 4; i++) buf[i] = (seed[i * 4]! | (seed[i * 4 + 1]! << 8) | (seed[i * 4 + 2]! << 16) | (seed[i * 4 + 3]! << 24)) >>> 0;
  const unsigned = version === HASH.LEGACY_UNSIGNED || version === HASH.HALF_MD4_UNSIGNED || version === HASH.TEA_UNSIGNED;
  const signed = !unsigned;
  let hash: number;
  let minor = 0;
  const inp = HASH_INPUT;
  switch (version) {
    case HASH.LEGACY:
    case HASH.LEGACY_UNSIGNED:
      hash = legacyHash(name, signed);
      break;
    case HASH.HALF_MD4:
    case HASH.HALF_MD4_UNSIGNED:
      for (let p = 0, len = name.length; len > 0; p += 32, len -= 32) {
        str2hashbuf(name, p, len, inp, 8, signed);
        halfMd4Transform(buf, inp);
      }
      minor = buf[2]!;
      hash = buf[1]!;
      break;
    case HASH.TEA:
    case HASH.TEA_UNSIGNED:
      for (let p = 0, len = name.length; len > 0; p += 16, len -= 16) {
        str2hashbuf(name, p, len, inp, 4, signed);
        teaTransform(buf, inp);
      }
      hash = buf[0]!;
      minor = buf[1]!;
      break;
    default:
      throw new Error(`unknown directory hash version ${version}`);
  }
  hash = (hash & ~1) >>> 0;
  if (hash === 0xfffffffe) hash = 0xfffffffc;
  return { hash, minor };
}
