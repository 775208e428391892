import { cpSync, statSync } from 'node:fs';

/**
 * The second half of `npm run build`: tsc compiles src/ into dist/ but copies nothing else, and
 * the element kinds read their default YAML (src/pipeline/kinds/<kind>.yaml) from beside their
 * compiled module at run time. So every YAML file under src/ goes to the same place under dist/.
 */
const src = new URL('../src/', import.meta.url);
const dist = new URL('../dist/', import.meta.url);
cpSync(src, dist, { recursive: true, filter: (from) => statSync(from).isDirectory() || from.endsWith('.yaml') });
