import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRef, loadProject, writeSourceRef } from '../../../src/pipeline/load/index.js';
import { MINIMAL_CONF, writeProject } from './project-files.js';
import type { YamlValue } from '../../../src/pipeline/model.js';

const EXAMPLE = new URL('../../../examples/image', import.meta.url).pathname;

const BUSYBOX = `# BusyBox
kind: manual

sources:
# the upstream tarball
- kind: tar   # comment after the kind
  url: busybox:busybox-1.27.2.tar.bz2
- kind: local
  path: files/config
  ref: stale   # local has no ref, but this one must survive

config:
  build-commands:
  - make
`;

test('inline: a missing ref is added after the last key, everything else byte-identical', () => {
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/busybox.bst': BUSYBOX });
  const p = loadProject(dir);
  const e = p.element('busybox.bst');
  const ref = '9d4be516b61e6480f156b11eb42577a13529f75d3383850bb75c50c285de63df';
  assert.is(writeSourceRef(e, 0, ref), join(dir, 'elements/busybox.bst'));
  const text = readFileSync(join(dir, 'elements/busybox.bst'), 'utf8');
  assert.is(text, BUSYBOX.replace('  url: busybox:busybox-1.27.2.tar.bz2\n', `  url: busybox:busybox-1.27.2.tar.bz2\n  ref: ${ref}\n`));
  assert.is(e.sources[0]!.ref, ref);
  // a fresh load sees it
  assert.is(loadProject(dir).element('busybox.bst').sources[0]!.ref, ref);
});

test('inline: an existing ref is replaced in place, keeping its trailing comment', () => {
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/busybox.bst': BUSYBOX });
  const e = loadProject(dir).element('busybox.bst');
  writeSourceRef(e, 1, 'fresh');
  const text = readFileSync(join(dir, 'elements/busybox.bst'), 'utf8');
  assert.is(text, BUSYBOX.replace('  ref: stale   # local', '  ref: fresh   # local'));
});

test('inline: flow mappings, last-line-without-newline, numbers that must stay strings', () => {
  const flow = 'kind: import\nsources:\n- {kind: tar, url: "a:b.tar"}\n';
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/f.bst': flow, 'elements/g.bst': 'kind: import\nsources:\n- kind: tar\n  url: a:b.tar' });
  const p = loadProject(dir);
  writeSourceRef(p.element('f.bst'), 0, '0123');
  assert.is(readFileSync(join(dir, 'elements/f.bst'), 'utf8'), 'kind: import\nsources:\n- {kind: tar, url: "a:b.tar", ref: "0123" }\n');
  writeSourceRef(p.element('g.bst'), 0, 'abc123');
  assert.is(readFileSync(join(dir, 'elements/g.bst'), 'utf8'), 'kind: import\nsources:\n- kind: tar\n  url: a:b.tar\n  ref: abc123\n');
  const again = loadProject(dir);
  assert.is(again.element('f.bst').sources[0]!.ref, '0123');
  assert.is(again.element('g.bst').sources[0]!.ref, 'abc123');
});

test('inline: an empty ref: gets its value; a block map in the middle of the list', () => {
  const text = 'kind: import\nsources:\n- kind: tar\n  ref:\n  url: x:y\n- kind: tar\n  url: x:z\n\n  # trailing comment\nconfig: {}\n';
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/e.bst': text });
  const e = loadProject(dir).element('e.bst');
  writeSourceRef(e, 0, 'aaa1');
  writeSourceRef(e, 1, 'bbb2');
  assert.is(
    readFileSync(join(dir, 'elements/e.bst'), 'utf8'),
    'kind: import\nsources:\n- kind: tar\n  ref: aaa1\n  url: x:y\n- kind: tar\n  url: x:z\n  ref: bbb2\n\n  # trailing comment\nconfig: {}\n',
  );
});

test('several writes into one file: later sources keep correct positions', () => {
  const block = 'kind: import\nsources:\n- kind: tar\n  url: a:1\n- kind: tar\n  url: a:2\n';
  const flow = 'kind: import\nsources: [{kind: tar, url: "a:1"}, {kind: tar, url: "a:2"}]\n';
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/b.bst': block, 'elements/f.bst': flow });
  const p = loadProject(dir);
  for (const name of ['b.bst', 'f.bst']) {
    const e = p.element(name);
    writeSourceRef(e, 0, 'aa11');
    writeSourceRef(e, 1, 'bb22');
    writeSourceRef(e, 0, 'cc33');
  }
  assert.is(
    readFileSync(join(dir, 'elements/b.bst'), 'utf8'),
    'kind: import\nsources:\n- kind: tar\n  url: a:1\n  ref: cc33\n- kind: tar\n  url: a:2\n  ref: bb22\n',
  );
  assert.is(
    readFileSync(join(dir, 'elements/f.bst'), 'utf8'),
    'kind: import\nsources: [{kind: tar, url: "a:1", ref: cc33 }, {kind: tar, url: "a:2", ref: bb22 }]\n',
  );
  const again = loadProject(dir);
  assert.equal(
    again.element('f.bst').sources.map((s) => s.ref),
    ['cc33', 'bb22'],
  );
});

test('formatRef quotes what YAML would not read back as the same string', () => {
  assert.is(formatRef('9d4be516b61e'), '9d4be516b61e');
  assert.is(formatRef('1e10'), '"1e10"');
  assert.is(formatRef('123'), '"123"');
  assert.is(formatRef('yes'), '"yes"');
  assert.is(formatRef('a b'), '"a b"');
  assert.is(formatRef(['x', 'y']), '["x","y"]');
});

test('project.refs: created when missing, one entry per source, inline refs ignored with a warning', () => {
  const dir = writeProject({
    'project.conf': 'name: proj\nelement-path: elements\nref-storage: project.refs\n',
    'elements/e.bst': 'kind: import\nsources:\n- kind: local\n  path: files\n- kind: tar\n  url: a:b\n  ref: inline-ignored\n',
  });
  const p = loadProject(dir);
  const e = p.element('e.bst');
  assert.is(e.sources[1]!.ref, undefined);
  assert.match(p.warnings.join('\n'), /elements\/e\.bst:7:8: inline ref ignored because ref-storage is project\.refs/);
  assert.is(writeSourceRef(e, 1, 'f00d'), join(dir, 'project.refs'));
  assert.is(readFileSync(join(dir, 'elements/e.bst'), 'utf8').includes('inline-ignored'), true);
  const again = loadProject(dir).element('e.bst');
  assert.is(again.sources[1]!.ref, 'f00d');
  assert.is(again.sources[0]!.ref, undefined);
  writeSourceRef(again, 0, 'beef');
  const refs = readFileSync(join(dir, 'project.refs'), 'utf8');
  assert.match(refs, /projects:\n\s+proj:\n\s+e\.bst:\n\s+- ref: beef\n\s+- ref: f00d\n/);
});

test('a source declared in an include is refused', () => {
  const dir = writeProject({
    'project.conf': MINIMAL_CONF,
    'inc/src.yml': 'sources:\n- kind: tar\n  url: a:b\n',
    'elements/e.bst': 'kind: import\n(@): inc/src.yml\n',
  });
  const e = loadProject(dir).element('e.bst');
  assert.throws(() => writeSourceRef(e, 0, 'x1'), /source #1 of e\.bst is declared in inc\/src\.yml:2:3, not in elements\/e\.bst/);
});

test('inline: the example deb ref (a block list of mappings) is rewritten line for line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-refs-'));
  cpSync(EXAMPLE, dir, { recursive: true });
  const file = join(dir, 'elements/base.bst');
  const original = readFileSync(file, 'utf8');
  const e = loadProject(dir).element('base.bst');
  const old = e.sources[0]!.ref as { [key: string]: string }[];
  const shaA = 'a'.repeat(64);
  const shaB = 'b'.repeat(64);
  // adduser changed, apt-utils added after apt, bash removed
  const next: YamlValue = old.flatMap((p) => {
    if (p.package === 'adduser') return [{ ...p, version: '3.135', sha256: shaA }];
    if (p.package === 'apt') return [p, { package: 'apt-utils', version: '2.6.2', sha256: shaB }];
    return p.package === 'bash' ? [] : [p];
  });
  writeSourceRef(e, 0, next);
  // Each entry's block as the example has it now (its pins move with every re-pin).
  const block = (name: string): string => {
    const m = new RegExp(`^  - package: ${name}\\n(?:    .*\\n)*`, 'm').exec(original);
    if (m === null) throw new Error(`no ${name} entry in the example`);
    return m[0];
  };
  const adduser = old.find((p) => p.package === 'adduser')!;
  const expected = original
    .replace(block('adduser'), block('adduser').replace(`version: "${adduser.version}"`, 'version: "3.135"').replace(adduser.sha256!, shaA))
    .replace(block('apt'), `${block('apt')}  - package: apt-utils\n    version: "2.6.2"\n    sha256: ${shaB}\n`)
    .replace(block('bash'), '');
  assert.is.not(expected, original);
  assert.is(readFileSync(file, 'utf8'), expected);
  assert.equal(loadProject(dir).element('base.bst').sources[0]!.ref, next);
  rmSync(dir, { recursive: true, force: true });
});

test('inline: structured refs over scalars, flow and empty values, and back', () => {
  const text = [
    'kind: import',
    'sources:',
    '- kind: tar # first',
    '  ref: old   # keeps its comment',
    '  url: a:b',
    '- {kind: tar, ref: [x, y], url: "a:c"}',
    '- kind: tar',
    '  ref:',
    '  url: a:d',
    '- kind: tar',
    '  url: a:e',
    '  ref:  # the pins',
    '  # inside the old value',
    '  - p: q',
    '    r: "1.0"   # last line of the old value',
    '  # after the old value: stays',
    '',
    'config: {}',
    '',
  ].join('\n');
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/e.bst': text });
  const e = loadProject(dir).element('e.bst');
  const pins: YamlValue = [
    { package: 'a', version: '1:2.38.1-5+deb12u3' },
    { package: 'b', version: '3.134' },
  ];
  writeSourceRef(e, 0, pins);
  writeSourceRef(e, 1, { a: ['1', 'yes'], b: {} });
  writeSourceRef(e, 2, ['only']);
  writeSourceRef(e, 3, 'scalar-now');
  assert.is(
    readFileSync(join(dir, 'elements/e.bst'), 'utf8'),
    [
      'kind: import',
      'sources:',
      '- kind: tar # first',
      '  ref:   # keeps its comment',
      '  - package: a',
      '    version: "1:2.38.1-5+deb12u3"',
      '  - package: b',
      '    version: "3.134"',
      '  url: a:b',
      '- {kind: tar, ref: {a: ["1", "yes"], b: {}}, url: "a:c"}',
      '- kind: tar',
      '  ref:',
      '  - only',
      '  url: a:d',
      '- kind: tar',
      '  url: a:e',
      '  ref: scalar-now  # the pins',
      '  # after the old value: stays',
      '',
      'config: {}',
      '',
    ].join('\n'),
  );
  const again = loadProject(dir).element('e.bst');
  assert.equal(
    again.sources.map((s) => s.ref),
    [pins, { a: ['1', 'yes'], b: {} }, ['only'], 'scalar-now'],
  );
  // and back to a block value under the scalar (the YAML 1.1 boolean y quoted)
  writeSourceRef(again, 3, { x: ['y'] });
  assert.match(
    readFileSync(join(dir, 'elements/e.bst'), 'utf8'),
    /\n {2}url: a:e\n {2}ref: {2}# the pins\n {4}x:\n {4}- "y"\n {2}# after the old value: stays\n/,
  );
});

test('inline: CRLF files keep CRLF; 4-space files get 4-space blocks', () => {
  const crlf = 'kind: import\r\nsources:\r\n- kind: tar\r\n  url: a:b\r\n  ref: old\r\n';
  const four = 'kind: import\nsources:\n    -   kind: tar\n        url: a:b\nvariables:\n    x: y\n';
  const dir = writeProject({ 'project.conf': MINIMAL_CONF, 'elements/c.bst': crlf, 'elements/f.bst': four });
  const p = loadProject(dir);
  writeSourceRef(p.element('c.bst'), 0, [{ k: 'v', l: 'w' }]);
  assert.is(readFileSync(join(dir, 'elements/c.bst'), 'utf8'), 'kind: import\r\nsources:\r\n- kind: tar\r\n  url: a:b\r\n  ref:\r\n  - k: v\r\n    l: w\r\n');
  writeSourceRef(p.element('f.bst'), 0, [{ k: 'v', l: { m: 'n' } }]);
  assert.is(
    readFileSync(join(dir, 'elements/f.bst'), 'utf8'),
    'kind: import\nsources:\n    -   kind: tar\n        url: a:b\n        ref:\n            -   k: v\n                l:\n                    m: "n"\nvariables:\n    x: y\n',
  );
  const again = loadProject(dir);
  assert.equal(again.element('c.bst').sources[0]!.ref, [{ k: 'v', l: 'w' }]);
  assert.equal(again.element('f.bst').sources[0]!.ref, [{ k: 'v', l: { m: 'n' } }]);
});

test('formatRef escapes what YAML does not allow raw', () => {
  assert.is(formatRef('a\u0085b'), '"a\\u0085b"');
  assert.is(formatRef('1:2.38.1-5'), '"1:2.38.1-5"');
  assert.is(formatRef('12.4+deb12u15'), '12.4+deb12u15');
});

test('project.refs: structured refs as block YAML, comments and other refs kept', () => {
  const refs = '# pinned by kiln track\nprojects:\n  proj:\n    e.bst:\n    - ref: "0123"  # the tarball\n    # the packages\n    - ref: old\n';
  const dir = writeProject({
    'project.conf': 'name: proj\nelement-path: elements\nref-storage: project.refs\n',
    'project.refs': refs,
    'elements/e.bst': 'kind: import\nsources:\n- kind: tar\n  url: a:b\n- kind: deb\n  packages: [a]\n',
  });
  const e = loadProject(dir).element('e.bst');
  const pins: YamlValue = [{ package: 'a', version: '3.134', sha256: 'c24f' }];
  writeSourceRef(e, 1, pins);
  assert.is(
    readFileSync(join(dir, 'project.refs'), 'utf8'),
    '# pinned by kiln track\nprojects:\n  proj:\n    e.bst:\n    - ref: "0123" # the tarball\n    # the packages\n    - ref:\n      - package: a\n        version: "3.134"\n        sha256: c24f\n',
  );
  writeSourceRef(e, 0, 'beef');
  assert.match(readFileSync(join(dir, 'project.refs'), 'utf8'), /- ref: beef # the tarball\n/);
  assert.equal(
    loadProject(dir)
      .element('e.bst')
      .sources.map((s) => s.ref),
    ['beef', pins],
  );
});

test.run();
