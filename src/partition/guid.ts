import { formatUuid, parseUuid } from '../fs/uuid.js';

/**
 * GUIDs in the GPT/Microsoft "mixed-endian" byte order (the first three groups little-endian);
 * RFC 4122 order and derived UUIDs are fs/uuid.ts.
 */

/** Text → 16 bytes in GPT order (time_low, time_mid, time_hi little-endian). */
export function guidToBytes(text: string, what = 'GUID'): Uint8Array {
  const b = parseUuid(text, what);
  return new Uint8Array([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

export function guidFromBytes(bytes: Uint8Array): string {
  const b = bytes;
  return formatUuid(new Uint8Array([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8, 16)])).toUpperCase();
}
