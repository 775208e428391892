/**
 * Where firmware looks for a boot loader on a removable or new disk when no boot entry names
 * one (UEFI specification, "Removable Media Boot Behavior"): \EFI\BOOT\BOOT<arch>.EFI on the
 * EFI system partition, the architecture taken from the COFF header's Machine.
 */
const ARCH_BY_MACHINE: Readonly<Record<number, string>> = {
  0x8664: 'X64', // IMAGE_FILE_MACHINE_AMD64
  0xaa64: 'AA64', // IMAGE_FILE_MACHINE_ARM64
  0x5064: 'RISCV64', // IMAGE_FILE_MACHINE_RISCV64
  0x6264: 'LOONGARCH64', // IMAGE_FILE_MACHINE_LOONGARCH64
};

/** `/EFI/BOOT/BOOTX64.EFI` for an x86-64 image (a path inside the FAT), or undefined for an architecture without one here. */
export function removableMediaPath(machine: number): string | undefined {
  const arch = ARCH_BY_MACHINE[machine];
  return arch === undefined ? undefined : `/EFI/BOOT/BOOT${arch}.EFI`;
}
