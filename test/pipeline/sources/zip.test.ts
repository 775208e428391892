import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { readContent } from '../../../src/fs/file-content.js';
import { FileTree } from '../../../src/fs/tree.js';
import { configureSource } from '../../../src/pipeline/sources/index.js';
import { run } from '../../helpers/tools.js';
import { cleanup, makeElement, makeProject, testCache } from './fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * zip (bst 1.x core): archives made by Python's zipfile (the module bst itself extracts with),
 * stored and deflated members, explicit and implied directories, staged with bst's modes.
 */

/** Zips `root`'s entries with Python's zipfile; `-` stores, `+` deflates. */
function zip(root: string, out: string, deflate: boolean, explicitDirs: boolean): void {
  const script = [
    'import os, sys, zipfile',
    'root, out, method, dirs = sys.argv[1], sys.argv[2], zipfile.ZIP_DEFLATED if sys.argv[3] == "+" else zipfile.ZIP_STORED, sys.argv[4] == "1"',
    'with zipfile.ZipFile(out, "w", method) as z:',
    '    for d, subdirs, files in sorted(os.walk(root)):',
    '        rel = os.path.relpath(d, root)',
    '        if dirs and rel != ".": z.write(d, rel + "/")',
    '        for f in sorted(files): z.write(os.path.join(d, f), os.path.normpath(os.path.join(rel, f)))',
  ].join('\n');
  run('python3', ['-c', script, root, out, deflate ? '+' : '-', explicitDirs ? '1' : '0']);
}

const text = (tree: FileTree, path: string): string => Buffer.from(readContent(tree.get(path)!.content!)).toString();

for (const [label, deflate, dirs] of [
  ['stored, explicit directories', false, true],
  ['deflated, implied directories', true, false],
] as const) {
  test(`zip (${label}): track, fetch, stage under base-dir '*' with bst's modes`, async () => {
    const dir = throwawayDir('kiln-src-');
    const src = join(dir, 'src');
    mkdirSync(join(src, 'pkg-1.0', 'sub'), { recursive: true });
    writeFileSync(join(src, 'pkg-1.0', 'configure'), '#!/bin/sh\necho configured\n', { mode: 0o755 });
    writeFileSync(join(src, 'pkg-1.0', 'sub', 'data'), Buffer.alloc(70_000, 7));
    symlinkSync('configure', join(src, 'pkg-1.0', 'link'));
    mkdirSync(join(dir, 'upstream'));
    zip(src, join(dir, 'upstream', 'p.zip'), deflate, dirs);
    const project = makeProject(dir, { up: `${pathToFileURL(join(dir, 'upstream')).href}/` });
    const tc = testCache();
    const el = makeElement(project, 'pkg.bst', [{ kind: 'zip', directory: '', config: { url: 'up:p.zip' } }]);
    const s = configureSource(el.sources[0]!, el);
    s.setRef(await s.track(tc.ctx));
    await s.fetch(tc.ctx);
    const tree = new FileTree();
    await s.stage(tc.ctx, tree);
    assert.equal(
      [...tree.walk()]
        .map(([p]) => p)
        .filter(Boolean)
        .sort(),
      ['configure', 'link', 'sub', 'sub/data'],
    );
    assert.is(text(tree, 'configure'), '#!/bin/sh\necho configured\n');
    assert.is(readContent(tree.get('sub/data')!.content!).length, 70_000);
    // bst: files 0644 (even executables), directories 0755; zipfile wrote the link's target as a file
    assert.is(tree.get('configure')!.mode & 0o7777, 0o644);
    assert.is(tree.get('sub')!.mode & 0o7777, 0o755);
    assert.is(tree.get('link')!.type, 'file');
    assert.equal(s.uniqueKey(), ['up:p.zip', s.ref, '*']);
    cleanup(dir, tc.root);
  });
}

test('zip: a damaged archive and a base-dir that matches nothing are refused by name', async () => {
  const dir = throwawayDir('kiln-src-');
  mkdirSync(join(dir, 'upstream'));
  writeFileSync(join(dir, 'upstream', 'bad.zip'), 'not a zip at all');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'top.txt'), 'x');
  zip(join(dir, 'src'), join(dir, 'upstream', 'flat.zip'), true, false);
  const project = makeProject(dir, { up: `${pathToFileURL(join(dir, 'upstream')).href}/` });
  const tc = testCache();
  const staged = async (config: Record<string, string>): Promise<KilnError> => {
    const s = configureSource(makeElement(project, 'z.bst', [{ kind: 'zip', directory: '', config }]).sources[0]!, makeElement(project, 'z.bst', []));
    s.setRef(await s.track(tc.ctx));
    await s.fetch(tc.ctx);
    try {
      await s.stage(tc.ctx, new FileTree());
    } catch (e) {
      if (e instanceof KilnError) return e;
      throw e;
    }
    throw new Error('expected staging to fail');
  };
  assert.match((await staged({ url: 'up:bad.zip' })).message, /no end of central directory record/);
  assert.match((await staged({ url: 'up:flat.zip' })).message, /base-dir '\*' matches no directory in the archive/);
  cleanup(dir, tc.root);
});

test.run();
