/**
 * Partition types by name, as systemd-repart's Type= and sfdisk's aliases spell them, with the
 * GPT type GUID and the MBR type byte of each (GUIDs as in the Discoverable Partitions
 * Specification; `sfdisk --list-types` lists the same).
 */
export interface PartitionTypeName {
  name: string;
  /** Other spellings accepted (sfdisk's one-letter aliases, repart's longer names). */
  aliases: readonly string[];
  gpt?: string;
  mbr?: number;
}

export const PARTITION_TYPES: readonly PartitionTypeName[] = [
  { name: 'esp', aliases: ['uefi', 'U', 'efi'], gpt: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', mbr: 0xef },
  { name: 'xbootldr', aliases: [], gpt: 'BC13C2FF-59E6-4262-A352-B275FD6F7172', mbr: 0xea },
  { name: 'linux', aliases: ['linux-generic', 'L'], gpt: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', mbr: 0x83 },
  { name: 'swap', aliases: ['S'], gpt: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', mbr: 0x82 },
  { name: 'home', aliases: ['H'], gpt: '933AC7E1-2EB4-4F13-B844-0E14E2AEF915', mbr: 0x83 },
  { name: 'srv', aliases: [], gpt: '3B8F8425-20E0-4F3B-907F-1A25A76F98E8', mbr: 0x83 },
  { name: 'var', aliases: [], gpt: '4D21B016-B534-45C2-A9FB-5C16E091FD2D', mbr: 0x83 },
  { name: 'tmp', aliases: [], gpt: '7EC6F557-3BC5-4ACA-B293-16EF5DF639D1', mbr: 0x83 },
  { name: 'root-x86-64', aliases: [], gpt: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', mbr: 0x83 },
  { name: 'root-arm64', aliases: [], gpt: 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE', mbr: 0x83 },
  { name: 'usr-x86-64', aliases: [], gpt: '8484680C-9521-48C6-9C11-B0720656F69E', mbr: 0x83 },
  { name: 'usr-arm64', aliases: [], gpt: 'B0E01050-EE5F-4390-949A-9101B17104E9', mbr: 0x83 },
  { name: 'bios-boot', aliases: [], gpt: '21686148-6449-6E6F-744E-656564454649' },
  { name: 'lvm', aliases: ['V'], gpt: 'E6D6D379-F507-44C2-A23C-238F2A3DF928', mbr: 0x8e },
  { name: 'raid', aliases: ['R'], gpt: 'A19D880F-05FC-4D3B-A006-743F0F84911E', mbr: 0xfd },
  { name: 'basic-data', aliases: ['msdata'], gpt: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', mbr: 0x0c },
  { name: 'fat12', aliases: [], mbr: 0x01 },
  { name: 'fat16', aliases: [], mbr: 0x06 },
  { name: 'fat32', aliases: [], mbr: 0x0b },
  { name: 'fat16-lba', aliases: [], mbr: 0x0e },
  { name: 'fat32-lba', aliases: [], mbr: 0x0c },
  { name: 'extended', aliases: ['E'], mbr: 0x0f },
];

/** The type a name stands for (case-insensitive for the long names), or undefined. */
export function partitionTypeByName(name: string): PartitionTypeName | undefined {
  return PARTITION_TYPES.find((t) => t.name === name.toLowerCase() || t.aliases.includes(name) || (name.length > 1 && t.aliases.includes(name.toLowerCase())));
}

/** The MBR type byte or GPT type GUID a name stands for (a format's default type); a name without one is a bug. */
export function namedPartitionType(name: string, table: 'mbr'): number;
export function namedPartitionType(name: string, table: 'gpt'): string;
export function namedPartitionType(name: string, table: 'mbr' | 'gpt'): number | string {
  const type = partitionTypeByName(name)?.[table];
  if (type === undefined) throw new Error(`partition type '${name}' has no ${table.toUpperCase()} type`);
  return type;
}

/** The name of a GPT type GUID or MBR type byte, when it has one. */
export function partitionTypeName(type: string | number): string | undefined {
  if (typeof type === 'number') {
    // sfdisk: 0c "W95 FAT32 (LBA)", 0e "W95 FAT16 (LBA)", 04 "FAT16 <32M"
    if (type === 0x0c) return 'fat32';
    if (type === 0x04 || type === 0x0e) return 'fat16';
    if (type === 0x05 || type === 0x85) return 'extended';
    // 0x83 is linux, not home/srv/…: the first entry wins
    return PARTITION_TYPES.find((t) => t.mbr === type)?.name;
  }
  const g = type.toUpperCase();
  return PARTITION_TYPES.find((t) => t.gpt === g)?.name;
}

/** Every accepted name, for messages. */
export function partitionTypeNames(table: 'mbr' | 'gpt'): string[] {
  return PARTITION_TYPES.filter((t) => (table === 'gpt' ? t.gpt : t.mbr) !== undefined).map((t) => t.name);
}
