import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
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

/**
 * A dynamic import, as esbuild finds it in a source (`typeof import(...)` is a type), and the
 * module it names; `yaml` and the built-ins are not kiln's modules.
 */
const DYNAMIC_IMPORT = /(?<!typeof\s)\bimport\((['"])(\.[^'"]+)\1\)/g;

function importedModule(importer: string, specifier: string): string {
  return resolve(dirname(importer), specifier).replace(/\.js$/, '.ts');
}

/**
 * Which group of modules a dynamic import loads. esbuild makes a chunk of the modules reached by
 * the same set of dynamically imported modules, and Node pays for each chunk it loads (resolving,
 * reading, compiling, linking: about a millisecond each); with every dynamic import its own entry,
 * a no-op build loaded 30 chunks. Grouped, the sets are fewer, and so are the chunks:
 *   - the pipeline and the command families that load it (show, build, ...) are one group: any of
 *     them needs the pipeline;
 *   - every other command family is a group of its own (a writer's command loads no other's);
 *   - the pipeline's own dynamic imports (a build's image writers, Debian tools) are one group;
 *   - elsewhere, what one module imports dynamically is one group (mkimage's layout, planner and
 *     disk writer load together).
 * A group is a module exporting each member's namespace; `import('./x.js')` becomes the import of
 * its group, then x's namespace.
 */
function groupOf(importer: string, target: string, loadsPipeline: (family: string) => boolean): string {
  const from = relative(src, importer);
  if (relative(src, target) === 'pipeline/pipeline.ts') return 'pipeline';
  if (from === 'cli/commands/index.ts') return loadsPipeline(target) ? 'pipeline' : relative(src, target);
  if (from.startsWith('pipeline/')) return 'pipeline-build';
  return from;
}

/** Every group, with its members: the dynamic imports of every source under src/. */
function dynamicImportGroups(): Map<string, Set<string>> {
  const sources = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) sources.set(path, readFileSync(path, 'utf8'));
    }
  };
  walk(src);
  const pipeline = join(src, 'pipeline/pipeline.ts');
  const loadsPipeline = (family: string): boolean =>
    [...(sources.get(family) ?? '').matchAll(DYNAMIC_IMPORT)].some((m) => importedModule(family, m[2]!) === pipeline);
  const groups = new Map<string, Set<string>>();
  for (const [path, text] of sources) {
    for (const m of text.matchAll(DYNAMIC_IMPORT)) {
      const target = importedModule(path, m[2]!);
      const group = groupOf(path, target, loadsPipeline);
      if (!groups.has(group)) groups.set(group, new Set());
      groups.get(group)!.add(target);
    }
  }
  return groups;
}

/** A member's name in its group module. */
function memberName(path: string): string {
  return relative(src, path).replace(/[^A-Za-z0-9]/g, '_');
}

/**
 * Sources as tsc sees them, with two changes for the bundle: dynamic imports load their group
 * (see `groupOf`), and each module's `import.meta.url` is the URL of the module tsc emitted for
 * it (see the top).
 */
function kilnSources(groups: Map<string, Set<string>>): Plugin {
  const groupNames = new Map<string, string>();
  for (const [group, members] of groups) for (const m of members) groupNames.set(m, group);
  return {
    name: 'kiln-sources',
    setup(b) {
      b.onResolve({ filter: /^kiln-group:/ }, (args) => ({ path: args.path.slice('kiln-group:'.length), namespace: 'kiln-group' }));
      b.onLoad({ filter: /.*/, namespace: 'kiln-group' }, (args) => ({
        contents: [...groups.get(args.path)!].map((m) => `export * as ${memberName(m)} from ${JSON.stringify(m)};`).join('\n'),
        loader: 'ts',
        resolveDir: src,
      }));
      b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        const from = relative(join(src, 'cli'), join(src, relative(src, args.path).replace(/\.ts$/, '.js')));
        const url = `new URL(${JSON.stringify(from.startsWith('.') ? from : `./${from}`)}, import.meta.url).href`;
        const contents = text.replaceAll('import.meta.url', url).replace(DYNAMIC_IMPORT, (whole, _quote: string, specifier: string) => {
          const target = importedModule(args.path, specifier);
          const group = groupNames.get(target);
          return group === undefined ? whole : `import(${JSON.stringify(`kiln-group:${group}`)}).then((g) => g.${memberName(target)})`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}

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
  // split chunks only its default export; and most commands never load it (yaml-package.ts).
  // cpio-stream calls the deprecated Buffer(): Node warns about that on stderr unless the caller
  // lies in node_modules, so it is loaded from there.
  external: ['yaml', 'cpio-stream'],
  // bundled CommonJS dependencies call require
  banner: { js: "import { createRequire as kilnRequire } from 'node:module';\nconst require = kilnRequire(import.meta.url);" },
  // V8 compiles a minified chunk in about half the time (measured: 50 -> 29 ms of a no-op build);
  // the source maps beside them give readable stack traces (node --enable-source-maps)
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  plugins: [kilnSources(dynamicImportGroups()), lazyChildProcess],
  define: { KILN_BUNDLE_IDENTITY: JSON.stringify(sourceIdentity()) },
});
