/**
 * The cases of the BuildStream conformance run: every element of every test project in
 * BuildStream's own tests/ (default options), plus the invocations its Python tests make with
 * options, --except or user configuration, and the projects they build at run time (a FIFO as a
 * local source, ...). Each case is run by bst and by kiln with `show` and compared.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';

export type OptionValue = string | string[] | Record<string, string>;

export interface Case {
  /** Unique, stable name: `project:target [args]`. */
  id: string;
  /** The project directory, relative to the tests directory. */
  project: string;
  targets: string[];
  deps: 'none' | 'all';
  /** `--option NAME VALUE` (bst) / `-o NAME VALUE` (kiln), in order. */
  options: [string, string][];
  /** The user configuration's `projects: <project name>: options:`. */
  userOptions?: Record<string, OptionValue>;
  except: string[];
  /** Changes the private copy of the project the way the Python test does before running bst. */
  setup?: (projectDir: string) => void;
  /** For a whole-project case: the cases to run instead when it does not agree (one per element). */
  split?: Case[];
}

/** The test directories whose projects are taken (the others test building, caches or sandboxes). */
export const AREAS = ['format', 'loader', 'frontend', 'plugins', 'pipeline', 'sources', 'artifactcache', 'cachekey', 'completions', 'integration', 'sandboxes'];

function elementPath(projectDir: string): string {
  try {
    const conf = parse(readFileSync(join(projectDir, 'project.conf'), 'utf8')) as { 'element-path'?: unknown } | null;
    return typeof conf?.['element-path'] === 'string' ? conf['element-path'] : '.';
  } catch {
    return '.';
  }
}

/** .bst files under the element path, not descending into other projects (junction sub-projects). */
function elementsOf(projectDir: string): string[] {
  const root = join(projectDir, elementPath(projectDir));
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        if (!existsSync(join(p, 'project.conf'))) walk(p);
      } else if (name.endsWith('.bst')) out.push(relative(root, p));
    }
  };
  walk(root);
  return out;
}

function projectsUnder(testsDir: string, area: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (existsSync(join(dir, 'project.conf'))) out.push(relative(testsDir, dir));
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory() && !name.startsWith('.')) walk(p);
    }
  };
  if (existsSync(join(testsDir, area))) walk(join(testsDir, area));
  return out;
}

function caseId(c: Omit<Case, 'id'>): string {
  const args = [
    ...c.options.map(([n, v]) => `-o ${n} ${JSON.stringify(v)}`),
    ...(c.userOptions ? [`user ${JSON.stringify(c.userOptions)}`] : []),
    ...c.except.map((e) => `--except ${e}`),
    ...(c.deps === 'none' ? ['--deps none'] : []),
  ];
  return `${c.project}:${c.targets.join(',') || '(none)'}${args.length ? ` [${args.join(' ')}]` : ''}`;
}

function make(c: Partial<Omit<Case, 'id'>> & { project: string; targets: string[] }, note = ''): Case {
  const full: Omit<Case, 'id'> = { deps: 'all', options: [], except: [], ...c };
  return { id: caseId(full) + note, ...full };
}

/**
 * Every test project with its defaults: one case showing all its elements at once (bst takes a
 * second to start, so one run per project is what makes the whole set affordable), split into
 * one case per element when the two tools do not agree on the whole.
 */
export function discoveredCases(testsDir: string): Case[] {
  const out: Case[] = [];
  for (const area of AREAS) {
    for (const project of projectsUnder(testsDir, area)) {
      const elements = elementsOf(join(testsDir, project));
      if (elements.length === 0) out.push(make({ project, targets: ['element.bst'] }));
      else if (elements.length === 1) out.push(make({ project, targets: elements }));
      else out.push({ ...make({ project, targets: elements }, ' (all elements)'), split: elements.map((e) => make({ project, targets: [e] })) });
    }
  }
  return out;
}

const each = <T>(values: T[], f: (v: T) => Case): Case[] => values.map(f);

/**
 * The invocations of BuildStream's Python tests that the discovered cases do not cover, as data
 * (test file named in each group).
 */
export function curatedCases(): Case[] {
  const vars = { deps: 'none' as const };
  return [
    // format/optionenum.py
    ...each(
      [
        ['element.bst', 'brother', 'pony'],
        ['element.bst', 'brother', 'zebry'],
        ['element.bst', 'brother', 'horsy'],
        ['element-compare.bst', 'brother', 'horsy'],
        ['element-compare.bst', 'brother', 'zebry'],
        ['element-compare.bst', 'sister', 'pony'],
      ],
      ([t, o, v]) => make({ project: 'format/option-enum', targets: [t!], options: [[o!, v!]], ...vars }),
    ),
    ...each(
      [
        ['element.bst', 'brother', 'pony'],
        ['element-compare.bst', 'sister', 'pony'],
      ],
      ([t, o, v]) => make({ project: 'format/option-enum', targets: [t!], userOptions: { [o!]: v! }, ...vars }),
    ),
    make({ project: 'format/option-enum', targets: ['element.bst'], options: [['brother', 'giraffy']], ...vars }),
    ...each<OptionValue>(['giraffy', ['its', 'a', 'list'], { dic: 'tionary' }], (v) =>
      make({ project: 'format/option-enum', targets: ['element.bst'], userOptions: { brother: v }, ...vars }),
    ),
    // format/optionflags.py
    ...each(
      [
        ['element.bst', 'pony'],
        ['element.bst', 'zebry'],
        ['element.bst', 'pony, horsy'],
        ['element.bst', 'zebry,horsy , pony'],
        ['element-in.bst', 'zebry, horsy, pony'],
        ['element-in.bst', 'zebry, horsy'],
        ['element-in.bst', 'zebry, pony'],
        ['element.bst', 'giraffy'],
        ['element.bst', 'horsy pony'],
      ],
      ([t, v]) => make({ project: 'format/option-flags', targets: [t!], options: [['farm', v!]], ...vars }),
    ),
    ...each<OptionValue>([['pony'], ['zebry'], ['pony', 'horsy'], ['zebry', 'horsy', 'pony'], 'pony', ['horsy', 'pony', 'giraffy'], { dic: 'tionary' }], (v) =>
      make({ project: 'format/option-flags', targets: ['element.bst'], userOptions: { farm: v }, ...vars }),
    ),
    // format/optionexports.py
    ...each(
      [
        ['bool_export', 'False'],
        ['bool_export', 'True'],
        ['enum_export', 'pony'],
        ['enum_export', 'horsy'],
        ['flags_export', 'pony'],
        ['flags_export', 'horsy'],
        ['flags_export', 'pony, horsy'],
      ],
      ([o, v]) => make({ project: 'format/option-exports', targets: ['element.bst'], options: [[o!, v!]], ...vars }),
    ),
    // format/optionbool.py
    ...each(['True', 'true', 'False', 'false', 'pony', 'ture'], (v) =>
      make({ project: 'format/option-bool', targets: ['element.bst'], options: [['pony', v]], ...vars }),
    ),
    ...each(['element-equals.bst', 'element-not-equals.bst'], (t) =>
      make({ project: 'format/option-bool', targets: [t], options: [['pony', 'True']], ...vars }),
    ),
    ...each<OptionValue>(['True', 'False', 'pony', ['its', 'a', 'list'], { dic: 'tionary' }], (v) =>
      make({ project: 'format/option-bool', targets: ['element.bst'], userOptions: { pony: v }, ...vars }),
    ),
    // format/optionarch.py
    ...each(['x86_32', 'x86_64', 'aarch32', 'aarch64', 'arm', 'x86_128'], (v) =>
      make({ project: 'format/option-arch', targets: ['element.bst'], options: [['machine_arch', v]], ...vars }),
    ),
    // format/optioneltmask.py
    ...each(['target.bst', 'target2.bst'], (v) =>
      make({ project: 'format/option-element-mask', targets: ['target.bst'], options: [['debug_elements', v]], ...vars }),
    ),
    make({ project: 'format/option-element-mask', targets: ['target.bst'], options: [['debug_elements', 'target.bst, target2.bst']], ...vars }),
    // format/optionoverrides.py
    ...each(['True', 'False'], (v) =>
      make({ project: 'format/option-overrides', targets: ['element.bst'], options: [['arch', v === 'True' ? 'arm' : 'x86_64']], ...vars }),
    ),
    // format/option-list-directive.py
    ...each(['False', 'True'], (v) =>
      make({ project: 'format/option-list-directive', targets: ['element.bst'], options: [['shell_mount_devices', v]], ...vars }),
    ),
    // format/options.py
    make({ project: 'format/options/invalid-type', targets: ['element.bst'], options: [['opt', 'funny']], ...vars }),
    make({ project: 'format/options/simple-condition', targets: ['element.bst'], options: [['fart', 'funny']], ...vars }),
    make({ project: 'format/options/simple-condition', targets: ['element.bst'], userOptions: { fart: 'Hello' }, ...vars }),
    ...each(['False', 'True'], (v) => make({ project: 'format/options/simple-condition', targets: ['element.bst'], options: [['opt', v]], ...vars })),
    ...['nested-condition', 'compound-and-condition', 'compound-or-condition'].flatMap((p) =>
      each(
        [
          ['False', 'False'],
          ['True', 'False'],
          ['False', 'True'],
          ['True', 'True'],
        ],
        ([d, l]) =>
          make({
            project: `format/options/${p}`,
            targets: ['element.bst'],
            options: [
              ['debug', d!],
              ['logging', l!],
            ],
            ...vars,
          }),
      ),
    ),
    ...['element.bst', 'element-deeper.bst'].flatMap((t) =>
      each(['False', 'True'], (v) => make({ project: 'format/options/deep-nesting', targets: [t], options: [['pony', v]], ...vars })),
    ),
    // format/assertion.py
    ...each(
      [
        ['element.bst', 'pony', 'True'],
        ['ordered.bst', 'pony', 'True'],
        ['ordered.bst', 'horsy', 'True'],
      ],
      ([t, o, v]) => make({ project: 'format/assertion', targets: [t!], options: [[o!, v!]], ...vars }),
    ),
    make({
      project: 'format/assertion',
      targets: ['ordered.bst'],
      options: [
        ['pony', 'True'],
        ['horsy', 'True'],
      ],
      ...vars,
    }),
    // format/project.py: refs with (?) conditions
    ...each(['test', 'notest'], (v) =>
      make({ project: 'format/project/refs-options', targets: ['target.bst'], options: [['test', v === 'test' ? 'True' : 'False']], ...vars }),
    ),
    // format/include.py: options from an include, junction options
    ...each(['True', 'False'], (v) =>
      make({ project: 'format/include/options', targets: ['element.bst'], options: [['build_arch', v === 'True' ? 'x86_64' : 'i586']], ...vars }),
    ),
    // loader/junctions.py: sub-projects copied in beside the junctions, as copy_subprojects does
    ...each<[string, string, string[]]>(
      [
        ['foo', 'target.bst', ['base']],
        ['foo', 'base.bst:target.bst', ['base']],
        ['nested', 'target.bst', ['foo', 'foo/base']],
        ['toplevel', 'target.bst', ['base', 'foo', 'foo/base', 'bar', 'bar/base']],
        ['conflict', 'target.bst', ['foo', 'foo/base', 'bar', 'bar/base']],
        ['options', 'target.bst', ['options-base']],
        ['options-default', 'target.bst', ['options-base']],
        ['options-inherit', 'target.bst', ['options-base']],
        ['invalid', 'junction-with-deps.bst', ['base']],
        ['invalid', 'junction-dep.bst', ['base']],
      ],
      ([project, target, subs]) =>
        make(
          { project: `loader/junctions/${project}`, targets: [target], setup: (dir) => subs.forEach((sub) => copySibling(dir, sub)) },
          ` (with ${subs.join(', ')})`,
        ),
    ),
    // format/include.py: junctions made for the sub-projects (bst's tests make git ones; local ones load alike)
    ...['junction', 'local_to_junction'].map((p) =>
      make(
        { project: `format/include/${p}`, targets: ['element.bst'], deps: 'none', setup: (dir) => writeJunction(dir, 'junction.bst', 'subproject') },
        ' (local junction)',
      ),
    ),
    ...['junction_options', 'junction_options_element'].map((p) =>
      make(
        {
          project: `format/include/${p}`,
          targets: ['element.bst'],
          deps: 'none',
          setup: (dir) => writeJunction(dir, 'junction.bst', 'subproject', { local_option: 'set' }),
        },
        ' (local junction, local_option: set)',
      ),
    ),
    make(
      {
        project: 'format/include/junction_options_deep',
        targets: ['element.bst'],
        deps: 'none',
        setup: (dir) => {
          cpSync(join(dir, 'subproject-2'), join(dir, 'subproject-1', 'subproject-2'), { recursive: true });
          writeJunction(join(dir, 'subproject-1'), 'junction-2.bst', 'subproject-2', { local_option: 'set' });
          writeJunction(dir, 'junction-1.bst', 'subproject-1');
        },
      },
      ' (local junctions)',
    ),
    // sources/local.py: a FIFO where the source's file is
    make({ project: 'sources/local/basic', targets: ['target.bst'], setup: (dir) => replaceWithFifo(join(dir, 'file.txt')) }, ' (file.txt a FIFO)'),
    // frontend/show.py: an unaliased URL under fatal-warnings
    make(
      {
        project: 'frontend/project',
        targets: ['unaliased-tar.bst'],
        setup: (dir) => appendFileSync(join(dir, 'project.conf'), '\nfatal-warnings:\n- unaliased-url\n'),
      },
      ' (fatal-warnings: unaliased-url)',
    ),
    // frontend/show.py: --except
    ...each<[string[], string[]]>(
      [
        [['target.bst'], ['compose-all.bst']],
        [['target.bst'], ['import-bin.bst']],
        [['compose-all.bst'], ['import-bin.bst']],
        [
          ['target.bst', 'compose-all.bst'],
          ['import-bin.bst', 'import-dev.bst'],
        ],
      ],
      ([targets, except]) => make({ project: 'frontend/project', targets, except }),
    ),
  ];
}

/** Copies a project of the same test area into the project (bst's tests' copy_subprojects). */
function copySibling(projectDir: string, sub: string): void {
  const from = join(projectDir, '..', sub.split('/').pop()!);
  cpSync(from, join(projectDir, sub), { recursive: true });
}

/** A junction element with one local source (bst's tests' generate_junction, which makes a git repository). */
function writeJunction(projectDir: string, name: string, path: string, options?: Record<string, string>): void {
  writeFileSync(join(projectDir, name), stringify({ kind: 'junction', sources: [{ kind: 'local', path }], ...(options ? { config: { options } } : {}) }));
}

function replaceWithFifo(path: string): void {
  rmSync(path, { recursive: true, force: true });
  execFileSync('mkfifo', [path]);
}
