import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The last step of `npm run build`: the CLI bundled by esbuild into dist/cli/main.js, over the
 * file tsc emitted there (so `bin`, the tests and the benchmarks all run the bundle), with the
 * modules that commands load on use split off beside it (`kiln-<hash>.js`). Node resolving,
 * reading and compiling the ~150 modules of a `kiln build` took about half of a no-op build;
 * the bundle is a few dozen files. The library entries (dist/index.js, dist/entry/) stay as tsc
 * emits them.
 *
 * A module that finds a file beside itself (`new URL('./x.yaml', import.meta.url)`: the kinds'
 * default YAML, package.json, the load cache's view of kiln's own modules) would look beside the
 * bundle instead; so each module's `import.meta.url` is replaced by the URL of the module tsc
 * emitted for it, which has those files beside it (copy-yaml.ts puts the YAML there).
 */

const src = fileURLToPath(new URL('../src/', import.meta.url));
const outdir = fileURLToPath(new URL('../dist/cli/', import.meta.url));
const CHUNK = 'kiln-';

const emittedUrl: Plugin = {
  name: 'emitted-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const from = relative(join(src, 'cli'), join(src, relative(src, args.path).replace(/\.ts$/, '.js')));
      const url = `new URL(${JSON.stringify(from.startsWith('.') ? from : `./${from}`)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

/**
 * What the bundle was built from, for the load cache's key (load/cache.ts): every source file
 * and default YAML under src/ (a listing and a stat of tsc's modules at each start would cost
 * more than the rest of reading the load cache), and the version.
 */
function sourceIdentity(): string {
  const hash = createHash('sha256').update(readFileSync(new URL('../package.json', import.meta.url)));
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (/\.(ts|yaml)$/.test(e.name)) hash.update(`${relative(src, path)}\0`).update(readFileSync(path));
    }
  };
  walk(src);
  return hash.digest('hex');
}

// the chunks of an earlier build
for (const name of readdirSync(outdir)) if (name.startsWith(CHUNK)) rmSync(join(outdir, name));

await build({
  entryPoints: { main: join(src, 'cli/main.ts') },
  outdir,
  chunkNames: `${CHUNK}[hash]`,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Node's own loader gives `yaml` (CommonJS) its named exports on a dynamic import, esbuild's
  // split chunks only its default export; and most commands never load it (yaml-package.ts)
  external: ['yaml'],
  // bundled CommonJS dependencies call require
  banner: { js: "import { createRequire as kilnRequire } from 'node:module';\nconst require = kilnRequire(import.meta.url);" },
  // V8 compiles a minified chunk in about half the time (measured: 50 -> 29 ms of a no-op build);
  // the source maps beside them give readable stack traces (node --enable-source-maps)
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  plugins: [emittedUrl],
  define: { KILN_BUNDLE_IDENTITY: JSON.stringify(sourceIdentity()) },
});
