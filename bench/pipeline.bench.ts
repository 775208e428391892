import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { benchWorkDir, kilnArgs, measure, printTable, type BenchSuite } from './harness.js';

/**
 * `kiln show` and a no-op `kiln build` of a generated 200-element project (goal: the no-op build
 * under 1 s). The project is built once first (that first build is reported too): a busybox base
 * (from Debian's busybox-static) imported with a local source, then alternating manual elements
 * (one sandbox command each) and import elements, each depending on up to three earlier ones,
 * and a stack on top.
 */

const N = 200;

function busyboxBase(dir: string): void {
  const which = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' });
  const busybox = which.stdout.trim();
  if (which.status !== 0 || !busybox) throw new Error('the pipeline bench needs busybox (Debian package busybox-static)');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(busybox, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const rel of spawnSync(busybox, ['--list-full'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
    if (rel === 'bin/busybox' || rel === 'linuxrc') continue;
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    if (!existsSync(join(dir, rel))) symlinkSync('/bin/busybox', join(dir, rel));
  }
}

export function generateBuildProject(dir: string, n: number): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'elements'), { recursive: true });
  busyboxBase(join(dir, 'files/base'));
  writeFileSync(join(dir, 'project.conf'), 'name: bench\nelement-path: elements\n');
  writeFileSync(join(dir, 'elements/base.bst'), 'kind: import\nsources:\n- kind: local\n  path: files/base\n');
  for (let i = 0; i < n - 2; i++) {
    const deps = [i - 1, i - 7, i - 31]
      .filter((d) => d >= 0)
      .map((d) => `- filename: e${d}.bst\n  type: ${d % 3 === 0 ? 'build' : d % 3 === 1 ? 'runtime' : 'all'}\n`);
    if (i % 2 === 0) {
      writeFileSync(
        join(dir, 'elements', `e${i}.bst`),
        `kind: manual\ndepends:\n- filename: base.bst\n  type: build\n${deps.join('')}config:\n  install-commands:\n  - mkdir -p %{install-root}/usr/share/e${i} && echo e${i} > %{install-root}/usr/share/e${i}/stamp\n`,
      );
    } else {
      mkdirSync(join(dir, 'files', `e${i}`), { recursive: true });
      writeFileSync(join(dir, 'files', `e${i}`, `e${i}.txt`), `element ${i}\n`);
      writeFileSync(
        join(dir, 'elements', `e${i}.bst`),
        `kind: import\n${deps.length ? `depends:\n${deps.join('')}` : ''}sources:\n- kind: local\n  path: files/e${i}\nconfig:\n  target: /usr/share/e${i}\n`,
      );
    }
  }
  writeFileSync(join(dir, 'elements/top.bst'), `kind: stack\ndepends:\n${Array.from({ length: n - 2 }, (_, i) => `- e${i}.bst\n`).join('')}`);
}

const suite: BenchSuite = {
  description: `kiln show and a no-op kiln build of a generated ${N}-element project (goal: no-op build < 1 s)`,
  run() {
    const work = join(benchWorkDir(), `pipeline-build-${N}`);
    const project = join(work, 'project');
    const cache = join(work, 'cache');
    generateBuildProject(project, N);
    rmSync(cache, { recursive: true, force: true });
    const kiln = (args: string[]) => kilnArgs(['--cache-dir', cache, '-C', project, ...args]);
    const first = measure('first build (--builders 2)', ...kiln(['build', '--builders', '2', 'top.bst']), { repeat: 1 });
    const showCold = measure('show (all built)', ...kiln(['show', 'top.bst']));
    const noop = measure('no-op build', ...kiln(['build', 'top.bst']));
    const json = measure('show --json', ...kiln(['show', '--json', 'top.bst']));
    printTable(`pipeline, ${N} elements`, [first, showCold, json, noop], []);
    process.stdout.write(`no-op build: ${noop.wall.toFixed(2)} s (goal < 1 s: ${noop.wall < 1 ? 'met' : 'NOT met'})\n`);
  },
};
export default suite;
