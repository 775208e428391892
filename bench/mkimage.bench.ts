/**
 * Whole disk: `kiln mkimage` of an MBR disk with a FAT32 /boot (kernel, initrd, SYSLINUX), an
 * ext4 root (~20,000 small files from /usr; KILN_BENCH_SMALL) and 256 MiB of swap, against the
 * equivalent shell pipeline (truncate, mkfs.fat, mcopy, syslinux, mke2fs -d, mkswap, sfdisk, dd).
 * Both get the same partition sizes. Goal (issue 3): ratio ≤ 0.2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { syslinuxBinariesDir } from '../test/helpers/syslinux-binaries.js';
import { smallFiles } from './fixtures.js';
import { benchWorkDir, kilnArgs, measure, printTable, type BenchSuite, type Measurement } from './harness.js';

const MiB = 2 ** 20;

function bootDir(work: string): { dir: string; bytes: number } {
  const dir = join(work, 'mkimage-boot');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let bytes = 0;
  for (const name of readdirSync('/boot').filter((n) => /^(vmlinuz|initrd\.img|config|System\.map)-/.test(n))) {
    try {
      copyFileSync(join('/boot', name), join(dir, name));
      bytes += statSync(join(dir, name)).size;
    } catch {
      // unreadable (not root): leave it out
    }
  }
  return { dir, bytes };
}

function du(dir: string): number {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]);
}

const suite: BenchSuite = {
  description: 'kiln mkimage (FAT32+SYSLINUX, ext4, swap) vs truncate/mkfs.fat/mcopy/syslinux/mke2fs -d/mkswap/sfdisk/dd',
  run() {
    const work = benchWorkDir();
    const root = smallFiles(Number(process.env.KILN_BENCH_SMALL ?? 20_000));
    const boot = bootDir(work);
    const binaries = syslinuxBinariesDir();
    const bootMiB = Math.max(64, Math.ceil((boot.bytes * 1.2) / MiB) + 40);
    const rootMiB = Math.ceil((du(root.dir) * 1.4) / MiB) + Math.ceil((root.files * 4096) / MiB) + 64;
    const swapMiB = 256;
    const diskMiB = 1 + bootMiB + rootMiB + swapMiB;
    process.stdout.write(
      `boot ${bootMiB} MiB (${(boot.bytes / MiB).toFixed(0)} MiB of kernel files), root ${rootMiB} MiB (${root.files} files), swap ${swapMiB} MiB\n`,
    );
    const cfg = 'SERIAL 0 115200\nDEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL /vmlinuz\n  APPEND console=ttyS0\n';
    writeFileSync(join(work, 'mkimage-syslinux.cfg'), cfg);
    const layout = join(work, 'mkimage.yaml');
    writeFileSync(
      layout,
      [
        'table: mbr',
        'partitions:',
        `  - { filesystem: fat, fat: 32, size: ${bootMiB}M, label: BOOT, bootable: true, source: ${boot.dir},`,
        `      syslinux: { binaries: ${binaries}, directory: /syslinux, config: ${join(work, 'mkimage-syslinux.cfg')} } }`,
        `  - { filesystem: ext4, size: ${rootMiB}M, label: root, source: ${root.dir} }`,
        `  - { filesystem: swap, size: ${swapMiB}M, label: swap }`,
        '',
      ].join('\n'),
    );
    const kilnOut = join(work, 'mkimage-kiln.img');
    const peerDir = join(work, 'mkimage-peer');
    const peerOut = join(work, 'mkimage-peer.img');
    spawnSync('tar', ['-cf', '/dev/null', '-C', root.dir, '.']);
    const rows: Measurement[] = [];
    const [node, argv] = kilnArgs(['mkimage', layout, kilnOut]);
    rows.push(measure('kiln mkimage', node, argv, { before: () => rmSync(kilnOut, { force: true }) }));
    const s = (mib: number): number => mib * 2048;
    const sh = [
      'set -e',
      `cd '${peerDir}'`,
      `truncate -s ${bootMiB}M boot.img && mkfs.fat -F 32 -n BOOT boot.img >/dev/null`,
      `export MTOOLS_SKIP_CHECK=1; mcopy -s -i boot.img '${boot.dir}'/* :: && mmd -i boot.img ::/syslinux && mcopy -i boot.img '${join(work, 'mkimage-syslinux.cfg')}' ::/syslinux/syslinux.cfg`,
      'syslinux --install --directory /syslinux boot.img',
      `truncate -s ${rootMiB}M root.img && mke2fs -q -t ext4 -L root -d '${root.dir}' root.img`,
      `truncate -s ${swapMiB}M swap.img && mkswap -L swap swap.img >/dev/null`,
      `truncate -s ${diskMiB}M '${peerOut}'`,
      `printf 'label: dos\\nstart=${s(1)}, size=${s(bootMiB)}, type=c, bootable\\nstart=${s(1 + bootMiB)}, size=${s(rootMiB)}, type=83\\nstart=${s(1 + bootMiB + rootMiB)}, size=${s(swapMiB)}, type=82\\n' | sfdisk -q '${peerOut}'`,
      `dd if=boot.img of='${peerOut}' bs=1M seek=1 conv=notrunc,sparse status=none`,
      `dd if=root.img of='${peerOut}' bs=1M seek=${1 + bootMiB} conv=notrunc,sparse status=none`,
      `dd if=swap.img of='${peerOut}' bs=1M seek=${1 + bootMiB + rootMiB} conv=notrunc,sparse status=none`,
      `dd if='${join(binaries, 'mbr.bin')}' of='${peerOut}' bs=440 count=1 conv=notrunc status=none`,
      'rm -f boot.img root.img swap.img',
    ].join('\n');
    rows.push(
      measure('shell pipeline', 'sh', ['-c', sh], {
        before: () => {
          rmSync(peerDir, { recursive: true, force: true });
          mkdirSync(peerDir, { recursive: true });
          rmSync(peerOut, { force: true });
        },
      }),
    );
    printTable(`MBR disk: FAT32 ${bootMiB} MiB + ext4 ${rootMiB} MiB + swap ${swapMiB} MiB`, rows, ['shell pipeline']);
    const a = spawnSync('sfdisk', ['--dump', kilnOut], { encoding: 'utf8' }).stdout;
    process.stdout.write(`kiln's table:\n${a}`);
    process.stdout.write(`allocated: kiln ${(statSync(kilnOut).blocks / 2048).toFixed(0)} MiB, pipeline ${(statSync(peerOut).blocks / 2048).toFixed(0)} MiB\n`);
    for (const p of [kilnOut, peerOut, peerDir]) if (existsSync(p)) rmSync(p, { recursive: true, force: true });
  },
};

export default suite;
