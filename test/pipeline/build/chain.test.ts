import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContent } from '../../../src/fs/file-content.js';
import type { FileTree } from '../../../src/fs/tree.js';
import { requireTool } from '../../helpers/tools.js';
import { build, names, writeChainProject, writeHello } from './chain-project.js';

requireTool('bwrap');
const work = mkdtempSync(join(tmpdir(), 'kiln-chain-'));
const project = join(work, 'project');
const cache = join(work, 'cache');
writeChainProject(project);
const text = (t: FileTree, p: string): string => new TextDecoder().decode(readContent(t.get(p)!.content!));

test('import + manual + compose + script chain builds in the sandbox', async () => {
  const { p, summary } = await build(project, cache, ['report.bst']);
  assert.equal(names(summary.built), ['base.bst', 'hello.bst', 'report.bst', 'system.bst']);
  assert.equal(summary.failed, []);
  const byName = new Map(p.all.map((e) => [e.name, e]));
  const report = p.session.artifact(byName.get('report.bst')!);
  assert.is(text(report, 'out/hello.txt'), 'Hello World!\n', 'the script ran hello from the composed system');
  assert.match(text(report, 'out/ls.txt'), /^-rwsr-sr-x\s+1 0\s+0 /, 'setuid/setgid survived hello -> system -> the script sandbox');
  const hello = p.session.artifact(byName.get('hello.bst')!);
  assert.is(hello.get('usr/bin/hello')!.mode, 0o6755);
  assert.is(hello.get('usr/bin/hello')!.uid, 0);
  const system = p.session.artifact(byName.get('system.bst')!);
  assert.is(system.get('usr/bin/hello')!.mode, 0o6755);
  assert.is(system.get('bin/sh')!.type, 'symlink');
  assert.ok(system.has('tmp') && system.has('etc'), 'empty directories are kept');
  assert.not.ok(system.has('dev') || system.has('proc'), 'no sandbox mount points in the compose output');
  for (const e of p.all) assert.is(p.session.state(e), 'cached', e.name);
});

test('a second build is a no-op', async () => {
  const { planned, summary } = await build(project, cache, ['report.bst']);
  assert.equal(planned, []);
  assert.equal(summary.built, []);
});

test('only what changed is rebuilt: a script command, a source file, then the base', async () => {
  const reportFile = join(project, 'elements/report.bst');
  writeFileSync(reportFile, readFileSync(reportFile, 'utf8').replace('> %{install-root}/out/hello.txt', '> %{install-root}/out/hello2.txt'));
  assert.equal(names((await build(project, cache, ['report.bst'])).summary.built), ['report.bst']);
  writeHello(project, 'Hello again!');
  const second = await build(project, cache, ['report.bst']);
  assert.equal(names(second.summary.built), ['hello.bst', 'report.bst', 'system.bst']);
  const report = second.p.session.artifact(second.p.targets[0]!);
  assert.is(text(report, 'out/hello2.txt'), 'Hello again!\n');
  writeFileSync(join(project, 'files/base/etc/motd'), 'welcome\n');
  assert.equal(names((await build(project, cache, ['report.bst'])).summary.built), ['base.bst', 'hello.bst', 'report.bst', 'system.bst']);
  // Going back to an earlier state needs no build: those artifacts are still cached.
  rmSync(join(project, 'files/base/etc/motd'));
  assert.equal((await build(project, cache, ['report.bst'])).planned, []);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
