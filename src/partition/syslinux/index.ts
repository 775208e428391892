/** SYSLINUX (BIOS) installation onto FAT, without the installer. */
export { installSyslinux, generateExtents, SYSLINUX_ATTRIBUTES, type SyslinuxInstallOptions, type SyslinuxInstallResult } from './install.js';
export { loadSyslinuxBinaries, type SyslinuxBinaries } from './binaries.js';
export { encodeAdv } from './adv.js';
