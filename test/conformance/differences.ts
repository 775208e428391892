/**
 * Where kiln deliberately differs from bst 1.x, each with its reason (docs/format.md#differences-from-buildstream
 * says the same for readers): normalizations applied to every case before comparing, and cases
 * whose remaining difference is known and intended.
 */
import type { Shown } from './run.js';

type Tree = unknown;

function mapStrings(v: Tree, f: (s: string) => string): Tree {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}

/** `%{name}` references expanded with the element's (already resolved) variables. */
function expand(v: Tree, vars: Record<string, unknown>): Tree {
  return mapStrings(v, (s) =>
    s.replace(/%\{([a-zA-Z][a-zA-Z0-9_-]*)\}/g, (whole, name: string) => (typeof vars[name] === 'string' ? (vars[name] as string) : whole)),
  );
}

/**
 * Normalizations, each a difference of form that changes nothing an element does:
 * - config is shown as written by bst 1.x (its plugins expand variables when they configure) and
 *   expanded by kiln (at load, as bst 2.x); bst's side is expanded here with its own variables;
 * - a command written as a YAML block scalar (`- |`) ends in a newline, kiln's defaults write plain
 *   strings: one trailing newline of a config string is not compared;
 * - bst's variables carry an internal `__bst_provenance_info` entry.
 */
const trimNewline = (s: string): string => s.replace(/\n$/, '');

export function normalizeBst(e: Shown): Shown {
  const vars = Object.fromEntries(Object.entries(e.vars).filter(([k]) => k !== '__bst_provenance_info'));
  return { ...e, vars, config: mapStrings(expand(e.config, vars), trimNewline) as Shown['config'] };
}

/** kiln also defines 2.x's conf-root (`.`), which a 2.x project's autotools and cmake commands use. */
export function normalizeKiln(e: Shown): Shown {
  const vars = Object.fromEntries(Object.entries(e.vars).filter(([k]) => k !== 'conf-root'));
  return { ...e, vars, config: mapStrings(e.config, trimNewline) as Shown['config'] };
}

export interface Deliberate {
  /** Case ids this applies to. */
  cases: RegExp;
  /** When given, every difference line of the case must match it. */
  detail?: RegExp;
  reason: string;
}

export const DELIBERATE: Deliberate[] = [
  {
    cases: /./,
    detail: /only kiln fails: .*\(git\): ref '[^']*' is not a commit/,
    reason: "kiln checks the form of a git source's ref when it loads the project; bst 1.x only when it fetches",
  },
  {
    cases: /./,
    detail: /only kiln fails: .*(unsupported plugin kind|plugin-unsupported)/,
    reason: 'kiln implements element and source kinds natively and does not run Python plugins (local or pip origins)',
  },
];
