import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Element, Pipeline, Selection, YamlValue } from '../../pipeline/pipeline.js';
import { yamlPackage } from '../../pipeline/load/yaml-package.js';
import { globalOptions } from '../context.js';
import { repeatable } from '../inputs.js';

/** `kiln show`: one line per element with its key and state (docs/format.md#kiln-show). */

// bst's default also ends in %{workspace-dirs}; kiln has no workspaces, so it is left out (still accepted)
export const DEFAULT_SHOW_FORMAT = '%{state: >12} %{full-key} %{name}';
/** A YAML dump for %{config} and friends (yaml is loaded on first use). */
function dump(value: YamlValue): string {
  return yamlPackage().stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

/** Python-style `[[fill]align][width]` as BuildStream's format tokens use (`%{state: >12}`). */
function applySpec(text: string, spec: string | undefined): string {
  if (!spec) return text;
  const m = /^(?:(.)?([<>^]))?(\d+)?$/.exec(spec);
  if (!m) throw new KilnError('bad-format', `unsupported format spec ':${spec}'`, 'use [[fill]align][width], e.g. %{state: >12}');
  const fill = m[1] ?? ' ';
  const align = m[2] ?? '<';
  const width = Number(m[3] ?? 0);
  if (text.length >= width) return text;
  const pad = width - text.length;
  if (align === '>') return fill.repeat(pad) + text;
  if (align === '^') return fill.repeat(Math.floor(pad / 2)) + text + fill.repeat(pad - Math.floor(pad / 2));
  return text + fill.repeat(pad);
}

/** The value of each `%{token}` for an element. */
export function tokenValues(p: Pipeline, e: Element): Record<string, () => string> {
  return {
    name: () => e.name,
    key: () => p.shortKey(e),
    'full-key': () => p.keys(e).strong ?? '????????',
    state: () => p.state(e),
    kind: () => e.kind,
    config: () => dump(e.config),
    vars: () => dump(e.variables),
    env: () => dump(e.environment),
    public: () => dump(e.public),
    workspaced: () => '',
    'workspace-dirs': () => '',
  };
}

export function formatElement(p: Pipeline, e: Element, format: string): string {
  const values = tokenValues(p, e);
  return format
    .replace(/%\{([a-z-]+)(?::([^}]*))?\}/g, (whole, name: string, spec: string | undefined) => {
      const v = values[name];
      if (!v)
        throw new KilnError(
          'bad-format',
          `unknown format token ${whole}`,
          `known tokens: ${Object.keys(values)
            .map((k) => `%{${k}}`)
            .join(' ')}`,
        );
      return applySpec(v(), spec);
    })
    .replace(/\s+$/, '');
}

export function elementJson(p: Pipeline, e: Element): Record<string, unknown> {
  const keys = p.keys(e);
  return {
    name: e.name,
    kind: e.kind,
    key: keys.strong ? p.shortKey(e) : null,
    'full-key': keys.strong ?? null,
    'weak-key': keys.weak ?? null,
    state: p.state(e),
    dependencies: e.dependencies.map((d) => ({ name: d.element.name, type: d.type })),
  };
}

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('show elements with their cache keys and states')
    .argument('[elements...]', 'element names (relative to element-path)')
    .option('-d, --deps <deps>', 'which elements: none, plan, run, build or all', 'all')
    .option('--order <order>', 'stage (staging order) or alpha', 'stage')
    .option('--except <element>', 'leave this element out, and what the targets need only through it (repeatable)', repeatable, [])
    .option(
      '-f, --format <format>',
      `line format (tokens: %{name} %{key} %{full-key} %{state} %{kind} %{config} %{vars} %{env} %{public}); default '${DEFAULT_SHOW_FORMAT}'`,
    )
    .option('--json', 'print a JSON array instead')
    .action(async (names: string[], opts: { deps: string; order: string; except: string[]; format?: string; json?: boolean }, cmd: Command) => {
      if (!['none', 'plan', 'run', 'build', 'all'].includes(opts.deps))
        throw new KilnError('bad-option', `--deps must be none, plan, run, build or all, not '${opts.deps}'`);
      if (!['stage', 'alpha'].includes(opts.order)) throw new KilnError('bad-option', `--order must be stage or alpha, not '${opts.order}'`);
      const g = await globalOptions(cmd);
      // Loaded on use, so other commands do not pay for the pipeline's modules.
      const { openPipeline } = await import('../../pipeline/pipeline.js');
      const format = opts.format ?? DEFAULT_SHOW_FORMAT;
      const p = openPipeline({ projectDir: g.projectDir, cacheDir: g.cacheDir, targets: names, ...g.pipeline });
      let elements = p.select(opts.deps as Selection, opts.except);
      if (opts.order === 'alpha') elements = [...elements].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify(
            elements.map((e) => elementJson(p, e)),
            null,
            2,
          )}\n`,
        );
        return;
      }
      process.stdout.write(elements.map((e) => `${formatElement(p, e, format)}\n`).join(''));
    });
}
