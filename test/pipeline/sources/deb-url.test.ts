import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { readContent } from '../../../src/fs/file-content.js';
import { FileTree } from '../../../src/fs/tree.js';
import { configureSource } from '../../../src/pipeline/sources/index.js';
import { DebUrlSource } from '../../../src/pipeline/sources/deb-url.js';
import { run } from '../../helpers/tools.js';
import { cleanup, makeElement, makeProject, testCache } from './fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/** bst 1.x's deb source (url + ref): a package built by dpkg-deb, its data archive staged. */

function buildDeb(dir: string, compression: string): string {
  const root = join(dir, `pkg-${compression}`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(root, 'DEBIAN', 'control'), 'Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: kiln <kiln@example.com>\nDescription: test\n');
  writeFileSync(join(root, 'usr', 'bin', 'hello'), '#!/bin/sh\necho hello\n');
  chmodSync(join(root, 'usr', 'bin', 'hello'), 0o755);
  mkdirSync(join(dir, 'upstream'), { recursive: true });
  const out = join(dir, 'upstream', `hello-${compression}.deb`);
  run('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, out]);
  return `hello-${compression}.deb`;
}

for (const compression of ['xz', 'gzip', 'none']) {
  test(`deb with a url (${compression}): track, fetch, stage the data archive at the root`, async () => {
    const dir = throwawayDir('kiln-src-');
    const name = buildDeb(dir, compression);
    const project = makeProject(dir, { up: `${pathToFileURL(join(dir, 'upstream')).href}/` });
    const tc = testCache();
    const el = makeElement(project, 'hello.bst', [{ kind: 'deb', directory: '', config: { url: `up:${name}` } }]);
    const s = configureSource(el.sources[0]!, el);
    assert.instance(s, DebUrlSource);
    s.setRef(await s.track(tc.ctx));
    await s.fetch(tc.ctx);
    const tree = new FileTree();
    await s.stage(tc.ctx, tree);
    assert.ok(tree.has('usr/bin/hello'));
    assert.is(Buffer.from(readContent(tree.get('usr/bin/hello')!.content!)).toString(), '#!/bin/sh\necho hello\n');
    assert.is(tree.get('usr/bin/hello')!.mode & 0o777, 0o755);
    assert.not.ok(tree.has('DEBIAN'));
    cleanup(dir, tc.root);
  });
}

test("deb: the url shape and kiln's package shape do not mix", () => {
  const dir = throwawayDir('kiln-src-');
  const project = makeProject(dir);
  const refused = (config: Record<string, string | string[]>, expect: RegExp): void => {
    const el = makeElement(project, 'x.bst', [{ kind: 'deb', directory: '', config }]);
    try {
      configureSource(el.sources[0]!, el);
      assert.unreachable('expected an error');
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      assert.match(e.message, expect);
    }
  };
  refused({ url: 'https://example.com/x.deb', packages: ['busybox'] }, /'packages' does not go with 'url'/);
  refused({ packages: ['busybox'], 'base-dir': 'usr' }, /'base-dir' needs 'url'/);
  cleanup(dir);
});

test.run();
