import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContent } from '../../../src/fs/file-content.js';
import type { FileTree } from '../../../src/fs/tree.js';
import { ArtifactCache } from '../../../src/pipeline/cache/artifacts.js';
import { removeTree } from '../../../src/pipeline/util/remove-tree.js';
import { requireTool } from '../../helpers/tools.js';
import { writeBusyboxProject, writeProject } from '../fixtures/busybox-base/base.js';

/**
 * Staged roots link and bind the cache instead of copying it (staged-root.ts): commands must
 * not be able to change the cache through them — not by writing, truncating, chmod, unlink,
 * rename, a hard link into the install root or a remount — and what a run may change (a
 * writable root, a writable layout destination) must be private copies. As root and as a
 * non-root user (bwrap then runs rootless).
 */

requireTool('bwrap');
const repo = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kiln-staged-'));
chmodSync(work, 0o755);
const project = join(work, 'project');

/** One shell test per line of the report: "<what>: allowed|refused". */
const attempt = (what: string, command: string): string =>
  `if ( ${command} ) 2>/dev/null; then echo '${what}: allowed'; else echo '${what}: refused'; fi >> %{install-root}/report`;
const ATTACKS: [string, string][] = [
  ['append', 'echo evil >> FILE'],
  ['truncate', ': > FILE'],
  ['chmod', 'chmod 666 FILE'],
  ['unlink', 'rm -f FILE && ! test -e FILE'],
  ['rename', 'mv FILE FILE.moved'],
  ['hard link into the install root', 'ln FILE %{install-root}/linked'],
  ['new file beside it', 'touch FILE.new'],
  // every mount of the sandbox, the root and the read-only binds among them
  ['remount writable', 'for m in $(cut -d" " -f2 /proc/self/mounts); do mount -o remount,rw,bind $m; done; echo evil >> FILE'],
];
const attacks = (file: string): string[] => ATTACKS.map(([what, cmd]) => attempt(`${file} ${what}`, cmd.replaceAll('FILE', file)));

writeBusyboxProject(project, {
  // /bin mixes base and dep (deptool is a hard link in the staged root); /usr/share is dep's alone (a bind)
  'dep.bst': 'kind: import\nsources:\n- kind: local\n  path: files/dep\n',
  'attack.bst': `kind: manual
build-depends:
- base.bst
- dep.bst
config:
  install-commands:
  - touch %{install-root}/report
${[...attacks('/bin/deptool'), ...attacks('/usr/share/dep/data')].map((c) => `  - ${JSON.stringify(c)}\n`).join('')}  - stat -c '%i %h' /bin/deptool /usr/share/dep/data > %{install-root}/inodes
  - cat /bin/deptool /usr/share/dep/data > %{install-root}/seen
`,
  // a writable root: the run changes staged files of dep freely, in its own copy
  'writable.bst': `kind: script
build-depends:
- base.bst
- dep.bst
config:
  commands:
  - echo changed >> /bin/deptool
  - chmod 600 /usr/share/dep/data
  - echo changed >> /usr/share/dep/data
  - mkdir -p %{install-root}
  - cat /bin/deptool /usr/share/dep/data > %{install-root}/seen
  - stat -c %a /usr/share/dep/data > %{install-root}/mode
`,
  // integration commands run with the root writable: they change a staged file of dep
  'integrating.bst': `kind: import
sources:
- kind: local
  path: files/integrating
public:
  bst:
    integration-commands:
    - echo integrated >> /usr/share/dep/data
`,
  'integrated.bst': `kind: manual
build-depends:
- base.bst
- dep.bst
- integrating.bst
config:
  install-commands:
  - cat /usr/share/dep/data > %{install-root}/seen
`,
  // a writable layout destination (as the example's initramfs): chmod of a staged file works there
  'layout.bst': `kind: script
build-depends:
- base.bst
- dep.bst
variables:
  cwd: '%{build-root}'
config:
  root-read-only: True
  layout:
  - element: base.bst
    destination: /
  - element: dep.bst
    destination: '%{build-root}'
  commands:
  - chmod 700 usr/share/dep/data
  - echo changed >> usr/share/dep/data
  - cat usr/share/dep/data > %{install-root}/seen
  - stat -c %a usr/share/dep/data > %{install-root}/mode
  - touch /bin/deptool.new || echo refused > %{install-root}/root
`,
});
writeProject(project, {
  'files/dep/bin/deptool': '#!/bin/sh\necho deptool\n',
  'files/dep/usr/share/dep/data': 'original\n',
  'files/integrating/usr/share/integrating/marker': 'marker\n',
});
chmodSync(join(project, 'files/dep/bin/deptool'), 0o755);

function kiln(cache: string, args: string[], user: string[] = []) {
  const argv = [...user, process.execPath, '--import', 'tsx', join(repo, 'src/cli/main.ts'), '--cache-dir', cache, '-C', project, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, all: `${r.stdout}\n${r.stderr}` };
}

interface Built {
  cache: ArtifactCache;
  key: (name: string) => string;
  tree: (name: string) => FileTree;
  text: (name: string, path: string) => string;
}

function built(cacheDir: string, user: string[]): Built {
  const shown = JSON.parse(kiln(cacheDir, ['show', '--json', 'attack.bst', 'writable.bst', 'integrated.bst', 'layout.bst'], user).stdout) as {
    name: string;
    'full-key': string;
  }[];
  const cache = new ArtifactCache(cacheDir);
  const key = (name: string): string => shown.find((e) => e.name === name)!['full-key'];
  const tree = (name: string): FileTree => cache.load({ project: 'test', element: name, key: key(name) })!.tree;
  return { cache, key, tree, text: (name, path) => new TextDecoder().decode(readContent(tree(name).get(path)!.content!)) };
}

/** The artifact directory of `name` matches its manifest, file by file (bytes, mode), and every blob its name. */
function assertIntact(b: Built, cacheDir: string, name: string, digest: string): void {
  const loaded = b.cache.load({ project: 'test', element: name, key: b.key(name) })!;
  assert.is(loaded.digest, digest, `${name}: the artifact is unchanged`);
  const dir = join(cacheDir, 'extract', digest);
  for (const [path, inode] of loaded.tree.walk()) {
    if (inode.type !== 'file') continue;
    const host = join(dir, path);
    assert.equal(readFileSync(host), Buffer.from(readContent(inode.content!)), `${name}: ${path} in the artifact directory`);
    assert.is(lstatSync(host).mode & 0o7777, inode.mode, `${name}: mode of ${path}`);
  }
  const objects = join(cacheDir, 'cas/objects');
  for (const d of readdirSync(objects)) {
    for (const f of readdirSync(join(objects, d)))
      assert.is(
        createHash('sha256')
          .update(readFileSync(join(objects, d, f)))
          .digest('hex'),
        d + f,
        'blob matches its name',
      );
  }
}

function checkBuilds(label: string, user: string[]): void {
  const cacheDir = join(work, `cache-${label}`);
  mkdirSync(cacheDir);
  if (user.length > 0) {
    const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    chownSync(cacheDir, uid, uid);
  }
  const first = kiln(cacheDir, ['build', 'dep.bst'], user);
  assert.is(first.status, 0, first.all);
  const before = built(cacheDir, user);
  const digest = before.cache.load({ project: 'test', element: 'dep.bst', key: before.key('dep.bst') })!.digest;

  const r = kiln(cacheDir, ['build', 'attack.bst', 'writable.bst', 'integrated.bst', 'layout.bst'], user);
  assert.is(r.status, 0, r.all);
  const b = built(cacheDir, user);

  // read-only staging: every attempt refused, and the files seen are the cache's own inodes
  const report = b.text('attack.bst', 'report').trimEnd().split('\n');
  assert.is(report.length, ATTACKS.length * 2);
  for (const line of report) assert.match(line, /: refused$/, `${label}: ${line}`);
  assert.is(b.text('attack.bst', 'seen'), '#!/bin/sh\necho deptool\noriginal\n');
  const dir = join(cacheDir, 'extract', digest);
  const inodes = b
    .text('attack.bst', 'inodes')
    .trimEnd()
    .split('\n')
    .map((l) => Number(l.split(' ')[0]));
  assert.equal(inodes, [statSync(join(dir, 'bin/deptool')).ino, statSync(join(dir, 'usr/share/dep/data')).ino], 'staged without copying');

  // writable roots and destinations are private copies
  assert.is(b.text('writable.bst', 'seen'), '#!/bin/sh\necho deptool\nchanged\noriginal\nchanged\n');
  assert.is(b.text('writable.bst', 'mode'), '600\n');
  assert.is(b.text('integrated.bst', 'seen'), 'original\nintegrated\n');
  assert.is(b.text('layout.bst', 'seen'), 'original\nchanged\n');
  assert.is(b.text('layout.bst', 'mode'), '700\n');
  assert.is(b.text('layout.bst', 'root'), 'refused\n');

  assertIntact(b, cacheDir, 'dep.bst', digest);
}

test('as root: commands cannot change the cache through a staged root; writable parts are copies', () => {
  checkBuilds('root', []);
});

test('as a non-root user (rootless bwrap): the same', () => {
  if (process.getuid?.() !== 0) {
    checkBuilds('user', []);
    return;
  }
  const has = spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8' });
  assert.is(has.status, 0, 'runuser is needed to build as a non-root user (Debian package util-linux)');
  checkBuilds('user', ['runuser', '-u', 'nobody', '--']);
});

test.after(() => removeTree(work));

test.run();
