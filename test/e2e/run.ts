/**
 * The end-to-end proof (`npm run e2e`): the example project examples/image is built from its
 * committed refs by a non-root user, and both of its images are checked out, booted under qemu
 * (software emulation) and driven over the serial console until `hello` prints "Hello World!":
 * image-x86_64.bst (MBR, SYSLINUX) from qemu's BIOS, image-uefi-x86_64.bst (GPT, the EFI system
 * partition's unified kernel image) from OVMF. Then the images' partitions are checked with the
 * real tools. The build runs with `--fix-missing`: pins the
 * Debian archive has dropped since they were committed are re-pinned (in the scratch copy of the
 * project) and listed; any other failure fails the run.
 *
 *   KILN_E2E_CACHE   artifact cache directory (default: a new empty one, i.e. a cold build).
 *                    CI keeps one outside the clone so that a warm run is fast.
 *   KILN_E2E_USER    the unprivileged user to run as when started as root (default kiln-ci).
 *   KILN_E2E_BOOT_TIMEOUT  seconds to wait for the console (default 300).
 *
 * Started as root, the script re-runs itself as KILN_E2E_USER through `runuser`, because the
 * build must work rootless; the project is copied to a scratch directory that user owns.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostFileContent } from '../../src/fs/content.js';
import { bootToHello, repinnedLines } from '../../scripts/qemu-console.js';
import { requireTool, run, runBuffer } from '../helpers/tools.js';
import { ovmf } from '../helpers/uefi.js';

const repo = new URL('../../', import.meta.url).pathname;
const user = process.env.KILN_E2E_USER ?? 'kiln-ci';
const bootTimeout = Number(process.env.KILN_E2E_BOOT_TIMEOUT ?? 300) * 1000;

class E2eFailure extends Error {}

function fail(message: string): never {
  throw new E2eFailure(message);
}

function asUser(): void {
  if (spawnSync('id', [user]).status !== 0) fail(`the user '${user}' does not exist; create it (useradd -m ${user}) — .ci/run does`);
  // A clone under a private home (mode 700) is not readable by the build user: run from a
  // world-readable copy of what the test needs instead.
  let root = repo;
  let copy: string | undefined;
  if (spawnSync('runuser', ['-u', user, '--', 'test', '-r', join(repo, 'dist/cli/main.js')]).status !== 0) {
    copy = mkdtempSync(join(tmpdir(), 'kiln-e2e-repo-'));
    chmodSync(copy, 0o755);
    for (const part of ['package.json', 'dist', 'node_modules', 'src', 'test', 'scripts', 'examples'])
      cpSync(join(repo, part), join(copy, part), { recursive: true });
    console.log(`e2e: the clone is not readable by '${user}'; running from a copy in ${copy}`);
    root = copy;
  }
  const env = ['KILN_E2E_CACHE', 'KILN_E2E_BOOT_TIMEOUT'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  const r = spawnSync('runuser', ['-u', user, '--', 'env', ...env, process.execPath, '--import', 'tsx', join(root, 'test/e2e/run.ts')], {
    stdio: 'inherit',
    cwd: root,
  });
  if (copy) rmSync(copy, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}

function kiln(args: string[], cache: string, project: string): { status: number; out: string; seconds: number } {
  const started = Date.now();
  console.log(`$ kiln ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(repo, 'dist/cli/main.js'), '--cache-dir', cache, '-C', project, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = `${r.stdout}${r.stderr}`;
  process.stdout.write(out);
  return { status: r.status ?? 1, out, seconds: (Date.now() - started) / 1000 };
}

/** Per-element build times from kiln's log lines `[HH:MM:SS][key][build:name] SUCCESS`. */
function elementTimes(log: string): [string, string][] {
  const out: [string, string][] = [];
  for (const m of log.matchAll(/^\[(\d\d:\d\d:\d\d)\]\[\w*\]\[\s*build:\s*([^\]\s]+)\s*\] SUCCESS/gm)) out.push([m[2]!, m[1]!]);
  return out;
}

function carve(img: string, start: number, size: number, out: string): string {
  const reader = new HostFileContent(img, statSync(img).size).open();
  const buf = new Uint8Array(size);
  reader.read(start, buf);
  reader.close();
  writeFileSync(out, buf);
  return out;
}

let checksPassed = 0;

function check(ok: boolean, what: string, detail = ''): void {
  if (!ok) fail(`${what}${detail ? `\n${detail}` : ''}`);
  checksPassed++;
  console.log(`ok - ${what}`);
}

/** The partitions of a disk image as sfdisk --json reads them. */
function partitions(img: string, label: 'dos' | 'gpt'): { start: number; size: number; type: string; name?: string; bootable?: boolean }[] {
  const json = run('sfdisk', ['--json', img]).stdout;
  const t = (
    JSON.parse(json) as { partitiontable: { label: string; partitions: { start: number; size: number; type: string; name?: string; bootable?: boolean }[] } }
  ).partitiontable;
  check(t.label === label && t.partitions.length === 3, `sfdisk --json: a ${label} table with three partitions`, json);
  return t.partitions;
}

/** The image checks of issue 5: table, filesystems, labels, busybox and hello in the root. */
function checkImage(img: string, scratch: string): void {
  const parts = partitions(img, 'dos');
  check(!!parts[0]!.bootable && !parts[1]!.bootable && !parts[2]!.bootable, 'partition 1 is active, the others are not', JSON.stringify(parts));
  check(
    ['b', 'c', 'e', '6', '1'].includes(parts[0]!.type) && parts[1]!.type === '83' && parts[2]!.type === '82',
    'types: FAT, Linux (83), Linux swap (82)',
    JSON.stringify(parts),
  );
  checkFilesystems(img, parts, scratch);
}

/** The UEFI image (issue 16): GPT types and names of the Discoverable Partitions Specification, a FAT32 ESP holding the UKI. */
function checkUefiImage(img: string, scratch: string): void {
  const parts = partitions(img, 'gpt');
  const types = ['C12A7328-F81F-11D2-BA4B-00A0C93EC93B', '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F'];
  check(
    parts.every((p, i) => p.type === types[i]),
    'GPT types: EFI system, root (x86-64), swap',
    JSON.stringify(parts),
  );
  check(parts.map((p) => p.name).join(' ') === 'esp root swap', 'GPT names: esp, root, swap', JSON.stringify(parts));
  const esp = carve(img, parts[0]!.start * 512, parts[0]!.size * 512, join(scratch, 'esp.img'));
  check(/32 bit entries/.test(run('fsck.fat', ['-n', '-v', esp]).stdout), 'the ESP is FAT32');
  check(/LABEL="ESP"/.test(run('blkid', [esp]).stdout), 'blkid: the ESP is labelled ESP');
  writeFileSync(join(scratch, 'uki.efi'), runBuffer('mtype', ['-i', esp, '::/EFI/BOOT/BOOTX64.EFI']));
  const sections = run('objdump', ['-h', join(scratch, 'uki.efi')]).stdout;
  check(
    ['.cmdline', '.uname', '.initrd', '.linux'].every((n) => sections.includes(` ${n} `)),
    '\\EFI\\BOOT\\BOOTX64.EFI is a UKI: objdump -h shows .cmdline, .uname, .initrd and .linux',
    sections,
  );
  rmSync(join(scratch, 'uki.efi'));
  rmSync(esp);
  checkFilesystems(img, parts, scratch);
}

/** Both images: fsck of every filesystem, labels, busybox and hello in the root. */
function checkFilesystems(img: string, parts: { start: number; size: number }[], scratch: string): void {
  const [p1, p2, p3] = parts.map((p, i) => carve(img, p.start * 512, p.size * 512, join(scratch, `p${i + 1}.img`)));
  const fat = run('fsck.fat', ['-n', p1!], { allowFail: true });
  check(fat.status === 0, 'fsck.fat -n on partition 1', fat.stdout + fat.stderr);
  const ext = run('e2fsck', ['-fn', p2!], { allowFail: true });
  check(ext.status === 0, 'e2fsck -fn on partition 2', ext.stdout + ext.stderr);
  check(/LABEL="root"/.test(run('blkid', [p2!]).stdout), 'blkid: partition 2 is labelled root');
  check(/LABEL="swap"/.test(run('blkid', [p3!]).stdout) && /TYPE="swap"/.test(run('blkid', [p3!]).stdout), 'blkid: partition 3 is swap labelled swap');
  const busybox = run('debugfs', ['-R', 'stat /bin/busybox', p2!]).stdout;
  check(/Mode:\s+06755/.test(busybox) && /User:\s+0\s+Group:\s+0/.test(busybox), 'root holds /bin/busybox mode 6755 owned 0:0', busybox);
  check(/Type: regular/.test(run('debugfs', ['-R', 'stat /usr/bin/hello', p2!]).stdout), 'root holds /usr/bin/hello');
  for (const p of [p1!, p2!, p3!]) rmSync(p);
}

async function main(): Promise<void> {
  if (process.getuid?.() === 0) return asUser();
  for (const t of ['bwrap', 'qemu-system-x86_64', 'sfdisk', 'fsck.fat', 'e2fsck', 'blkid', 'debugfs', 'mtype', 'objdump']) requireTool(t);
  if (!existsSync(join(repo, 'dist/cli/main.js'))) fail('dist/ is missing: run `npm run build` first (npm run e2e does)');
  const scratch = mkdtempSync(join(tmpdir(), 'kiln-e2e-'));
  const cache = process.env.KILN_E2E_CACHE ?? join(scratch, 'cache');
  mkdirSync(cache, { recursive: true });
  const project = join(scratch, 'project');
  cpSync(join(repo, 'examples/image'), project, { recursive: true });
  console.log(`e2e: user ${process.getuid?.()}, cache ${cache}, project copy ${project}`);
  try {
    const built = kiln(['build', '--fix-missing', 'image-x86_64.bst', 'image-uefi-x86_64.bst'], cache, project);
    if (built.status !== 0) fail(`kiln build failed (exit ${built.status})`);
    const repinned = repinnedLines(built.out);
    console.log(
      repinned.length === 0
        ? '\ne2e: every committed pin was still available'
        : `\ne2e: the archive moved since the refs were committed; re-pinned:\n${repinned.map((l) => `  ${l}`).join('\n')}`,
    );
    const times = elementTimes(built.out);
    console.log(`\nbuild: ${built.seconds.toFixed(1)} s in total; per element (elements already cached are not listed):`);
    for (const [name, t] of times) console.log(`  ${t}  ${name}`);
    const image = join(scratch, 'image');
    const out = kiln(['checkout', 'image-x86_64.bst', image], cache, project);
    if (out.status !== 0) fail(`kiln checkout failed (exit ${out.status})`);
    const img = join(image, 'sda.img');
    check(existsSync(img) && existsSync(join(image, 'run-in-qemu.sh')), 'checkout has sda.img and run-in-qemu.sh');
    const st = statSync(img);
    console.log(`sda.img: ${st.size} bytes apparent, ${st.blocks * 512} bytes allocated`);
    const transcript = await bootToHello(requireTool('qemu-system-x86_64'), img, {
      timeoutMs: bootTimeout,
      onMilestone: (what, t) => console.log(`[${t.toFixed(1)}s] ${what}`),
    }).catch((e: Error) => fail(e.message));
    check(transcript.includes('Hello World!'), 'booted to a shell where hello prints Hello World!');
    checkImage(img, scratch);

    const uefiImage = join(scratch, 'image-uefi');
    const uefiOut = kiln(['checkout', 'image-uefi-x86_64.bst', uefiImage], cache, project);
    if (uefiOut.status !== 0) fail(`kiln checkout of the UEFI image failed (exit ${uefiOut.status})`);
    const uefiImg = join(uefiImage, 'sda.img');
    check(existsSync(uefiImg) && existsSync(join(uefiImage, 'run-in-qemu.sh')), 'the UEFI checkout has sda.img and run-in-qemu.sh');
    console.log('booting the UEFI image under OVMF');
    const uefiTranscript = await bootToHello(requireTool('qemu-system-x86_64'), uefiImg, {
      timeoutMs: bootTimeout,
      uefi: ovmf(scratch),
      onMilestone: (what, t) => console.log(`[${t.toFixed(1)}s] ${what}`),
    }).catch((e: Error) => fail(e.message));
    check(uefiTranscript.includes('Hello World!'), 'the UEFI image booted under OVMF to a shell where hello prints Hello World!');
    checkUefiImage(uefiImg, scratch);
    console.log(`\ne2e: ${checksPassed} passed, 0 failed`);
    if (process.env.KILN_E2E_TRANSCRIPT) writeFileSync(process.env.KILN_E2E_TRANSCRIPT, `${transcript}\n--- UEFI ---\n${uefiTranscript}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  console.error(`\ne2e FAILED: ${e instanceof E2eFailure ? e.message : ((e as Error).stack ?? String(e))}`);
  console.log(`\ne2e: ${checksPassed} passed, 1 failed`);
  process.exit(1);
}
