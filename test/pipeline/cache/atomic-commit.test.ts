import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readContent } from '../../../src/fs/file-content.js';
import { openCache } from '../../../src/pipeline/cache/artifacts.js';
import type { BlobContent } from '../../../src/pipeline/cache/blobs.js';
import { cleanup, filesUnder } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * kill -9 in the middle of a commit never leaves a ref a later build would trust: the killed
 * key is absent, every present ref loads with every blob verifying, leftovers are only temp files
 * (cleaned later), and committing again succeeds.
 */

const CHILD = new URL('./commit-child.ts', import.meta.url).pathname;
const key = (n: number): string => createHash('sha256').update(`key${n}`).digest('hex');

function runChild(root: string, mode: string, after: number, keys: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, root, mode, String(after), keys.join(',')], { encoding: 'utf8' });
  return { status: r.status, signal: r.signal, stdout: r.stdout };
}

function verifyAll(root: string, keys: string[]): string[] {
  const cache = openCache(root);
  const present: string[] = [];
  for (const k of keys) {
    const ref = { project: 'p', element: 'e.bst', key: k };
    if (!cache.artifacts.has(ref)) continue;
    present.push(k);
    const { tree } = cache.artifacts.load(ref)!;
    assert.is(tree.children('d').length, 200);
    tree.forEachInode((i) => {
      if (i.type !== 'file') return;
      const c = i.content as BlobContent;
      assert.is(createHash('sha256').update(readContent(c)).digest('hex'), c.digest, 'every blob of a published ref verifies');
    });
    assert.is(tree.get('d/f0')!.mode, 0o4755);
  }
  return present;
}

test('kill -9 after some blobs were written: no ref, temps cleaned, recommit works', () => {
  const root = throwawayDir('kiln-src-');
  const keys = [key(1), key(2)];
  const r = runChild(root, 'blobs', 250, keys);
  assert.is(r.signal, 'SIGKILL');
  assert.match(r.stdout, new RegExp(`done ${keys[0]}\\nbegin ${keys[1]}\\n$`), 'killed inside the second commit');
  assert.equal(verifyAll(root, keys), [keys[0]]);
  assert.ok(filesUnder(`${root}/cas/objects`).length > 200, 'some blobs of the killed commit landed (unreferenced)');
  const ok = runChild(root, 'none', 0, [keys[1]]);
  assert.is(ok.status, 0);
  assert.equal(verifyAll(root, keys), keys);
  cleanup(root);
});

test('kill -9 with the ref written but not yet renamed: the ref is not trusted (absent)', () => {
  const root = throwawayDir('kiln-src-');
  const keys = [key(3)];
  const r = runChild(root, 'ref', 0, keys);
  assert.is(r.signal, 'SIGKILL');
  assert.equal(verifyAll(root, keys), []);
  const leftovers = filesUnder(`${root}/artifacts`);
  assert.equal(leftovers.length, 1);
  assert.match(leftovers[0]!, /^\.tmp\/\d+-/, 'only a temp ref remains');
  const cache = openCache(root);
  assert.is(cache.artifacts.cleanStaleTemps(), 1);
  assert.equal(filesUnder(`${root}/artifacts`), []);
  cleanup(root);
});

test('kill -9 at arbitrary times during a stream of commits: every published ref is whole', async () => {
  const root = throwawayDir('kiln-src-');
  const keys = Array.from({ length: 6 }, (_, i) => key(10 + i));
  for (const delay of [5, 40, 90, 160]) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, 'none', '0', keys.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('begin') && !child.killed) setTimeout(() => child.kill('SIGKILL'), delay);
      });
      child.on('close', () => resolve());
    });
    const present = verifyAll(root, keys);
    for (const k of keys) if (out.includes(`done ${k}`)) assert.ok(present.includes(k), 'a commit that returned is published');
  }
  cleanup(root);
});

test.run();
