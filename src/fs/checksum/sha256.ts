import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/**
 * SHA-256 for the writers (derived UUIDs, hash seeds, GUIDs) without importing Node built-ins,
 * so that they run unchanged in a browser. @noble/hashes is a small audited pure-JS implementation;
 * Web Crypto's digest is async only and would make the synchronous writers async.
 * `createHash('sha256')` mirrors the part of node:crypto's API the writers used, so the bytes
 * (and the code) stay as they were: strings are hashed as UTF-8, as Node does.
 */

const utf8 = new TextEncoder();

/** The part of a running hash both implementations offer. */
export interface Hasher {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

/**
 * A faster implementation a Node-only module may install (node-sha256.ts: Node's own, several
 * times faster on the megabytes an ext4 model hashes); the digests are the same. Kept out of this
 * module so that what a browser loads names no Node built-in and no `process`.
 */
let backend: (() => Hasher) | undefined;

export function useSha256Backend(make: () => Hasher): void {
  backend = make;
}

function newHasher(): Hasher {
  return backend ? backend() : nobleSha256.create();
}

export interface Sha256 {
  update(data: string | Uint8Array): Sha256;
  /** The 32-byte digest; the hash cannot be updated afterwards. */
  digest(): Uint8Array;
}

/** Updates smaller than this are gathered into one buffer: the hash's per-call cost dominates short strings. */
const GATHER = 1 << 16;

export function createHash(algorithm: 'sha256'): Sha256 {
  if (algorithm !== 'sha256') throw new Error(`unsupported hash '${String(algorithm)}'`);
  const h = newHasher();
  let buf: Uint8Array | undefined;
  let len = 0;
  const flush = (): void => {
    if (len > 0) h.update(buf!.subarray(0, len));
    len = 0;
  };
  const self: Sha256 = {
    update(data) {
      // A string takes at most 3 UTF-8 bytes per UTF-16 unit.
      const most = typeof data === 'string' ? data.length * 3 : data.length;
      if (most > GATHER / 4) {
        flush();
        h.update(typeof data === 'string' ? utf8.encode(data) : data);
        return self;
      }
      buf ??= new Uint8Array(GATHER);
      if (len + most > GATHER) flush();
      if (typeof data === 'string') len += utf8.encodeInto(data, buf.subarray(len)).written;
      else {
        buf.set(data, len);
        len += data.length;
      }
      return self;
    },
    digest: () => {
      flush();
      return new Uint8Array(h.digest());
    },
  };
  return self;
}

/** SHA-256 of bytes or of a string's UTF-8. */
export function sha256(data: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}
