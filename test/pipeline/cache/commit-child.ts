// Child process for the kill -9 test: commits artifacts and, on request, SIGKILLs itself at a
// chosen point inside commit (after N blob writes, or right before the ref is published).
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { FileTree } from '../../../src/fs/tree.js';
import { openCache } from '../../../src/pipeline/cache/artifacts.js';

const [root, mode, countArg, keysArg] = process.argv.slice(2) as [string, string, string, string];
const keys = keysArg.split(',');
const after = Number(countArg);
const cache = openCache(root);

if (mode === 'blobs') {
  // die after `after` blob temp files were renamed into objects/
  const real = fs.renameSync;
  let n = 0;
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    real(from, to);
    if (String(to).includes('/objects/') && ++n >= after) process.kill(process.pid, 'SIGKILL');
  }) as typeof fs.renameSync;
  syncBuiltinESMExports();
} else if (mode === 'ref') {
  // die with the ref fully written and fsynced under its temp name, before the rename
  const real = fs.renameSync;
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    if (String(from).includes('/artifacts/.tmp/')) process.kill(process.pid, 'SIGKILL');
    real(from, to);
  }) as typeof fs.renameSync;
  syncBuiltinESMExports();
}

for (const key of keys) {
  const tree = new FileTree();
  tree.mkdir('d');
  for (let i = 0; i < 200; i++) tree.file(`d/f${i}`, `${key} file ${i} `.repeat(200), { mode: i % 2 ? 0o755 : 0o4755 });
  process.stdout.write(`begin ${key}\n`);
  await cache.artifacts.commit({ project: 'p', element: 'e.bst', key }, tree, { public: {}, keys: { strong: key }, dependencies: {} });
  process.stdout.write(`done ${key}\n`);
}
