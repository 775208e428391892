/** SYSLINUX (BIOS) installation onto FAT, without the installer. */
export {
  installSyslinux,
  generateExtents,
  SYSLINUX_ATTRIBUTES,
  type SyslinuxInstallOptions,
  type SyslinuxInstallResult,
  type SyslinuxBinaries,
} from './install.js';
export { loadSyslinuxBinaries } from './binaries.js';
export { encodeAdv } from './adv.js';
