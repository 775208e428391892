/**
 * Defaults of the `x86image` element (bst-external, docs/format.md#x86image). kiln writes the boot FAT,
 * the ext4 root, the swap header and the MBR itself, so the three shell steps of the original
 * default to empty lists (a project may still add commands to them); the final step keeps the
 * original chmod so that `(>)` additions such as the example's run-in-qemu.sh land after it.
 * `kernel-name` is the kernel-name-variable branch's variable (the syslinux KERNEL line).
 */
export const X86IMAGE_YAML = `
variables:
  boot-size: 252000K
  rootfs-size: 4G
  swap-size: 1G
  sector-size: "512"
  kernel-args: root=/dev/sda2 rootfstype=ext4 rootdelay=20 init=/sbin/init
  kernel-name: vmlinuz
  name: sda
  # where the input (or base) holds ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin
  syslinux-dir: /usr/share/syslinux

config:
  filesystem-tree-setup-commands: []
  filesystem-image-creation-commands: []
  partition-commands: []
  final-commands:
  - chmod 0644 %{install-root}/%{name}.img
`;
