import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kindOf } from '../../../src/pipeline/kinds/registry.js';
import type { KeyValue } from '../../../src/pipeline/kinds/kind.js';
import type { DepType, Element } from '../../../src/pipeline/model.js';
import { canonicalJson, computeKeys, elementKeyDict, sha256Hex, shortKey, type ElementKeys } from '../../../src/pipeline/plan/keys.js';
import { configureSource } from '../../../src/pipeline/sources/index.js';
import { makeElement, makeProject, type HandElement } from '../build/hand-elements.js';

const REF_A = 'a'.repeat(64);
const REF_B = 'b'.repeat(64);

interface Knobs {
  baseRef?: string | undefined;
  appBuild?: string;
  libBuild?: string;
  extraBuild?: string;
  appEnv?: Record<string, string>;
  appVariables?: Record<string, string>;
  appExtraDep?: boolean;
  compInclude?: string[];
}

/** base (import, tar source) ← lib (manual) ← app (manual, runtime dep extra) ← comp (compose). */
function graph(k: Knobs = {}): Map<string, Element> {
  const p = makeProject();
  const ref = 'baseRef' in k ? k.baseRef : REF_A;
  const base = makeElement(p, 'base.bst', {
    kind: 'import',
    config: { source: '/', target: '/' },
    sources: [{ kind: 'tar', directory: '', config: { url: 'file:///nonexistent/base.tar.gz', ...(ref ? { ref } : {}) }, ...(ref ? { ref } : {}) }],
  });
  const manual = (name: string, cmd: string, deps: [Element, DepType][], extra: Partial<HandElement> = {}) =>
    makeElement(p, name, {
      kind: 'manual',
      deps,
      config: { 'build-commands': [cmd], 'install-commands': [], 'configure-commands': [], 'strip-commands': [] },
      environmentNocache: ['MAKEFLAGS'],
      ...extra,
    });
  const lib = manual('lib.bst', k.libBuild ?? 'make lib', [[base, 'build']]);
  const extra = manual('extra.bst', k.extraBuild ?? 'make extra', [[base, 'build']]);
  const other = manual('other.bst', 'make other', [[base, 'build']]);
  const appDeps: [Element, DepType][] = [
    [lib, 'build'],
    [extra, 'runtime'],
  ];
  if (k.appExtraDep) appDeps.splice(1, 0, [other, 'build']);
  const app = manual('app.bst', k.appBuild ?? 'make app', appDeps, {
    environment: { MAKEFLAGS: '-j2', CFLAGS: '-O2', ...k.appEnv },
    variables: k.appVariables ?? {},
  });
  const comp = makeElement(p, 'comp.bst', {
    kind: 'compose',
    deps: [[app, 'build']],
    config: { integrate: 'True', include: k.compInclude ?? [], exclude: [], 'include-orphans': 'True' },
  });
  return new Map([base, lib, extra, other, app, comp].map((e) => [e.name, e]));
}

function keysOf(k: Knobs = {}): Record<string, ElementKeys> {
  const g = graph(k);
  const map = computeKeys([...g.values()], {
    kind: kindOf,
    sourceKeys: (e) => {
      const out: { directory: string; key: KeyValue }[] = [];
      for (const decl of e.sources) {
        const key = configureSource(decl, e).uniqueKey();
        if (key === undefined) return undefined;
        out.push({ directory: decl.directory, key: key as KeyValue });
      }
      return out;
    },
  });
  return Object.fromEntries([...map].map(([e, v]) => [e.name.replace('.bst', ''), v]));
}

/** Names whose strong key differs between two runs. */
function changed(a: Record<string, ElementKeys>, b: Record<string, ElementKeys>, which: 'strong' | 'weak' = 'strong'): string[] {
  return Object.keys(a)
    .filter((n) => a[n]![which] !== b[n]![which])
    .sort();
}

const baseline = keysOf();

test('canonical JSON sorts keys and has no spaces', () => {
  assert.is(canonicalJson({ b: [1, 'x'], a: { d: true, c: null } }), '{"a":{"c":null,"d":true},"b":[1,"x"]}');
});

test('the strong key is sha256 of the canonical JSON of the element dict plus its dependencies', () => {
  const g = graph();
  const inputs = {
    kind: kindOf,
    sourceKeys: (e: Element) => e.sources.map((decl) => ({ directory: decl.directory, key: configureSource(decl, e).uniqueKey() as KeyValue })),
  };
  const keys = computeKeys([...g.values()], inputs);
  const lib = g.get('lib.bst')!;
  const base = g.get('base.bst')!;
  const dict = elementKeyDict(lib, inputs)!;
  const expected = sha256Hex(canonicalJson({ ...dict, dependencies: [['test', 'base.bst', keys.get(base)!.strong!]] }));
  assert.is(keys.get(lib)!.strong, expected);
  assert.is(dict['element-plugin-name'], 'manual');
  assert.equal(dict['element-base-key'], { 'build-root': '/buildstream/test/lib.bst' });
  assert.equal(Object.keys(dict.environment as object).sort(), ['HOME', 'LC_ALL', 'PATH', 'SHELL', 'SOURCE_DATE_EPOCH', 'TZ']);
});

test('keys are 64 hex digits and deterministic across separately built graphs', () => {
  for (const k of Object.values(baseline)) {
    assert.match(k.strong!, /^[0-9a-f]{64}$/);
    assert.match(k.weak!, /^[0-9a-f]{64}$/);
  }
  assert.equal(changed(baseline, keysOf()), []);
  assert.equal(changed(baseline, keysOf(), 'weak'), []);
  assert.is(shortKey(baseline.app!.strong), baseline.app!.strong!.slice(0, 8));
  assert.is(shortKey(undefined), '????????');
});

test('changing a command rebuilds the element and what builds on it, nothing else', () => {
  assert.equal(changed(baseline, keysOf({ appBuild: 'make app V=1' })), ['app', 'comp']);
  assert.equal(changed(baseline, keysOf({ libBuild: 'make lib2' })), ['app', 'comp', 'lib']);
});

test('a runtime-only dependency does not change the key; it does for whoever stages it', () => {
  // extra is app's runtime dep: not in app's BUILD scope, but in comp's (RUN(app)).
  assert.equal(changed(baseline, keysOf({ extraBuild: 'make extra2' })), ['comp', 'extra']);
});

test("changing a source ref changes the element's key and every key built on it", () => {
  assert.equal(changed(baseline, keysOf({ baseRef: REF_B })), ['app', 'base', 'comp', 'extra', 'lib', 'other']);
});

test('a missing ref makes the key unknown for the element and everything built on it', () => {
  const k = keysOf({ baseRef: undefined });
  for (const n of ['base', 'lib', 'extra', 'app', 'comp']) {
    assert.is(k[n]!.strong, undefined, n);
    assert.is(k[n]!.weak, undefined, n);
  }
});

test('environment counts, except environment-nocache names; variables count only through what they expand into', () => {
  assert.equal(changed(baseline, keysOf({ appEnv: { CFLAGS: '-O3' } })), ['app', 'comp']);
  assert.equal(changed(baseline, keysOf({ appEnv: { MAKEFLAGS: '-j64' } })), []);
  assert.equal(changed(baseline, keysOf({ appVariables: { 'unused-variable': 'x' } })), []);
});

test('adding a dependency changes the key', () => {
  assert.equal(changed(baseline, keysOf({ appExtraDep: true })), ['app', 'comp']);
});

test('kind config changes the key (compose include)', () => {
  assert.equal(changed(baseline, keysOf({ compInclude: ['runtime'] })), ['comp']);
});

test('weak keys: build kinds name their deps, strict-rebuild kinds carry their weak keys', () => {
  // lib changes: app's weak key only names lib, so it stays; comp (strict) follows app's weak key: stays.
  assert.equal(changed(baseline, keysOf({ libBuild: 'make lib2' }), 'weak'), ['lib']);
  // app changes: comp's weak key carries app's weak key.
  assert.equal(changed(baseline, keysOf({ appBuild: 'make app V=1' }), 'weak'), ['app', 'comp']);
});

test.run();
