import { Struct } from '../fs/struct.js';

/** One 128-byte GPT partition entry, UEFI spec 5.3.3; comments give the spec's field names. */
export const GPT_ENTRY = new Struct('GPT partition entry', 128, [
  { name: 'typeGuid', offset: 0, type: 'bytes', size: 16 }, // PartitionTypeGUID: all zero = unused
  { name: 'uniqueGuid', offset: 16, type: 'bytes', size: 16 }, // UniquePartitionGUID
  { name: 'firstLba', offset: 32, type: 'u64' }, // StartingLBA
  { name: 'lastLba', offset: 40, type: 'u64' }, // EndingLBA: inclusive
  { name: 'attributes', offset: 48, type: 'u64' }, // Attributes
  { name: 'name', offset: 56, type: 'bytes', size: 72 }, // PartitionName: UTF-16LE, 36 code units, NUL-padded
] as const);

/** Attribute bit 2: "legacy BIOS bootable" (what gptmbr.bin looks for). */
export const GPT_ATTR_LEGACY_BOOTABLE = 4;
export const GPT_NAME_UNITS = 36;

/** Partition type GUIDs by use. */
export const GPT_TYPES = {
  linuxFilesystem: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  linuxSwap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  efiSystem: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  microsoftBasicData: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  biosBoot: '21686148-6449-6E6F-744E-656564454649',
} as const;

export function encodeName(name: string): Uint8Array {
  const out = new Uint8Array(72);
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    out[i * 2] = u & 0xff;
    out[i * 2 + 1] = u >> 8;
  }
  return out;
}

export function decodeName(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const u = bytes[i]! | (bytes[i + 1]! << 8);
    if (u === 0) break;
    s += String.fromCharCode(u);
  }
  return s;
}
