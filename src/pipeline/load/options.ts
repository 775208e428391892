import { existsSync, readdirSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import { join } from 'node:path';
import { KilnError, formatPosition, type SourcePosition } from '../../errors.js';
import type { MapNode } from './node.js';
import { checkKeys, expectMap, expectScalar, optString, stringList } from './validate.js';

/**
 * Project options (docs/format.md#options) and the expressions of `(?)` conditionals:
 * `opt == "x"`, `opt != "x"`, a bool option alone, `"v" in flags`, `flags == ["a", "b"]` (in
 * order: flags values the user gives are sorted), `and`, `or`, `not`, parentheses.
 */

export type OptionValue = string | boolean | string[];

export interface ProjectOption {
  name: string;
  type: 'bool' | 'enum' | 'flags' | 'arch' | 'os' | 'element-mask';
  value: OptionValue;
  variable?: string;
}

const TYPES = ['bool', 'enum', 'flags', 'arch', 'os', 'element-mask'] as const;
const COMMON_KEYS = ['type', 'description', 'variable'];
/** The keys each type accepts (bst 1.x: an arch option takes its default from the host, an element-mask its values from the element files). */
const TYPE_KEYS: Record<ProjectOption['type'], readonly string[]> = {
  bool: [...COMMON_KEYS, 'default'],
  enum: [...COMMON_KEYS, 'values', 'default'],
  flags: [...COMMON_KEYS, 'values', 'default'],
  arch: [...COMMON_KEYS, 'values'],
  os: [...COMMON_KEYS, 'values'],
  'element-mask': [...COMMON_KEYS, 'default'],
};
/** bst's symbol names: option names without dashes, variable names with them. */
const OPTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function hostArchName(): string {
  const a = hostArch();
  return a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a === 'ia32' ? 'x86_32' : a;
}

/**
 * A value as bst 1.x reads it. `raw` is a string from the command line (flags: comma-separated,
 * whitespace ignored) or from a file (a flags value must then be a list). Flags values given by
 * the user are sorted; a flags default keeps the order it was written in (exported so too).
 * `where` names the value in messages: the declaration's default by its position, or a value
 * given by the caller (`-o NAME VALUE`, or the user configuration's line) with the position of the
 * option's declaration.
 */
function parseValue(
  opt: Omit<ProjectOption, 'value'>,
  raw: string | string[],
  values: readonly string[] | undefined,
  where: string,
  isDefault: boolean,
): OptionValue {
  if (opt.type === 'bool') {
    if (Array.isArray(raw)) throw new KilnError('option-value', `${where} is a bool; give True or False`);
    if (raw === 'True' || raw === 'true') return true;
    if (raw === 'False' || raw === 'false') return false;
    throw new KilnError('option-value', `invalid value '${raw}' for ${where}; it is a bool: give True or False`);
  }
  if (opt.type === 'flags' || opt.type === 'element-mask') {
    const list = Array.isArray(raw) ? raw : raw.replace(/\s+/g, '').split(',');
    if (values) {
      for (const v of list)
        if (!values.includes(v)) throw new KilnError('option-value', `invalid value '${v}' for ${where}; valid values are ${values.join(', ')}`);
    }
    return isDefault ? list : [...list].sort();
  }
  if (Array.isArray(raw)) throw new KilnError('option-value', `${where} takes one value, not a list`);
  if (values && !values.includes(raw)) throw new KilnError('option-value', `invalid value '${raw}' for ${where}; valid values are ${values.join(', ')}`);
  return raw;
}

/** The .bst files under the element path, relative to it: an element-mask option's values. */
function elementFiles(elementDirectory: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (d.isDirectory()) walk(join(dir, d.name), `${prefix}${d.name}/`);
      else if (d.name.endsWith('.bst')) out.push(`${prefix}${d.name}`);
    }
  };
  if (existsSync(elementDirectory)) walk(elementDirectory, '');
  return out;
}

/** An example value of an option's type, for hints. */
function exampleValue(type: ProjectOption['type'], values: readonly string[] | undefined): string {
  if (type === 'bool') return 'True';
  if (type === 'arch') return hostArchName();
  if (type === 'os') return 'Linux';
  return values?.[0] ?? 'VALUE';
}

/**
 * Reads the `options` declarations and applies the values given: on the command line (`-o`), or
 * set in a configuration file where `setIn` has the value's position (the user configuration's
 * `projects: NAME: options:`; a list there is a flags value). A bad value given on the command
 * line is a usage error; one set in a file names that file's line.
 */
export function loadOptions(
  node: MapNode | undefined,
  given: Readonly<Record<string, string | string[]>>,
  setIn: Readonly<Record<string, SourcePosition>> = {},
  elementDirectory?: string,
): Map<string, ProjectOption> {
  const out = new Map<string, ProjectOption>();
  for (const [name, declNode] of node?.entries ?? []) {
    const declaredAt = node!.keyPos.get(name)!;
    if (!OPTION_NAME.test(name)) {
      throw new KilnError(
        'option-name',
        `invalid option name '${name}' in ${formatPosition(declaredAt)}`,
        'option names start with a letter or _ and hold only letters, digits and _',
      );
    }
    const decl = expectMap(declNode, `options.${name}`);
    const typeNode = optString(decl, 'type', `options.${name}.type`);
    if (!typeNode) throw new KilnError('missing-key', `option '${name}' in ${formatPosition(decl.pos)} has no 'type'; use one of ${TYPES.join(', ')}`);
    const type = typeNode.value as ProjectOption['type'];
    if (!TYPES.includes(type))
      throw new KilnError('option-type', `unknown option type '${typeNode.value}' in ${formatPosition(typeNode.pos)}; use one of ${TYPES.join(', ')}`);
    checkKeys(decl, TYPE_KEYS[type], `${type} option '${name}'`);
    const valuesNode = decl.entries.get('values');
    let values = valuesNode ? stringList(valuesNode, `options.${name}.values`) : undefined;
    if ((type === 'enum' || type === 'flags' || type === 'arch') && !values?.length) {
      throw new KilnError(
        'option-values',
        `${type} option '${name}' in ${formatPosition(decl.pos)} needs a non-empty 'values' list`,
        'list the values the option may take',
      );
    }
    if (type === 'element-mask') values = elementFiles(elementDirectory ?? '');
    const variableNode = optString(decl, 'variable');
    if (variableNode && !VARIABLE_NAME.test(variableNode.value)) {
      throw new KilnError(
        'variable-name',
        `invalid variable name '${variableNode.value}' in ${formatPosition(variableNode.pos)}`,
        'variable names start with a letter or _ and hold only letters, digits, _ and -',
      );
    }
    const base: Omit<ProjectOption, 'value'> = variableNode ? { name, type, variable: variableNode.value } : { name, type };
    const defNode = decl.entries.get('default');
    let raw: string | string[];
    let where = `option '${name}' (${formatPosition(defNode?.pos ?? decl.pos)})`;
    const isGiven = Object.hasOwn(given, name);
    if (isGiven) {
      raw = given[name]!;
      const at = setIn[name];
      // a flags value in a file is a list, as bst reads it
      if (at && type === 'flags' && !Array.isArray(raw))
        throw new KilnError(
          'option-value',
          `option '${name}' set in ${formatPosition(at)} is a flags option: give a list`,
          `e.g. ${name}: [${values?.[0] ?? 'VALUE'}]`,
        );
      // the declaration's name (`flavour:`), where a reader looks for it
      where = `option '${name}' as ${at ? `set in ${formatPosition(at)}` : 'given'} (declared in ${formatPosition(declaredAt)})`;
    } else if (defNode) raw = defNode.type === 'list' ? stringList(defNode, `options.${name}.default`) : expectScalar(defNode, `options.${name}.default`).value;
    else if (type === 'arch') raw = hostArchName();
    else if (type === 'os') raw = 'Linux';
    else if (type === 'bool') throw new KilnError('missing-key', `bool option '${name}' in ${formatPosition(decl.pos)} needs a 'default' (True or False)`);
    else if (type === 'flags' || type === 'element-mask') raw = [];
    else throw new KilnError('missing-key', `option '${name}' in ${formatPosition(decl.pos)} needs a 'default'`);
    let value: OptionValue;
    try {
      value = parseValue(base, raw, values, where, !isGiven);
    } catch (e) {
      // a value the caller gave (`-o NAME VALUE`) is a usage error, not a fault of the project
      if (!isGiven || Object.hasOwn(setIn, name) || !(e instanceof KilnError)) throw e;
      throw new KilnError('bad-option', e.message, `give one of the values the declaration allows, e.g. -o ${name} ${exampleValue(type, values)}`);
    }
    out.set(name, { ...base, value });
  }
  for (const name of Object.keys(given)) {
    if (!out.has(name)) {
      const declared = node ? `${[...out.keys()].join(', ')} (options: in ${formatPosition(node.pos)})` : 'no options';
      const at = setIn[name];
      if (at)
        throw new KilnError(
          'option-unknown',
          `unknown project option '${name}' set in ${formatPosition(at)}; the project declares ${declared}`,
          'fix or remove it in the user configuration',
        );
      throw new KilnError(
        'bad-option',
        `unknown project option '${name}'; the project declares ${declared}`,
        'project options are the names under options: in project.conf',
      );
    }
  }
  return out;
}

/** Option values exported as variables (`variable:`): bools as 1/0, lists comma-joined. */
export function optionVariables(options: ReadonlyMap<string, ProjectOption>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of options.values()) {
    if (!o.variable) continue;
    out[o.variable] = typeof o.value === 'boolean' ? (o.value ? '1' : '0') : Array.isArray(o.value) ? o.value.join(',') : o.value;
  }
  return out;
}

type Token = { t: 'str' | 'id' | 'op'; v: string };

function tokenize(expr: string, fail: (m: string) => never): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(==|!=|\(|\)|\[|\]|,)|([A-Za-z_][A-Za-z0-9_]*))/y;
  let i = 0;
  while (i < expr.length) {
    if (/^\s*$/.test(expr.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(expr);
    if (!m) fail(`unexpected text '${expr.slice(i).trim()}'`);
    i = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'str', v: m[1].slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (m[2] !== undefined) out.push({ t: 'op', v: m[2] });
    else out.push({ t: 'id', v: m[3]! });
  }
  return out;
}

/** Evaluates a `(?)` condition against the option values. */
export function evaluateCondition(expr: string, options: ReadonlyMap<string, ProjectOption>, pos: SourcePosition): boolean {
  const fail = (m: string): never => {
    throw new KilnError('condition', `bad condition '${expr}' in ${formatPosition(pos)}: ${m}`);
  };
  const toks = tokenize(expr, fail);
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const isWord = (w: string): boolean => peek()?.t === 'id' && peek()!.v === w;
  const atom = (): OptionValue => {
    const t = toks[p++];
    if (!t) return fail('unexpected end');
    if (t.t === 'op' && t.v === '(') {
      const v = orExpr();
      if (toks[p]?.v !== ')') fail("missing ')'");
      p++;
      return v;
    }
    if (t.t === 'op' && t.v === '[') {
      // a list literal, as flags values compare: farm == ["horsy", "pony"]
      const items: string[] = [];
      while (toks[p]?.v !== ']') {
        const v = atom();
        if (typeof v !== 'string') fail('a list literal holds strings');
        items.push(v as string);
        if (toks[p]?.v === ',') p++;
        else if (toks[p]?.v !== ']') fail("missing ']'");
      }
      p++;
      return items;
    }
    if (t.t === 'str') return t.v;
    if (t.t === 'id') {
      if (t.v === 'True' || t.v === 'true') return true;
      if (t.v === 'False' || t.v === 'false') return false;
      const o = options.get(t.v);
      if (!o) fail(`unknown option '${t.v}'`);
      return o!.value;
    }
    return fail(`unexpected '${t.v}'`);
  };
  const truthy = (v: OptionValue): boolean => (Array.isArray(v) ? v.length > 0 : typeof v === 'boolean' ? v : v !== '');
  const equal = (a: OptionValue, b: OptionValue): boolean => {
    if (typeof a === 'boolean' || typeof b === 'boolean') return truthy(a) === truthy(b) && typeof a === typeof b;
    return JSON.stringify(a) === JSON.stringify(b);
  };
  const comparison = (): OptionValue => {
    const left = atom();
    const t = peek();
    if (t?.t === 'op' && (t.v === '==' || t.v === '!=')) {
      p++;
      const right = atom();
      return t.v === '==' ? equal(left, right) : !equal(left, right);
    }
    let negate = false;
    if (isWord('not') && toks[p + 1]?.t === 'id' && toks[p + 1]!.v === 'in') {
      negate = true;
      p++;
    }
    if (isWord('in')) {
      p++;
      const right = atom();
      const hit = Array.isArray(right) ? right.includes(String(left)) : typeof right === 'string' && right.includes(String(left));
      return negate ? !hit : hit;
    }
    return left;
  };
  const notExpr = (): OptionValue => {
    if (isWord('not')) {
      p++;
      return !truthy(notExpr());
    }
    return comparison();
  };
  const andExpr = (): OptionValue => {
    let v = notExpr();
    while (isWord('and')) {
      p++;
      const r = notExpr();
      v = truthy(v) && truthy(r);
    }
    return v;
  };
  const orExpr = (): OptionValue => {
    let v = andExpr();
    while (isWord('or')) {
      p++;
      const r = andExpr();
      v = truthy(v) || truthy(r);
    }
    return v;
  };
  const result = orExpr();
  if (p !== toks.length) fail(`unexpected '${toks[p]!.v}'`);
  return truthy(result);
}
