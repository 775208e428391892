/**
 * `npm run example`: the main job in one command. Builds examples/image rootless (re-pinning
 * only what the Debian archive has dropped since the refs were committed, and saying which),
 * checks both images out, boots them under qemu — image-x86_64.bst from the BIOS,
 * image-uefi-x86_64.bst from UEFI firmware (OVMF) — drives the console until `hello` prints
 * "Hello World!", and prints where the images are.
 *
 *   KILN_EXAMPLE_OUT   where the images go (default: ./image and ./image-uefi in the repository)
 *   --cache-dir DIR    passed to kiln (default: kiln's, ~/.cache/kiln)
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bootToHello, qemuArgs } from './qemu-console.js';

const repo = new URL('../', import.meta.url).pathname;
const project = join(repo, 'examples/image');
const out = resolve(process.env.KILN_EXAMPLE_OUT ?? join(repo, 'image'));
const uefiOut = `${out}-uefi`;
/** Debian's OVMF (package ovmf): UEFI firmware for qemu. */
const OVMF = { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' };
const cli = join(repo, 'dist/cli/main.js');
const cacheArgs = (() => {
  const i = process.argv.indexOf('--cache-dir');
  return i >= 0 && process.argv[i + 1] ? ['--cache-dir', resolve(process.argv[i + 1]!)] : [];
})();

function die(message: string): never {
  process.stderr.write(`\nexample: ${message}\n`);
  process.exit(1);
}

function which(tool: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', tool], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Runs kiln with the terminal attached (live progress on a TTY); resolves with the exit code. */
function kiln(args: string[]): Promise<number> {
  process.stdout.write(`\n$ kiln -C examples/image ${args.join(' ')}\n`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...cacheArgs, '-C', project, ...args], { stdio: 'inherit' });
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

async function main(): Promise<void> {
  const missing = ['bwrap', 'qemu-system-x86_64'].filter((t) => !which(t));
  if (missing.length > 0) die(`missing ${missing.join(', ')}: install the set-up packages first (README, "Quick start")`);
  if (!existsSync(OVMF.code) || !existsSync(OVMF.vars))
    die(`missing ${OVMF.code}: install the ovmf package (UEFI firmware for qemu) first (README, "Quick start")`);
  if (!existsSync(cli)) die('dist/ is missing: run `npm ci` (it builds kiln) first');
  if (process.getuid?.() === 0) process.stdout.write('example: running as root; kiln does not need it (any user can run this)\n');
  const started = Date.now();

  // --fix-missing: pins the archive dropped are re-pinned in examples/image and listed as [fix-missing]
  if ((await kiln(['build', '--fix-missing', 'image-x86_64.bst', 'image-uefi-x86_64.bst'])) !== 0) die('the build failed (see above)');
  const built = (Date.now() - started) / 1000;
  const qemu = which('qemu-system-x86_64')!;
  const lines: string[] = [];
  for (const [element, dir, uefi] of [
    ['image-x86_64.bst', out, false],
    ['image-uefi-x86_64.bst', uefiOut, true],
  ] as const) {
    if ((await kiln(['checkout', '--force', element, dir])) !== 0) die('the checkout failed (see above)');
    const image = join(dir, 'sda.img');
    if (!existsSync(image)) die(`the checkout has no ${image}`);
    // the firmware writes its variable store: a copy beside the image, as run-in-qemu.sh makes one
    const firmware = uefi ? { code: OVMF.code, vars: join(dir, 'vars.fd') } : undefined;
    if (firmware) copyFileSync(OVMF.vars, firmware.vars);
    process.stdout.write(`\nbooting ${image} under qemu ${uefi ? 'with UEFI firmware (OVMF)' : 'from the BIOS'} (software emulation; about a minute)\n`);
    await bootToHello(qemu, image, {
      ...(firmware && { uefi: firmware }),
      onMilestone: (what, t) => process.stdout.write(`  [${t.toFixed(1)}s] ${what}\n`),
    }).catch((e: Error) => die(`the boot did not reach Hello World!: ${e.message}`));
    const st = statSync(image);
    lines.push(
      `${uefi ? 'UEFI image' : 'image'}: ${image} (${(st.size / 2 ** 20).toFixed(0)} MiB, ${((st.blocks * 512) / 2 ** 20).toFixed(0)} MiB allocated)`,
      `  boot it yourself: qemu-system-x86_64 ${qemuArgs(image, firmware).join(' ')}`,
    );
  }
  process.stdout.write(`\nexample: done in ${((Date.now() - started) / 1000).toFixed(0)} s (build ${built.toFixed(0)} s)\n${lines.join('\n')}\n`);
}

await main();
