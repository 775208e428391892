import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyCounter, LiveLine, type CopyProgress } from '../../src/cli/live.js';
import { FileTree } from '../../src/fs/tree.js';
import { materialize } from '../../src/pipeline/cache/materialize.js';

/**
 * checkout's progress (issue 11): a directory checkout copies content as it is (reflinks), so
 * the counter is told the totals (expectTree) and each file as materialize writes it; hard
 * links count once; the live line is drawn on a terminal only.
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-co-progress-'));

function tree(): FileTree {
  const t = new FileTree();
  t.mkdir('etc');
  t.file('etc/hostname', 'kiln\n');
  t.file('big', new Uint8Array(300_000).fill(7));
  t.link('big-again', 'big');
  t.symlink('link', 'big');
  return t;
}

test('a directory checkout counts every file and byte once', () => {
  const seen: CopyProgress[] = [];
  const counter = new CopyCounter((p) => seen.push(p));
  const t = tree();
  counter.expectTree(t);
  assert.equal(counter.progress, { files: 0, totalFiles: 2, bytes: 0, totalBytes: 300_005 });
  materialize(t, join(dir, 'out'), { rootMeta: false, onFileWritten: (bytes) => counter.copied(bytes) });
  counter.flush();
  assert.equal(seen.at(-1), { files: 2, totalFiles: 2, bytes: 300_005, totalBytes: 300_005 });
  assert.is(readFileSync(join(dir, 'out', 'etc', 'hostname'), 'utf8'), 'kiln\n');
});

test('the line is drawn on a terminal, not in a pipe, not with -q', () => {
  const p: CopyProgress = { files: 1, totalFiles: 2, bytes: 5, totalBytes: 300_005 };
  for (const [isTTY, quiet, drawn] of [
    [true, false, true],
    [false, false, false],
    [true, true, false],
  ] as const) {
    let text = '';
    const line = new LiveLine('checking out x.bst', { quiet }, { isTTY, columns: 120, write: (s: string) => (text += s) });
    line.update(p);
    line.stop();
    assert.is(text.includes('checking out x.bst: 1/2 files, 5 B of 293.0 KiB (0%)'), drawn, `${isTTY} ${quiet}: ${JSON.stringify(text)}`);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
