/**
 * `npm run docs`: the API reference, generated from the doc comments by TypeDoc, into
 * docs/api/ (HTML, plus docs/api/api.json, the same in TypeDoc's JSON form). Not committed:
 * the script is the reference's source; test/docs/api-docs.test.ts runs it and checks that
 * every export of src/entry/*.ts is documented.
 *
 * TypeDoc reads the sources through the TypeScript compiler API, which TypeScript 7 (the
 * project's compiler, a native binary) does not offer. TypeDoc 0.28 supports TypeScript up to
 * 6.0, so the devDependency `typescript-6` (npm:typescript@6.0) is the one it gets: a resolve
 * hook sends TypeDoc's imports of 'typescript' there (package.json's override keeps npm from
 * installing a second copy under the name 'typescript').
 *
 *   npm run docs [-- --out DIR]
 */
import { register } from 'node:module';
import { join, resolve } from 'node:path';

const repo = new URL('../', import.meta.url).pathname;
const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex >= 0 && process.argv[outIndex + 1] ? process.argv[outIndex + 1]! : join(repo, 'docs/api'));

const hook = `
export async function resolve(specifier, context, next) {
  if (specifier === 'typescript' && context.parentURL && context.parentURL.includes('/node_modules/typedoc/')) {
    return next('typescript-6', context);
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url);

const { Application, LogLevel } = await import('typedoc');

const ENTRIES = ['fs', 'partition', 'node', 'pipeline'].map((e) => join(repo, 'src/entry', `${e}.ts`));

const app = await Application.bootstrapWithPlugins({
  entryPoints: ENTRIES,
  entryPointStrategy: 'resolve',
  tsconfig: join(repo, 'tsconfig.json'),
  name: 'kiln-image',
  readme: 'none',
  out,
  json: join(out, 'api.json'),
  // TypeScript 6 checks code written for 7: the reference needs the declarations, not a second type check.
  skipErrorChecking: true,
  excludePrivate: true,
  excludeInternal: true,
  githubPages: false,
  disableSources: true,
  logLevel: LogLevel.Warn,
  validation: { notExported: false, invalidLink: false, rewrittenLink: false, unusedMergeModuleWith: false },
});
const project = await app.convert();
if (!project) {
  process.stderr.write('docs: TypeDoc could not convert the sources\n');
  process.exit(1);
}
await app.generateOutputs(project);
process.stdout.write(`docs: API reference in ${out} (index.html, api.json)\n`);
