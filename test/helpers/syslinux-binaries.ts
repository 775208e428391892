import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tools.js';

/**
 * The SYSLINUX BIOS binaries for tests, taken from Debian's packages: ldlinux.bss,
 * ldlinux.sys and ldlinux.c32 are compiled into the `syslinux` installer, so they are carved
 * out of it (one build, so their magic numbers match); mbr.bin is a plain file of
 * `syslinux-common`. The set is cached in a temp directory keyed by the installer's bytes.
 */

const MBR_BIN = '/usr/lib/syslinux/mbr/mbr.bin';
const LDLINUX_MAGIC = [0xfe, 0x02, 0xb2, 0x3e];

function matchAt(data: Uint8Array, at: number, bytes: ArrayLike<number>): boolean {
  if (at < 0 || at + bytes.length > data.length) return false;
  for (let i = 0; i < bytes.length; i++) if (data[at + i] !== bytes[i]) return false;
  return true;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

function findAll(data: Uint8Array, needle: number[], from = 0): number[] {
  const out: number[] = [];
  for (let i = from; i + needle.length <= data.length; i++) if (data[i] === needle[0] && matchAt(data, i, needle)) out.push(i);
  return out;
}

/** A plausible ELF header (class 32/64, little-endian, version 1), not just the 4-byte magic. */
function isElfHeader(data: Uint8Array, at: number): boolean {
  return matchAt(data, at, [0x7f, 0x45, 0x4c, 0x46]) && (data[at + 4] === 1 || data[at + 4] === 2) && data[at + 5] === 1 && data[at + 6] === 1;
}

/** The length of a 32-bit ELF object: the end of its section header table or last section. */
function elfLength(data: Uint8Array, at: number): number {
  const view = new DataView(data.buffer, data.byteOffset + at);
  if (data[at + 4] !== 1) throw new Error('ldlinux.c32 inside the installer is not a 32-bit ELF object');
  const shoff = view.getUint32(0x20, true);
  const shentsize = view.getUint16(0x2e, true);
  const shnum = view.getUint16(0x30, true);
  let end = shoff + shentsize * shnum;
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    const type = view.getUint32(sh + 4, true);
    const off = view.getUint32(sh + 16, true);
    const size = view.getUint32(sh + 20, true);
    if (type !== 8 /* NOBITS */) end = Math.max(end, off + size);
  }
  return end;
}

export interface CarvedSyslinux {
  bss: Uint8Array;
  sys: Uint8Array;
  c32: Uint8Array;
}

/** Carves the three ldlinux parts out of the installer binary (docs/syslinux.md#where-the-binaries-come-from). */
export function carveSyslinux(installer: Uint8Array): CarvedSyslinux {
  const bssAt = findAll(installer, ascii('SYSLINUX'))
    .map((i) => i - 3)
    .filter((i) => i >= 0 && matchAt(installer, i + 0x1f8, LDLINUX_MAGIC) && installer[i + 0x1fe] === 0x55 && installer[i + 0x1ff] === 0xaa);
  if (bssAt.length !== 1) throw new Error(`expected one ldlinux.bss boot sector in the syslinux installer, found ${bssAt.length}`);
  const sysAt = findAll(installer, ascii('\r\nSYSLINUX ')).filter((i) => {
    for (let m = i; m < i + 64; m += 1) if (matchAt(installer, m, LDLINUX_MAGIC) && (m - i) % 4 === 0) return true;
    return false;
  });
  if (sysAt.length !== 1) throw new Error(`expected one ldlinux.sys image in the syslinux installer, found ${sysAt.length}`);
  const sysStart = sysAt[0]!;
  let elfAt = -1;
  for (const i of findAll(installer, [0x7f, 0x45, 0x4c, 0x46], sysStart)) {
    if (isElfHeader(installer, i)) {
      elfAt = i;
      break;
    }
  }
  if (elfAt < 0) throw new Error('no ldlinux.c32 ELF object after ldlinux.sys in the syslinux installer');
  const sysEnd = sysStart + Math.floor((elfAt - sysStart) / 512) * 512;
  return {
    bss: installer.slice(bssAt[0]!, bssAt[0]! + 512),
    sys: installer.slice(sysStart, sysEnd),
    c32: installer.slice(elfAt, elfAt + elfLength(installer, elfAt)),
  };
}

let cached: string | undefined;

/**
 * A directory holding ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin from the host's
 * Debian packages, created once per installer build and reused.
 */
export function syslinuxBinariesDir(): string {
  if (cached && existsSync(join(cached, 'mbr.bin'))) return cached;
  const installerPath = requireTool('syslinux');
  if (!existsSync(MBR_BIN)) throw new Error(`${MBR_BIN} is missing (Debian package: syslinux-common); run .ci/run or apt-get install it`);
  const installer = new Uint8Array(readFileSync(installerPath));
  const mbr = new Uint8Array(readFileSync(MBR_BIN));
  const key = createHash('sha256').update(installer).update(mbr).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `kiln-syslinux-${key}`);
  if (!existsSync(join(dir, 'mbr.bin'))) {
    const parts = carveSyslinux(installer);
    const tmp = `${dir}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'ldlinux.bss'), parts.bss);
    writeFileSync(join(tmp, 'ldlinux.sys'), parts.sys);
    writeFileSync(join(tmp, 'ldlinux.c32'), parts.c32);
    writeFileSync(join(tmp, 'mbr.bin'), mbr);
    try {
      renameSync(tmp, dir);
    } catch {
      // Another test process carved the same set first.
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (statSync(join(dir, 'ldlinux.sys')).size === 0) throw new Error(`${dir}/ldlinux.sys is empty`);
  cached = dir;
  return dir;
}
