import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { YamlValue } from '../../../src/pipeline/model.js';
import { configureSource, fetchElements, runLimited, trackElements, type Source } from '../../../src/pipeline/sources/index.js';
import { cleanup, makeElement, makeProject, testCache } from './fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

test('runLimited: bounded concurrency, results in order, first failure thrown', async () => {
  let running = 0;
  let peak = 0;
  const job = (i: number) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 10 + ((i * 7) % 5)));
    running--;
    return i;
  };
  assert.equal(
    await runLimited(
      Array.from({ length: 9 }, (_, i) => job(i)),
      3,
    ),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.is(peak, 3);
  try {
    await runLimited([job(0), async () => Promise.reject(new Error('boom')), job(2)], 2);
    assert.unreachable('should throw');
  } catch (e) {
    assert.is((e as Error).message, 'boom');
  }
});

test('fetchElements downloads in parallel over http; trackElements writes changed refs only', async () => {
  const files: Record<string, string> = { '/a.txt': 'A', '/b.txt': 'B', '/c.txt': 'C' };
  let active = 0;
  let peak = 0;
  const server = createServer((req, res) => {
    active++;
    peak = Math.max(peak, active);
    setTimeout(() => {
      active--;
      const body = files[req.url ?? ''];
      if (body === undefined) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200);
      res.end(body);
    }, 150);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const dir = throwawayDir('kiln-src-');
  try {
    const project = makeProject(dir, { web: base });
    const elements = ['a', 'b', 'c'].map((n) =>
      makeElement(project, `${n}.bst`, [{ kind: 'remote', config: { url: `web:${n}.txt` }, ref: n === 'a' ? sha('A') : undefined }]),
    );
    const sources = new Map(elements.map((e) => [e, e.sources.map((d) => configureSource(d, e))]));
    const of = (e: (typeof elements)[number]): Source[] => sources.get(e)!;
    const tc = testCache();
    // b and c have no ref yet: fetch refuses up front, downloading nothing
    try {
      await fetchElements(elements, of, tc.ctx);
      assert.unreachable('should refuse');
    } catch (e) {
      assert.match((e as Error).message, /Exact versions are missing for the following elements:\n  b\.bst\n  c\.bst/);
    }
    assert.is(peak, 0);
    const written: [string, number, YamlValue][] = [];
    const tracked = await trackElements(elements, of, tc.ctx, (e, i, ref) => written.push([e.name, i, ref]), { jobs: 3 });
    assert.equal(
      written.sort(([a], [b]) => a.localeCompare(b)),
      [
        ['b.bst', 0, sha('B')],
        ['c.bst', 0, sha('C')],
      ],
      'a was already right',
    );
    assert.equal(
      tracked.map((t) => t.changed),
      [false, true, true],
    );
    assert.ok(peak >= 2, `tracks ran in parallel (peak ${peak})`);
    const tc2 = testCache();
    peak = 0;
    const fetched = await fetchElements(elements, of, tc2.ctx, { jobs: 3 });
    assert.equal(
      fetched.map((f) => [f.element.name, f.outcome]),
      [
        ['a.bst', 'fetched'],
        ['b.bst', 'fetched'],
        ['c.bst', 'fetched'],
      ],
    );
    assert.is(peak, 3, 'three downloads at once');
    const again = await fetchElements(elements, of, tc2.ctx, { jobs: 3 });
    assert.equal(
      again.map((f) => f.outcome),
      ['cached', 'cached', 'cached'],
    );
    cleanup(tc.root, tc2.root);
  } finally {
    server.close();
    cleanup(dir);
  }
});

test.run();
