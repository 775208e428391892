import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KilnError } from '../../../src/errors.js';
import { loadProject, loadUserConfig } from '../../../src/pipeline/load/index.js';
import { archiveOrigins } from '../../../src/pipeline/sources/archive-origins.js';
import { MINIMAL_CONF, writeProject } from './project-files.js';

/**
 * The user configuration and BuildStream's default mirror: which mirror fetches ask first, and
 * the order in which a pinned Debian file's origins are tried.
 */

const repo = new URL('../../../', import.meta.url).pathname;
const CONF = `${MINIMAL_CONF}aliases:\n  debian-snapshot: https://snap.example/\nmirrors:\n- name: far\n  aliases:\n    debian: [https://far.example/debian/]\n- name: near\n  aliases:\n    debian: [https://near.example/a/, https://near.example/b/]\n`;

test('default-mirror puts that mirror first, the others stay in declared order; an unknown one warns', () => {
  const dir = writeProject({ 'project.conf': CONF, 'elements/x.bst': 'kind: stack\n' });
  assert.equal(
    loadProject(dir).project.mirrors.map((m) => m.name),
    ['far', 'near'],
  );
  assert.equal(
    loadProject(dir, { defaultMirror: 'near' }).project.mirrors.map((m) => m.name),
    ['near', 'far'],
  );
  const warnings: string[] = [];
  assert.equal(
    loadProject(dir, { defaultMirror: 'nowhere', onWarning: (m) => warnings.push(m) }).project.mirrors.map((m) => m.name),
    ['far', 'near'],
  );
  assert.match(warnings.join('\n'), /default mirror 'nowhere' is not one of this project's mirrors \(far, near\)/);
});

test('a pinned file is asked of the mirrors, then the snapshot archive at its tracking time', () => {
  const dir = writeProject({ 'project.conf': CONF, 'elements/x.bst': 'kind: stack\n' });
  const project = loadProject(dir, { defaultMirror: 'near' }).project;
  const origins = archiveOrigins(project, 'pool/main/b/bash/bash_5.2_amd64.deb', '20261206T073000Z');
  assert.equal(
    origins.map((o) => `${o.name} ${o.url}`),
    [
      "mirror 'near' https://near.example/a/pool/main/b/bash/bash_5.2_amd64.deb",
      "mirror 'near' https://near.example/b/pool/main/b/bash/bash_5.2_amd64.deb",
      "mirror 'far' https://far.example/debian/pool/main/b/bash/bash_5.2_amd64.deb",
      'the snapshot archive https://snap.example/debian/20261206T073000Z/pool/main/b/bash/bash_5.2_amd64.deb',
    ],
  );
  // the security archive is a snapshot archive of its own; no tracking time, no snapshot
  assert.match(
    archiveOrigins(project, 'pool/updates/main/l/linux/x.deb', '20261206T073000Z').at(-1)!.url,
    /\/debian-security\/20261206T073000Z\/pool\/updates\//,
  );
  assert.is(archiveOrigins(project, 'pool/main/b/bash/x.deb', undefined).length, 3);
  const off = writeProject({ 'project.conf': `${MINIMAL_CONF}aliases:\n  debian-snapshot: ''\n`, 'elements/x.bst': 'kind: stack\n' });
  assert.equal(archiveOrigins(loadProject(off).project, 'pool/main/b/bash/x.deb', '20261206T073000Z'), []);
});

test('user configuration: default-mirror read; unknown keys are errors with file:line:col; --config must exist', () => {
  const dir = writeProject({ 'kiln.conf': '# mine\ndefault-mirror: near\n', 'bad.conf': 'default-mirror: near\ndefault-miror: x\n' });
  assert.equal(loadUserConfig(join(dir, 'kiln.conf')), { file: join(dir, 'kiln.conf'), defaultMirror: 'near' });
  assert.throws(
    () => loadUserConfig(join(dir, 'bad.conf')),
    (e: KilnError) => e.code === 'unknown-key' && e.message.includes(`${join(dir, 'bad.conf')}:2:1`),
  );
  assert.throws(
    () => loadUserConfig(join(dir, 'none.conf')),
    (e: KilnError) => e.code === 'user-config-missing',
  );
  // XDG_CONFIG_HOME is where the default file is looked for
  const saved = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = dir;
  try {
    assert.is(loadUserConfig().defaultMirror, 'near');
  } finally {
    if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved;
  }
  // through the CLI: a missing --config file is a clear error, exit 1
  writeFileSync(join(dir, 'project.conf'), MINIMAL_CONF);
  const r = spawnSync(process.execPath, [join(repo, 'dist/cli/main.js'), '--config', join(dir, 'none.conf'), '-C', dir, 'show', 'x.bst'], { encoding: 'utf8' });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /^kiln: error: the configuration file .*none\.conf does not exist/);
});

test('user configuration: projects: NAME: options: apply to that project only, under -o; an unknown one names its line', () => {
  const conf = `${MINIMAL_CONF}options:\n  debug:\n    type: bool\n    default: False\n    variable: debug\n  extras:\n    type: flags\n    values: [a, b, c]\n    variable: extras\n`;
  const dir = writeProject({
    'project.conf': conf,
    'elements/x.bst': 'kind: stack\n',
    'kiln.conf': 'projects:\n  elsewhere:\n    options:\n      nonsense: 1\n  test:\n    options:\n      debug: True\n      extras: [c, a]\n',
    'bad.conf': 'projects:\n  test:\n    options:\n      debgu: True\n',
    'keys.conf': 'projects:\n  test:\n    option: {}\n',
  });
  const user = loadUserConfig(join(dir, 'kiln.conf'));
  const vars = (options?: Record<string, string>) =>
    loadProject(dir, { userOptions: user.projects!, ...(options ? { options } : {}) }).element('x.bst').variables;
  assert.is(vars().debug, '1');
  assert.is(vars().extras, 'a,c');
  assert.is(vars({ debug: 'False' }).debug, '0');
  const bad = loadUserConfig(join(dir, 'bad.conf'));
  assert.throws(
    () => loadProject(dir, { userOptions: bad.projects! }),
    (e: KilnError) =>
      e.code === 'option-unknown' &&
      e.message.includes(`unknown project option 'debgu' set in ${join(dir, 'bad.conf')}:4:14; the project declares debug, extras`),
  );
  assert.throws(
    () => loadUserConfig(join(dir, 'keys.conf')),
    (e: KilnError) => e.code === 'unknown-key' && e.message.includes(`${join(dir, 'keys.conf')}:3:5`),
  );
});

test.run();
