import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandFamilies } from '../src/cli/commands/index.js';

/**
 * The last step of `npm run build`: the CLI bundled by esbuild, over the files tsc emitted in
 * dist/cli/ (so `bin`, the tests and the benchmarks all run the bundle):
 *   - dist/cli/kiln.cjs: the whole CLI as one CommonJS file (from src/cli/start.ts). A module a
 *     command imports on use is still evaluated on first use only;
 *   - dist/cli/main.js, the bin (from src/cli/bundle-main.ts): it compiles kiln.cjs with V8's code
 *     cache (src/cli/code-cache.ts), which Node 20 offers for scripts but not for modules. Node
 *     resolving, reading and compiling the ~150 modules of a `kiln build` took about half of a
 *     no-op build; compiling the bundle without a cache, a fifth.
 * The library entries (dist/index.js, dist/entry/) stay as tsc emits them.
 *
 * A module that finds a file beside itself (`new URL('./x.yaml', import.meta.url)`: the kinds'
 * default YAML, package.json, the load cache's view of kiln's own modules) would look beside the
 * bundle instead; so each module's `import.meta.url` is replaced by the URL of the module tsc
 * emitted for it, which has those files beside it (copy-yaml.ts puts the YAML there).
 */

const src = fileURLToPath(new URL('../src/', import.meta.url));
const outdir = fileURLToPath(new URL('../dist/cli/', import.meta.url));
const BUNDLE = 'kiln.cjs';

/**
 * Sources as tsc sees them, but for each module's `import.meta.url`: the URL of the module tsc
 * emitted for it, relative to the bundle's (see the top).
 */
const kilnSources: Plugin = {
  name: 'kiln-sources',
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
 * commander requires node:child_process when it loads, for subcommands run as executables, which
 * kiln has none of: it gets the module on first use instead (about as costly to load as the
 * whole of commander).
 */
const lazyChildProcess: Plugin = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /\/node_modules\/commander\//.test(args.importer) ? { path: 'child_process', namespace: 'kiln-lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'kiln-lazy-builtin' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => process.getBuiltinModule('node:child_process')[name] });",
      loader: 'js',
    }));
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

// what earlier builds left beside tsc's modules: split chunks (kiln-<hash>.js) and their maps
for (const name of readdirSync(outdir)) if (/^kiln-[A-Z0-9]+\.js(\.map)?$/.test(name)) rmSync(join(outdir, name));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // V8 compiles a minified bundle in about half the time (measured: 50 -> 29 ms of a no-op build,
  // before the code cache); the source maps beside them give readable stack traces (node --enable-source-maps)
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
} as const;

await build({
  ...common,
  entryPoints: [join(src, 'cli/start.ts')],
  outfile: join(outdir, BUNDLE),
  format: 'cjs',
  // Node's own require gives `yaml` its CommonJS build on first use (yaml-package.ts): most
  // commands never load it. cpio-stream calls the deprecated Buffer(): Node warns about that on
  // stderr unless the caller lies in node_modules, so it is loaded from there.
  external: ['yaml', 'cpio-stream'],
  // The file is the function Node's require would wrap it in (code-cache.ts compiles it as it
  // is: wrapping it there would hold the bundle's text twice), with import.meta (the tsx-only
  // branch of writer-thread.ts reads import.meta.resolve).
  banner: {
    js: "(function (exports, require, module, __filename, __dirname) {\n'use strict';\nconst kilnImportMeta = { url: require('node:url').pathToFileURL(__filename).href };",
  },
  footer: { js: '})' },
  plugins: [kilnSources, lazyChildProcess],
  define: { KILN_BUNDLE_IDENTITY: JSON.stringify(sourceIdentity()), 'import.meta': 'kilnImportMeta' },
});

await build({
  ...common,
  entryPoints: { main: join(src, 'cli/bundle-main.ts') },
  outdir,
  format: 'esm',
  define: {
    KILN_CLI_BUNDLE_ID: JSON.stringify(
      createHash('sha256')
        .update(readFileSync(join(outdir, BUNDLE)))
        .digest('hex')
        .slice(0, 16),
    ),
    KILN_COMMAND_WORDS: JSON.stringify([...new Set(commandFamilies.flatMap((f) => f.words))]),
  },
});
