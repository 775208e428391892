import { bytesToName, hasRawBytes, nameToBytes, printableName } from './name-bytes.js';

/**
 * Host paths for tree names (which are bytes, see name-bytes.ts): a string where the name is
 * text (Node encodes strings as UTF-8, which is then exact), a Buffer of the real bytes where it
 * holds bytes that are not UTF-8. Every node:fs call takes either.
 */
export type HostPath = string | Buffer;

/** `base/treePath` as a host path. */
export function hostJoin(base: HostPath, treePath: string): HostPath {
  if (treePath === '') return base;
  if (typeof base === 'string' && !hasRawBytes(treePath)) return base.endsWith('/') ? base + treePath : `${base}/${treePath}`;
  const b = typeof base === 'string' ? Buffer.from(base, 'utf8') : base;
  const sep = b.length > 0 && b[b.length - 1] === 0x2f ? Buffer.alloc(0) : Buffer.from('/');
  return Buffer.concat([b, sep, nameToBytes(treePath)]);
}

/** A host path for messages (raw bytes as \xNN). */
export function showHost(path: HostPath): string {
  return printableName(typeof path === 'string' ? path : bytesToName(path));
}

/** A symlink target or other name as the bytes to hand to the host (a Buffer only where needed). */
export function hostName(name: string): HostPath {
  return hasRawBytes(name) ? Buffer.from(nameToBytes(name)) : name;
}
