import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A generated BuildStream-format project for pipeline benches: `n` build elements (alternating
 * manual and autotools, each with a local source and one to three dependencies of mixed types)
 * and `top.bst`, a stack depending on all of them. Deterministic: the same n gives the same files.
 */
export function generatePipelineProject(dir: string, n = 200): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'elements'), { recursive: true });
  writeFileSync(join(dir, 'project.conf'), 'name: generated\nelement-path: elements\n');
  for (let i = 0; i < n; i++) {
    mkdirSync(join(dir, 'files', `e${i}`), { recursive: true });
    writeFileSync(join(dir, 'files', `e${i}`, 'Makefile'), `all:\n\techo e${i}\n`);
    const deps = [i - 1, i - 7, i - 31]
      .filter((d) => d >= 0)
      .map((d) => `- filename: e${d}.bst\n  type: ${d % 3 === 0 ? 'build' : d % 3 === 1 ? 'runtime' : 'all'}\n`);
    writeFileSync(
      join(dir, 'elements', `e${i}.bst`),
      `kind: ${i % 2 ? 'manual' : 'autotools'}\n${deps.length ? `depends:\n${deps.join('')}` : ''}` +
        `sources:\n- kind: local\n  path: files/e${i}\nconfig:\n  build-commands:\n    (>):\n    - make -C e${i} %{bindir}\n`,
    );
  }
  writeFileSync(join(dir, 'elements', 'top.bst'), `kind: stack\ndepends:\n${Array.from({ length: n }, (_, i) => `- e${i}.bst\n`).join('')}`);
  return dir;
}
