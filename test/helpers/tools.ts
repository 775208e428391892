import { execFileSync, spawnSync } from 'node:child_process';

/**
 * The oracle tools tests run. A missing tool is a test failure with a message naming the
 * Debian package, never a silent skip.
 */
const PACKAGES: Record<string, string> = {
  e2fsck: 'e2fsprogs',
  debugfs: 'e2fsprogs',
  mke2fs: 'e2fsprogs',
  'fsck.fat': 'dosfstools',
  'mkfs.fat': 'dosfstools',
  mdir: 'mtools',
  mcopy: 'mtools',
  mtype: 'mtools',
  objdump: 'binutils',
  objcopy: 'binutils',
  file: 'file',
  syslinux: 'syslinux',
  sfdisk: 'fdisk',
  blkid: 'util-linux',
  swaplabel: 'util-linux',
  cpio: 'cpio',
  'qemu-system-x86_64': 'qemu-system-x86',
  bwrap: 'bubblewrap',
  busybox: 'busybox-static',
  chromium: 'chromium',
  nginx: 'nginx',
  bst: 'buildstream',
};

export function requireTool(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v '${name}'`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || !path) {
    throw new Error(`required test tool '${name}' is not installed (Debian package: ${PACKAGES[name] ?? name}); run .ci/run or apt-get install it`);
  }
  return path;
}

/** Runs a tool and returns stdout; throws with its stderr on failure. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string | Uint8Array; allowFail?: boolean; env?: NodeJS.ProcessEnv } = {},
): { stdout: string; stderr: string; status: number } {
  requireTool(cmd);
  const r = spawnSync(cmd, args, { input: opts.input, encoding: 'utf8', maxBuffer: 1 << 28, env: opts.env ?? process.env });
  if (!opts.allowFail && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

export function runBuffer(cmd: string, args: string[]): Buffer {
  requireTool(cmd);
  return execFileSync(cmd, args, { maxBuffer: 1 << 30 });
}

/** fast-check run count: at least `min` by default, more with KILN_PROPERTY_RUNS. */
export function propertyRuns(min: number): number {
  const env = Number(process.env.KILN_PROPERTY_RUNS);
  return Number.isFinite(env) && env > min ? env : min;
}
