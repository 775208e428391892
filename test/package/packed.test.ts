import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The packed package as an embedder gets it: `npm pack` (prepack builds dist), installed
 * offline from the tarball into a fresh project, then programs that use every export of each
 * entry compiled with TypeScript's strictest settings and no skipLibCheck: the browser
 * entries with the DOM library and without @types/node, the Node entries with it. Then the
 * programs run from the installed package.
 */
const repo = new URL('../..', import.meta.url).pathname;
const tsc = join(repo, 'node_modules/.bin/tsc');
const dir = mkdtempSync(join(tmpdir(), 'kiln-packed-'));
const project = join(dir, 'project');

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The names an entry's declaration file exports: values and types apart. */
function exportsOf(entry: string): { values: string[]; types: string[] } {
  const dts = readFileSync(join(repo, 'dist/entry', `${entry}.d.ts`), 'utf8');
  const values: string[] = [];
  const types: string[] = [];
  for (const m of dts.matchAll(/export (type )?\{([\s\S]*?)\} from/g)) {
    for (const raw of m[2]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const isType = !!m[1] || raw.startsWith('type ');
      const name = raw
        .replace(/^type /, '')
        .split(/\s+as\s+/)
        .pop()!;
      (isType ? types : values).push(name);
    }
  }
  return { values, types };
}

/** A program naming every export of the entries (values referenced, types used). */
function everyExport(entries: string[]): string {
  const lines: string[] = [];
  const all: string[] = [];
  for (const e of entries) {
    const { values, types } = exportsOf(e);
    const alias = (n: string): string => `${e}_${n}`;
    lines.push(
      `import { ${[...values.map((n) => `${n} as ${alias(n)}`), ...types.map((n) => `type ${n} as ${alias(n)}`)].join(', ')} } from 'kiln-image/${e}';`,
    );
    lines.push(`export const ${e}Values = [${values.map(alias).join(', ')}] as const;`);
    lines.push(`export type ${e}Types = [${types.map(alias).join(', ')}];`);
    all.push(...values, ...types);
  }
  lines.push(`export const exportCount = ${all.length};`);
  return `${lines.join('\n')}\n`;
}

type LockEntry = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; dev?: boolean; [key: string]: unknown };

/**
 * The embedder's lockfile: kiln-image from the tarball, its dependencies pinned as the
 * repository's lockfile pins them, so that `npm ci --offline` installs them from npm's cache
 * (which the repository's own `npm ci` filled) without asking the registry.
 */
function embedderLock(spec: string, integrity: string): unknown {
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const root = lock.packages['']!;
  const packages: Record<string, LockEntry> = {
    '': { name: 'embedder', version: '1.0.0', dependencies: { 'kiln-image': spec } },
    'node_modules/kiln-image': {
      version: String(root['version']),
      resolved: spec,
      integrity,
      license: root['license'],
      dependencies: root.dependencies ?? {},
      engines: root['engines'],
      bin: root['bin'],
    },
  };
  // Node's lookup, over the lockfile's paths: from `from`, the nearest node_modules/<name>.
  const locate = (from: string, name: string): string => {
    for (let base = from; ; base = base.includes('/node_modules/') ? base.slice(0, base.lastIndexOf('/node_modules/')) : '') {
      const path = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (lock.packages[path]) return path;
      if (!base) throw new Error(`the repository's lockfile has no ${name} (needed by ${from || 'kiln-image'})`);
    }
  };
  const queue: [string, string][] = Object.keys(root.dependencies ?? {}).map((n) => ['', n]);
  while (queue.length) {
    const [from, name] = queue.shift()!;
    const path = locate(from, name);
    if (packages[path]) continue;
    const { dev: _dev, ...entry } = lock.packages[path]!;
    // Without `resolved`, npm asks the registry where the tarball is; the cache holds it by integrity.
    const pkg = typeof entry['name'] === 'string' ? entry['name'] : path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    entry['resolved'] ??= `https://registry.npmjs.org/${pkg}/-/${pkg.split('/').pop()}-${String(entry['version'])}.tgz`;
    packages[path] = entry;
    for (const d of Object.keys(entry.dependencies ?? {})) queue.push([path, d]);
  }
  return { name: 'embedder', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

const STRICTEST = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  noPropertyAccessFromIndexSignature: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  allowUnreachableCode: false,
  allowUnusedLabels: false,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  forceConsistentCasingInFileNames: true,
  skipLibCheck: false,
};

const BROWSER_PROGRAM = `import { FileTree, MemoryTarget, writeExt4, readExt4, writeFat, readFat, initramfsBytes, parseNewc, type FsReader } from 'kiln-image/fs';
import { assembleDiskToMemory, decodeMbr } from 'kiln-image/partition';

const tree = new FileTree();
tree.mkdirp('etc');
tree.file('etc/hostname', 'packed\\n');
const ext4 = new MemoryTarget(8 << 20);
writeExt4(tree, ext4, { label: 'packed' });
const fat = new MemoryTarget(8 << 20);
writeFat(tree, fat, {});
const readers: FsReader[] = [readExt4(ext4), readFat(fat)];
const texts = readers.map((r) => new TextDecoder().decode(r.readFile('etc/hostname')));
const disk = await assembleDiskToMemory({ table: 'mbr', size: 'auto', partitions: [{ filesystem: 'ext4', size: 'auto', tree }] });
const cpio = await initramfsBytes(tree, { compress: false });
export const summary = { texts, partitions: decodeMbr(new MemoryTarget(disk.bytes)).partitions.length, entries: parseNewc(cpio).length };
`;

const NODE_PROGRAM = `import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTree, withSparseFile, writeExt4, openImage, loadProject } from 'kiln-image';
import { treeFromDirectory, assembleDisk } from 'kiln-image/node';
import { elementKinds } from 'kiln-image/pipeline';
import { summary } from './browser.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-packed-run-'));
writeFileSync(join(dir, 'hello'), 'hi\\n');
const tree: FileTree = treeFromDirectory(dir, { owners: 'root' });
await withSparseFile(join(dir, 'ext4.img'), 8 << 20, (t) => writeExt4(tree, t, {}));
const disk = await assembleDisk({ table: 'gpt', size: 'auto', partitions: [{ filesystem: 'fat', size: 'auto', source: dir }] }, join(dir, 'disk.img'));
const opened = openImage(join(dir, 'ext4.img'));
// An element of a kind whose defaults are a YAML file beside the kind's compiled module.
writeFileSync(join(dir, 'project.conf'), 'name: packed\\n');
writeFileSync(join(dir, 'e.bst'), 'kind: make\\n');
const install = loadProject(dir).element('e.bst').config['install-commands'];
console.log(JSON.stringify({ browser: summary, disk: disk.partitions.length, kinds: elementKinds.size, install, opened: typeof opened }));
rmSync(dir, { recursive: true });
`;

test('npm pack → offline install → strictest tsc without skipLibCheck → runs', () => {
  const packed = sh('npm', ['pack', '--json', '--pack-destination', dir], repo);
  const info = JSON.parse(packed) as { filename: string; integrity: string; files: { path: string }[] }[];
  const files = info[0]!.files.map((f) => f.path);
  assert.ok(files.includes('dist/entry/fs.js') && files.includes('dist/entry/fs.d.ts'), 'dist entries are packed');
  assert.ok(files.includes('src/fs/ext4/writer.ts'), 'the sources the maps point at are packed');
  assert.ok(!files.some((f) => f.startsWith('test/')), 'tests are not packed');

  mkdirSync(project);
  const spec = `file:../${info[0]!.filename}`;
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'embedder', version: '1.0.0', private: true, type: 'module', dependencies: { 'kiln-image': spec } }, null, 2),
  );
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(embedderLock(spec, info[0]!.integrity), null, 2));
  sh('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project);
  const installed = JSON.parse(readFileSync(join(project, 'node_modules/kiln-image/package.json'), 'utf8')) as {
    name: string;
    scripts?: Record<string, string>;
  };
  assert.is(installed.name, 'kiln-image');
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.not.ok(installed.scripts?.[s], `no ${s} script`);
  assert.not.ok(readdirSync(join(project, 'node_modules')).includes('@types'), 'no @types installed in the embedder');

  // The browser entries: DOM library, no @types/node at all.
  writeFileSync(join(project, 'browser-exports.ts'), everyExport(['fs', 'partition']));
  writeFileSync(join(project, 'browser.ts'), BROWSER_PROGRAM);
  writeFileSync(
    join(project, 'tsconfig.browser.json'),
    JSON.stringify(
      { compilerOptions: { ...STRICTEST, lib: ['ES2022', 'DOM'], types: [], outDir: 'out' }, files: ['browser-exports.ts', 'browser.ts'] },
      null,
      2,
    ),
  );
  sh(tsc, ['-p', 'tsconfig.browser.json'], project);

  // The Node entries: @types/node from the repository (the embedder would install it).
  writeFileSync(join(project, 'node-exports.ts'), everyExport(['node', 'pipeline']).replace(/\bexport const exportCount\b/, 'export const nodeExportCount'));
  writeFileSync(join(project, 'node.ts'), NODE_PROGRAM);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: { ...STRICTEST, lib: ['ES2022'], types: ['node'], typeRoots: [join(repo, 'node_modules/@types')], outDir: 'out' },
        files: ['browser-exports.ts', 'browser.ts', 'node-exports.ts', 'node.ts'],
      },
      null,
      2,
    ),
  );
  sh(tsc, ['-p', 'tsconfig.json'], project);

  const out = JSON.parse(sh(process.execPath, ['out/node.js'], project)) as {
    browser: { texts: string[]; partitions: number; entries: number };
    disk: number;
    install: string[];
  };
  assert.equal(out.browser.texts, ['packed\n', 'packed\n']);
  assert.is(out.browser.partitions, 1);
  assert.is(out.disk, 1);
  assert.ok(files.includes('dist/pipeline/kinds/make.yaml'), "the element kinds' default YAML is packed beside their modules");
  assert.equal(out.install, ['make -j1 PREFIX="/usr" DESTDIR="/buildstream-install" install'], 'the make kind read its defaults');
  const counts = sh(
    process.execPath,
    ['-e', "import('./out/browser-exports.js').then((m) => console.log(m.exportCount, m.fsValues.length + m.partitionValues.length))"],
    project,
  )
    .trim()
    .split(' ')
    .map(Number);
  assert.ok(counts[0]! > 60 && counts[1]! > 30, `exports named: ${counts.join(' ')}`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
