import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { readContent } from '../../../src/fs/file-content.js';
import { configureSource, SOURCE_MTIME, stageSources } from '../../../src/pipeline/sources/index.js';
import { run } from '../../helpers/tools.js';
import { cleanup, filesUnder, makeElement, makeProject, testCache } from './fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

const ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' };
const git = (repo: string, ...args: string[]): string => run('git', ['-C', repo, ...args], { env: ENV }).stdout.trim();

function repo(dir: string): string {
  const r = join(dir, 'repos', 'hello');
  mkdirSync(join(r, 'src'), { recursive: true });
  run('git', ['init', '-q', '-b', 'main', r]);
  writeFileSync(join(r, 'src', 'main.c'), 'int main(void) { return 0; }\n');
  writeFileSync(join(r, 'build.sh'), '#!/bin/sh\ncc src/main.c\n');
  chmodSync(join(r, 'build.sh'), 0o755);
  symlinkSync('build.sh', join(r, 'configure'));
  git(r, 'add', '-A');
  git(r, 'commit', '-q', '-m', 'one');
  return r;
}

test('git: track resolves the branch, fetch mirrors, stage gives the commit tree with modes and symlinks', async () => {
  const dir = throwawayDir('kiln-src-');
  const r = repo(dir);
  const first = git(r, 'rev-parse', 'HEAD');
  const project = makeProject(dir, { repos: `file://${join(dir, 'repos')}/` });
  const tc = testCache();
  const el = makeElement(project, 'hello.bst', [{ kind: 'git', directory: 'src', config: { url: 'repos:hello', track: 'main' } }]);
  const src = configureSource(el.sources[0]!, el);
  assert.is(src.uniqueKey(), undefined);
  const ref = await src.track(tc.ctx);
  assert.is(ref, first);
  src.setRef(ref);
  assert.ok(src.isCached(tc.ctx), 'track fetched the mirror');
  const tree = await stageSources([src], tc.ctx);
  assert.is(Buffer.from(readContent(tree.get('src/src/main.c')!.content!)).toString(), 'int main(void) { return 0; }\n');
  assert.is(tree.get('src/build.sh')!.mode, 0o755);
  assert.is(tree.get('src/configure')!.target, 'build.sh');
  assert.not.ok(tree.has('src/.git'));
  assert.equal(tree.get('src/build.sh')!.mtime, SOURCE_MTIME);
  assert.equal(src.uniqueKey(), ['repos:hello', first]);
  // upstream moves on: track follows, the old pin still stages from the mirror
  writeFileSync(join(r, 'NEWS'), 'two\n');
  git(r, 'add', 'NEWS');
  git(r, 'commit', '-q', '-m', 'two');
  const second = await src.track(tc.ctx);
  assert.is(second, git(r, 'rev-parse', 'HEAD'));
  assert.is.not(second, first);
  const again = await stageSources([src], tc.ctx);
  assert.not.ok(again.has('src/NEWS'), 'the pinned commit is staged, not the branch head');
  cleanup(dir, tc.root);
});

test('git: a project mirror serves a pinned commit upstream no longer has; upstream is tracked first', async () => {
  const dir = throwawayDir('kiln-src-');
  const r = repo(dir);
  const pinned = git(r, 'rev-parse', 'HEAD');
  // the team's mirror keeps the old history; upstream is rewritten and loses the pinned commit
  run('git', ['clone', '-q', '--mirror', r, join(dir, 'mirror', 'hello')]);
  git(r, 'commit', '-q', '--amend', '-m', 'rewritten');
  git(r, 'reflog', 'expire', '--expire=now', '--all');
  git(r, 'gc', '-q', '--prune=now');
  const project = makeProject(dir, { repos: `file://${join(dir, 'repos')}/` }, [{ name: 'team', aliases: { repos: [`file://${join(dir, 'mirror')}/`] } }]);
  const el = makeElement(project, 'hello.bst', [{ kind: 'git', config: { url: 'repos:hello', track: 'main' }, ref: pinned }]);
  const tc = testCache();
  const src = configureSource(el.sources[0]!, el);
  await src.fetch(tc.ctx);
  assert.ok(src.isCached(tc.ctx));
  // track asks upstream first: the rewritten head, not the mirror's
  assert.is(await src.track(tc.ctx), git(r, 'rev-parse', 'HEAD'));
  // neither has an unknown commit: the error names every repository tried
  const none = makeElement(project, 'none.bst', [{ kind: 'git', config: { url: 'repos:hello', track: 'main' }, ref: 'a'.repeat(40) }]);
  try {
    await configureSource(none.sources[0]!, none).fetch(testCache().ctx);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, KilnError);
    assert.match((e as KilnError).message, /is in none of the repositories tried:\n.*mirror\/hello.*\n.*repos\/hello/);
  }
  cleanup(dir, tc.root);
});

test('git: bad refs, missing track and ref, unknown commit', async () => {
  const dir = throwawayDir('kiln-src-');
  const r = repo(dir);
  const project = makeProject(dir);
  const tc = testCache();
  const bad = makeElement(project, 'g.bst', [{ kind: 'git', config: { url: `file://${r}` }, ref: 'main' }]);
  assert.throws(() => configureSource(bad.sources[0]!, bad), /ref 'main' is not a commit/);
  const none = makeElement(project, 'g.bst', [{ kind: 'git', config: { url: `file://${r}` } }]);
  assert.throws(() => configureSource(none.sources[0]!, none), /one of 'ref' or 'track' is required/);
  const ghost = makeElement(project, 'g.bst', [{ kind: 'git', config: { url: `file://${r}`, track: 'main' }, ref: 'f'.repeat(40) }]);
  const src = configureSource(ghost.sources[0]!, ghost);
  let err: unknown;
  try {
    await src.fetch(tc.ctx);
  } catch (e) {
    err = e;
  }
  assert.instance(err, KilnError);
  assert.match((err as KilnError).message, new RegExp(`commit ${'f'.repeat(40)} is in none of the repositories tried:\n  file://`));
  assert.not.ok(
    filesUnder(tc.root).some((f) => f.includes('.partial')),
    'no partial clone left',
  );
  cleanup(dir, tc.root);
});

test.run();
