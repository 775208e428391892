import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openCache, type CacheDirs } from '../../../src/pipeline/cache/artifacts.js';
import type { Element, Project, SourceDecl, YamlMap, YamlValue } from '../../../src/pipeline/model.js';
import { sourceContext } from '../../../src/pipeline/sources/index.js';
import type { SourceContext } from '../../../src/pipeline/sources/kind.js';
import { memberHeader, type TarMember } from '../../../src/fs/tar/writer.js';
import { throwawayDir } from '../../helpers/temp.js';

/** Hand-built projects and elements for source tests (no loader needed). */

export function makeProject(directory: string, aliases: Record<string, string> = {}, mirrors: Project['mirrors'] = []): Project {
  return {
    name: 'test',
    directory,
    elementDirectory: join(directory, 'elements'),
    aliases,
    mirrors,
    refStorage: 'inline',
    fatalWarnings: [],
    declaredPlugins: new Map(),
    refsFile: join(directory, 'project.refs'),
    options: {},
    shell: { command: ['sh', '-i'], environment: {}, hostFiles: [] },
    defaultTargets: [],
  };
}

export interface DeclInit {
  kind: string;
  directory?: string;
  config?: YamlMap;
  ref?: YamlValue;
}

export function makeElement(project: Project, name: string, sources: DeclInit[]): Element {
  const file = join(project.elementDirectory, name);
  const element: Element = {
    name,
    file,
    project,
    kind: 'import',
    description: '',
    variables: {},
    environment: {},
    environmentNocache: [],
    config: {},
    public: {},
    sandbox: { buildUid: 0, buildGid: 0 },
    sources: [],
    dependencies: [],
    positions: new Map(),
  };
  element.sources = sources.map((s, index): SourceDecl => {
    const decl: SourceDecl = { kind: s.kind, directory: s.directory ?? '', config: s.config ?? {}, index, position: { file, line: 3 + index * 4, col: 5 } };
    if (s.ref !== undefined) decl.ref = s.ref;
    for (const key of Object.keys(decl.config)) element.positions.set(`sources.${index}.${key}`, { file, line: 4 + index * 4, col: 7 });
    return decl;
  });
  return element;
}

export interface TestCache {
  root: string;
  cache: CacheDirs;
  ctx: SourceContext;
  warnings: string[];
}

export function testCache(): TestCache {
  const root = throwawayDir('kiln-cache-');
  const cache = openCache(root);
  const warnings: string[] = [];
  return { root, cache, ctx: sourceContext(cache, { warn: (m) => warnings.push(m) }), warnings };
}

/** Every file under a directory (relative paths), for "nothing landed" checks. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(d, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    } catch {
      return;
    }
    for (const n of names) {
      if (n.endsWith('/')) walk(join(d, n), `${rel}${n}`);
      else out.push(`${rel}${n}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** A raw tar archive from members (hostile paths allowed), for refusal tests. */
export function rawTar(members: (TarMember & { data?: string })[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const m of members) {
    const data = Buffer.from(m.data ?? '');
    parts.push(memberHeader({ ...m, size: m.type === 'file' ? data.length : 0 }));
    if (m.type === 'file' && data.length) {
      const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
      data.copy(padded);
      parts.push(padded);
    }
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}

export function writeFile(path: string, data: string | Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

export const T0 = { sec: 1_600_000_000, nsec: 0 };
