import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileTree, MemoryTarget, planExt4, writeExt4, type ContentReader, type FileContent } from '../../../src/index.js';

// The model keeps no path per inode; messages find an inode's first path in the walk.

test('a short read names the first path of the file (of several links)', () => {
  const tree = new FileTree();
  tree.mkdir('d');
  tree.file('d/a', 'a');
  // ten bytes promised, three given
  const liar: FileContent = {
    size: 10,
    open: (): ContentReader => ({ read: (_offset, into) => Math.min(3, into.length), close: () => {} }),
  };
  tree.file('d/b', liar);
  tree.link('d/c', 'd/b');
  const target = new MemoryTarget(8 << 20);
  assert.throws(
    () => writeExt4(tree, target),
    (e: Error) => /'d\/b': expected 10 bytes, the content ended at 3/.test(e.message),
  );
});

test('too many hard links names the first path of the file', () => {
  const tree = new FileTree();
  tree.file('z-first', 'x');
  tree.mkdir('links');
  for (let i = 0; i < 65000; i++) tree.link(`links/${i}`, 'z-first');
  assert.throws(
    () => planExt4(tree),
    (e: Error) => /'links\/0' has more than 65000 hard links/.test(e.message),
  );
});

test.run();
