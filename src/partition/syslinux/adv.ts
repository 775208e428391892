import { Struct } from '../../fs/struct.js';

/**
 * The SYSLINUX Auxiliary Data Vector: two identical 512-byte sectors appended to ldlinux.sys
 * (boot-once and menu-save settings). Installers write an empty one.
 */
export const ADV_SIZE = 512;
export const ADV_MAGIC_HEAD = 0x5a2d2fa5;
/** The checksum base: checksum = this − sum of the data dwords. */
export const ADV_MAGIC_CHECK = 0xa3041767;
export const ADV_MAGIC_TAIL = 0xdd28bf64;

export const AdvSector = new Struct('SYSLINUX ADV sector', ADV_SIZE, [
  { name: 'head', offset: 0, type: 'u32' },
  { name: 'checksum', offset: 4, type: 'u32' },
  { name: 'data', offset: 8, type: 'bytes', size: ADV_SIZE - 12 },
  { name: 'tail', offset: ADV_SIZE - 4, type: 'u32' },
] as const);

/** Both copies of an ADV holding `data` (default: empty, i.e. all zero). */
export function encodeAdv(data: Uint8Array = new Uint8Array(ADV_SIZE - 12)): Uint8Array {
  const one = AdvSector.encode({ head: ADV_MAGIC_HEAD, data, tail: ADV_MAGIC_TAIL });
  const view = new DataView(one.buffer);
  let sum = ADV_MAGIC_CHECK;
  for (let at = 8; at < ADV_SIZE - 4; at += 4) sum = (sum - view.getUint32(at, true)) >>> 0;
  AdvSector.encode({ checksum: sum }, one);
  const out = new Uint8Array(2 * ADV_SIZE);
  out.set(one, 0);
  out.set(one, ADV_SIZE);
  return out;
}
