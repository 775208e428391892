import { build, type BuildOptions } from 'esbuild';

/**
 * Bundles a module for the browser with esbuild (`--platform=browser`, no shims) and reports
 * what in it needs Node: imports esbuild cannot resolve in a browser (`node:*`, Node built-ins
 * such as `fs` or `buffer`) and free references to the globals `Buffer` and `process`.
 */
export interface BrowserBundle {
  /** The bundle, when it built. */
  code?: string;
  /** Node built-ins (or other modules) a browser cannot load, with the file importing them. */
  unresolved: string[];
  /** Free references to Buffer / process, with a little of the code around them. */
  nodeGlobals: string[];
}

const MARK = '__kiln_node_global_';
const GLOBALS = ['Buffer', 'process', 'global', 'setImmediate', '__dirname', '__filename', 'require'];

export async function bundleForBrowser(entry: string, options: Pick<BuildOptions, 'minify' | 'format'> = {}): Promise<BrowserBundle> {
  const define: Record<string, string> = {};
  for (const g of GLOBALS) {
    define[g] = `${MARK}${g}`;
    define[`globalThis.${g}`] = `${MARK}${g}`;
  }
  try {
    const r = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: options.format ?? 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      minify: options.minify ?? false,
      define,
    });
    const code = r.outputFiles[0]!.text;
    const nodeGlobals = [...code.matchAll(new RegExp(`.{0,60}${MARK}(\\w+).{0,30}`, 'g'))].map((m) => `${m[1]}: ${m[0].replaceAll(MARK, '')}`);
    // The bundle that runs must not hold the markers: build it again without them.
    const clean = nodeGlobals.length
      ? code
      : (
          await build({
            entryPoints: [entry],
            bundle: true,
            platform: 'browser',
            format: options.format ?? 'esm',
            target: 'es2022',
            write: false,
            logLevel: 'silent',
            minify: options.minify ?? false,
          })
        ).outputFiles[0]!.text;
    return { code: clean, unresolved: [], nodeGlobals };
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string } | null }[] }).errors;
    if (!errors) throw e;
    return { unresolved: errors.map((x) => `${x.text}${x.location ? ` (in ${x.location.file})` : ''}`), nodeGlobals: [] };
  }
}
