import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';

/**
 * Debian's kernel (package linux-image-amd64) as a boot test's input: the bzImage, and modules
 * copied into an initramfs tree in load order (busybox insmod neither resolves dependencies
 * nor reads compressed modules).
 */

/** Debian's kernel and its module directory. */
export function debianKernel(): { vmlinuz: string; modules: string } {
  const kernels = existsSync('/boot')
    ? readdirSync('/boot')
        .filter((n) => n.startsWith('vmlinuz-'))
        .sort()
    : [];
  for (const k of kernels.reverse()) {
    const version = k.slice('vmlinuz-'.length);
    const modules = `/lib/modules/${version}`;
    if (existsSync(join(modules, 'modules.dep'))) return { vmlinuz: join('/boot', k), modules };
  }
  throw new Error('no /boot/vmlinuz-* with its /lib/modules directory (Debian package: linux-image-amd64); run .ci/run or apt-get install it');
}

/** The modules to load for `wanted`, dependencies first (from modules.dep). */
export function moduleOrder(modulesDir: string, wanted: string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const [mod, rest] = line.split(':');
    if (mod) deps.set(mod, (rest ?? '').trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map([...deps.keys()].map((p) => [basename(p).replace(/\.ko(\.xz|\.zst|\.gz)?$/, ''), p]));
  const order: string[] = [];
  const visit = (path: string): void => {
    if (order.includes(path)) return;
    for (const d of [...(deps.get(path) ?? [])].reverse()) visit(d);
    order.push(path);
  };
  for (const name of wanted) {
    const p = byName.get(name);
    if (!p) throw new Error(`kernel module ${name} not found in ${modulesDir}/modules.dep`);
    visit(p);
  }
  return order;
}

/** Copies a module into the initramfs tree, decompressing .ko.xz/.ko.zst (busybox insmod cannot). */
export function copyModule(src: string, destDir: string): string {
  const name = basename(src).replace(/\.ko\.(xz|zst|gz)$/, '.ko');
  const dest = join(destDir, name);
  if (src.endsWith('.xz')) writeFileSync(dest, execFileSync('xz', ['-dc', src], { maxBuffer: 1 << 28 }));
  else if (src.endsWith('.zst')) writeFileSync(dest, execFileSync('zstd', ['-dc', src], { maxBuffer: 1 << 28 }));
  else if (src.endsWith('.gz')) writeFileSync(dest, execFileSync('gzip', ['-dc', src], { maxBuffer: 1 << 28 }));
  else copyFileSync(src, dest);
  return name;
}

/** The disk and ext4 modules (crc64_rocksoft_generic only where the kernel has it), in load order, copied into `destDir`. */
export function copyDiskModules(modules: string, destDir: string): string[] {
  const wanted = ['crc32c_generic', 'crct10dif_generic', 'crc64_rocksoft_generic', 'ata_piix', 'sd_mod', 'ext4'].filter(
    (m) => m !== 'crc64_rocksoft_generic' || readFileSync(join(modules, 'modules.dep'), 'utf8').includes('crc64_rocksoft_generic.ko'),
  );
  return moduleOrder(modules, wanted).map((p) => copyModule(join(modules, p), destDir));
}
