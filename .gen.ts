import { writeProject, MINIMAL_CONF } from './test/pipeline/load/project-files.js';
const files: Record<string, string> = { 'project.conf': MINIMAL_CONF };
const N = 200;
for (let i = 0; i < N; i++) {
  const deps = [i - 1, i - 7, i - 31].filter((d) => d >= 0).map((d) => `- filename: e${d}.bst\n  type: ${d % 3 === 0 ? 'build' : d % 3 === 1 ? 'runtime' : 'all'}\n`);
  files[`elements/e${i}.bst`] = `kind: ${i % 2 ? 'manual' : 'autotools'}\n${deps.length ? `depends:\n${deps.join('')}` : ''}sources:\n- kind: local\n  path: files/e${i}\nconfig:\n  build-commands:\n    (>):\n    - make -C e${i} %{bindir}\n`;
}
files['elements/top.bst'] = `kind: stack\ndepends:\n${Array.from({ length: N }, (_, i) => `- e${i}.bst\n`).join('')}`;
console.log(writeProject(files));
