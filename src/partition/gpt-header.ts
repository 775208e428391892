import { Struct } from '../fs/struct.js';

/** The GPT header (LBA 1, and its backup in the disk's last sector), UEFI spec 5.3.2; comments give the spec's field names. */
export const GPT_HEADER = new Struct('GPT header', 92, [
  { name: 'signature', offset: 0, type: 'string', size: 8 }, // Signature: "EFI PART"
  { name: 'revision', offset: 8, type: 'u32' }, // Revision: 0x00010000
  { name: 'headerSize', offset: 12, type: 'u32' }, // HeaderSize: 92
  { name: 'headerCrc32', offset: 16, type: 'u32' }, // HeaderCRC32: over headerSize bytes with this field 0
  { name: 'reserved', offset: 20, type: 'u32' }, // Reserved
  { name: 'currentLba', offset: 24, type: 'u64' }, // MyLBA
  { name: 'backupLba', offset: 32, type: 'u64' }, // AlternateLBA: the other header
  { name: 'firstUsableLba', offset: 40, type: 'u64' }, // FirstUsableLBA
  { name: 'lastUsableLba', offset: 48, type: 'u64' }, // LastUsableLBA
  { name: 'diskGuid', offset: 56, type: 'bytes', size: 16 }, // DiskGUID: mixed-endian GUID
  { name: 'entriesLba', offset: 72, type: 'u64' }, // PartitionEntryLBA: this copy's entry array
  { name: 'entryCount', offset: 80, type: 'u32' }, // NumberOfPartitionEntries
  { name: 'entrySize', offset: 84, type: 'u32' }, // SizeOfPartitionEntry
  { name: 'entriesCrc32', offset: 88, type: 'u32' }, // PartitionEntryArrayCRC32: over entryCount × entrySize bytes
] as const);

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION = 0x00010000;
