/**
 * Runs one conformance case with bst and with kiln (`show --format` with every value a case
 * compares) and parses what each printed into per-element records.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Case } from './cases.js';

/** What `show` printed for one element; every scalar as a string (YAML failsafe schema). */
export interface Shown {
  name: string;
  vars: Record<string, unknown>;
  config: Record<string, unknown>;
  env: Record<string, unknown>;
  public: Record<string, unknown>;
}

export type Outcome = { ok: true; elements: Shown[] } | { ok: false; error: string };

const SECTIONS = ['vars', 'config', 'env', 'public'] as const;
/**
 * The same format for both tools: a marker line per element, then each value as YAML. Each token
 * is followed by a `@@%` line: bst 1.x finds a token by a pattern that runs to the last `}` before
 * the next `%`, so without one there a value shown before it (a `{}` in a YAML dump) breaks it.
 */
export const SHOW_FORMAT = ['@@element %{name}', '@@%', ...SECTIONS.flatMap((s) => [`@@${s}`, `%{${s}}`, '@@%'])].join('\n');

export function parseShown(stdout: string): Shown[] {
  const out: Shown[] = [];
  for (const block of stdout
    .replace(/^@@%$/gm, '')
    .split(/^@@element /m)
    .slice(1)) {
    const [head, ...rest] = block.split(/^@@(vars|config|env|public)\n/m);
    const e: Shown = { name: head!.trim(), vars: {}, config: {}, env: {}, public: {} };
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const value = parse(rest[i + 1]!, { schema: 'failsafe' }) as Record<string, unknown> | null;
      e[rest[i] as (typeof SECTIONS)[number]] = value ?? {};
    }
    out.push(e);
  }
  return out;
}

export interface Tools {
  /** The kiln CLI entry (dist/cli/main.js). */
  kilnMain: string;
  /** Scratch directory for configurations and caches. */
  work: string;
  /** Each tool's time limit for one case. */
  timeoutMs: number;
}

function projectName(dir: string): string {
  const m = /^name:\s*(\S+)/m.exec(readFileSync(join(dir, 'project.conf'), 'utf8'));
  return m ? m[1]!.replace(/^['"]|['"]$/g, '') : 'test';
}

function spawnCollect(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 124) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The first line that says what went wrong. */
function errorLine(stderr: string, code: number): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const hit = lines.find((l) => /^(Error|kiln: error|usage|error:)/i.test(l)) ?? lines.find((l) => l !== '' && !l.startsWith('[')) ?? '';
  return `exit ${code}: ${hit.slice(0, 400)}`;
}

/**
 * Copies the case's project (so setups and tools never touch the fixtures), runs both tools, and
 * returns their outcomes.
 */
export async function runCase(c: Case, testsDir: string, t: Tools, index: number): Promise<{ bst: Outcome; kiln: Outcome }> {
  const scratch = join(t.work, `case-${index}`);
  mkdirSync(scratch, { recursive: true });
  // The whole area is copied: projects refer to siblings (junction sub-projects, shared files).
  const top = c.project.split('/').slice(0, 2).join('/');
  cpSync(join(testsDir, top), join(scratch, top), { recursive: true });
  const project = join(scratch, c.project);
  c.setup?.(project);
  const name = projectName(project);
  const userProjects = c.userOptions ? { projects: { [name]: { options: c.userOptions } } } : {};
  const bstConf = join(scratch, 'bst.conf');
  writeFileSync(
    bstConf,
    stringify({
      sourcedir: join(scratch, 'bst/sources'),
      builddir: join(scratch, 'bst/build'),
      artifactdir: join(scratch, 'bst/artifacts'),
      logdir: join(scratch, 'bst/logs'),
      ...userProjects,
    }),
  );
  const kilnConf = join(scratch, 'kiln.conf');
  writeFileSync(kilnConf, stringify(userProjects));
  const showArgs = (except: string): string[] => ['show', '--deps', c.deps, ...c.except.flatMap((e) => [except, e]), '--format', SHOW_FORMAT, ...c.targets];
  const bstArgs = ['--no-colors', '--config', bstConf, '--directory', project, ...c.options.flatMap(([n, v]) => ['--option', n, v]), ...showArgs('--except')];
  const kilnArgs = [
    t.kilnMain,
    '--config',
    kilnConf,
    '--cache-dir',
    join(scratch, 'kiln-cache'),
    '-C',
    project,
    ...c.options.flatMap(([n, v]) => ['-o', n, v]),
    ...showArgs('--except'),
  ];
  const [b, k] = await Promise.all([spawnCollect('bst', bstArgs, project, t.timeoutMs), spawnCollect(process.execPath, kilnArgs, project, t.timeoutMs)]);
  const outcome = (r: { code: number; stdout: string; stderr: string }): Outcome =>
    r.code === 0 ? { ok: true, elements: parseShown(r.stdout) } : { ok: false, error: errorLine(r.stderr, r.code) };
  return { bst: outcome(b), kiln: outcome(k) };
}
