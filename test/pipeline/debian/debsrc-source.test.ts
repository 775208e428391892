import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { readContent } from '../../../src/fs/file-content.js';
import { AptState } from '../../../src/pipeline/debian/apt-state.js';
import { sha256OfFile } from '../../../src/pipeline/debian/download.js';
import { sourceVersions } from '../../../src/pipeline/debian/source-package.js';
import { configureSource, stageSources } from '../../../src/pipeline/sources/index.js';
import type { DebsrcSource } from '../../../src/pipeline/sources/debsrc.js';
import { run } from '../../helpers/tools.js';
import { cleanup, makeElement, makeProject, testCache } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * The `debsrc` source against the real archive: deb-src entries derived from the machine's
 * sources, the orig tarball tracked and fetched by sha256, staged like `tar`.
 */

const tc = testCache();

test("debsrc: track hello gets the orig tarball's sha256; fetch verifies; stage strips the top directory", async () => {
  const project = makeProject(throwawayDir('kiln-src-'));
  const el = makeElement(project, 'hello-src.bst', [{ kind: 'debsrc', directory: 'src', config: { package: 'hello' } }]);
  const src = configureSource(el.sources[0]!, el) as DebsrcSource;
  const tracked = (await src.track(tc.ctx)) as Record<string, string>;
  assert.equal(Object.keys(tracked).sort(), ['filename', 'sha256', 'tracked', 'version']);
  const ref = tracked['sha256']!;
  assert.match(tracked['tracked']!, /^\d{8}T\d{6}Z$/);

  // oracle: apt-cache showsrc in the same private state lists the orig tarball with this digest
  const apt = await AptState.open(join(tc.ctx.sourceDir, 'deb', 'apt'));
  const shown = run('apt-cache', ['-c', apt.configFile, 'showsrc', 'hello']).stdout;
  const line = shown.split('\n').find((l) => / hello_[^ ]+\.orig\.tar\.[a-z0-9]+$/.test(l) && /^ [0-9a-f]{64} /.test(l));
  assert.ok(line, shown);
  assert.is(ref, line!.trim().split(' ')[0]);
  // the archive path and version are the ones showsrc gives for that file
  const record = shown.split('\n\n').find((r) => r.includes(ref))!;
  assert.is(tracked['filename'], `${/^Directory: (.*)$/m.exec(record)![1]}/${line!.trim().split(' ')[2]}`);
  assert.is(tracked['version'], /^Version: (.*)$/m.exec(record)![1]);

  src.setRef(tracked);
  await src.fetch(tc.ctx);
  assert.ok(src.isCached(tc.ctx));
  assert.is(await sha256OfFile(src.cachedPath(tc.ctx)), ref);

  const tree = await stageSources([src], tc.ctx);
  assert.is(tree.get('src/configure')?.type, 'file');
  assert.ok(tree.has('src/src/hello.c'));
  assert.match(Buffer.from(readContent(tree.get('src/src/hello.c')!.content!)).toString(), /Hello, world!/);
  // the tarball's own listing is the oracle for what was staged
  const listed = run('tar', ['-tzf', src.cachedPath(tc.ctx)])
    .stdout.split('\n')
    .filter((l) => l && !l.endsWith('/'));
  for (const member of listed) assert.ok(tree.has(`src/${member.replace(/^[^/]+\//, '')}`), member);
});

test('debsrc: a pinned version picks its file; an unknown version or file is a clear error', async () => {
  const project = makeProject(throwawayDir('kiln-src-'));
  const apt = await AptState.open(join(tc.ctx.sourceDir, 'deb', 'apt'));
  const versions = await sourceVersions(apt, 'hello');
  assert.ok(versions.length > 0);
  const v = versions[0]!;
  const dsc = v.files.find((f) => f.file.endsWith('.dsc'))!;
  const el = makeElement(project, 'h.bst', [{ kind: 'debsrc', config: { package: 'hello', version: v.version, file: dsc.file } }]);
  const src = configureSource(el.sources[0]!, el);
  assert.is(((await src.track(tc.ctx)) as Record<string, string>)['sha256'], dsc.sha256);

  const gone = makeElement(project, 'g.bst', [{ kind: 'debsrc', config: { package: 'hello', version: '0.0-kiln-gone' } }]);
  try {
    await configureSource(gone.sources[0]!, gone).track(tc.ctx);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, KilnError);
    assert.is((e as KilnError).code, 'debsrc-not-found');
    assert.ok(((e as KilnError).hint ?? '').includes(v.version), (e as KilnError).hint);
  }
  const nofile = makeElement(project, 'n.bst', [{ kind: 'debsrc', config: { package: 'hello', file: 'nope.tar.gz' } }]);
  try {
    await configureSource(nofile.sources[0]!, nofile).track(tc.ctx);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, KilnError);
    assert.match((e as KilnError).message, /no file 'nope\.tar\.gz'.*hello_/);
  }
  // a pinned digest that no version has: fetch says the archive moved on
  const moved = makeElement(project, 'm.bst', [{ kind: 'debsrc', config: { package: 'hello' }, ref: 'd'.repeat(64) }]);
  try {
    await configureSource(moved.sources[0]!, moved).fetch(tc.ctx);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, KilnError);
    assert.is((e as KilnError).code, 'debsrc-gone');
    assert.match((e as KilnError).hint ?? '', /kiln track/);
  }
});

test.after(() => cleanup(tc.root));
test.run();
