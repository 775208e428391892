import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTarget, KilnError } from '../../../src/index.js';
import { readSwap, writeSwap } from '../../../src/fs/swap.js';
import { propertyRuns, run } from '../../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-swap-'));
const repo = new URL('../../..', import.meta.url).pathname;

function blkid(path: string): Record<string, string> {
  const out = run('blkid', ['-p', '-o', 'export', path]).stdout;
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

test('header fields land where the kernel and blkid read them', () => {
  const t = new MemoryTarget(64 * 4096);
  const info = writeSwap(t, { label: 'swp', uuid: '0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b' });
  const b = t.bytes;
  assert.is(Buffer.from(b.subarray(4096 - 10, 4096)).toString('latin1'), 'SWAPSPACE2');
  const v = new DataView(b.buffer);
  assert.is(v.getUint32(1024, true), 1);
  assert.is(v.getUint32(1028, true), 63);
  assert.is(info.lastPage, 63);
  assert.is(Buffer.from(b.subarray(1036, 1052)).toString('hex'), '0f5a3c1e6b2d4e8f9a7b1c2d3e4f5a6b');
  assert.is(Buffer.from(b.subarray(1052, 1055)).toString(), 'swp');
  assert.equal(readSwap(t), { pageSize: 4096, lastPage: 63, label: 'swp', uuid: '0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b' });
});

test('fewer than 10 pages, long labels and bad UUIDs are refused before writing', () => {
  const t = new MemoryTarget(9 * 4096 + 4095);
  assert.throws(
    () => writeSwap(t),
    (e: unknown) => e instanceof KilnError && /at least 10/.test(e.message),
  );
  assert.ok(t.bytes.every((x) => x === 0));
  const u = new MemoryTarget(10 * 4096);
  assert.throws(() => writeSwap(u, { label: 'x'.repeat(17) }), /longer than 16/);
  assert.throws(() => writeSwap(u, { uuid: 'nope' }), /invalid swap UUID/);
  assert.ok(u.bytes.every((x) => x === 0));
  writeSwap(u);
});

test('default UUID is deterministic and differs with size and label', () => {
  const a = writeSwap(new MemoryTarget(40960)).uuid;
  assert.is(writeSwap(new MemoryTarget(40960)).uuid, a);
  assert.is.not(writeSwap(new MemoryTarget(45056)).uuid, a);
  assert.is.not(writeSwap(new MemoryTarget(40960), { label: 'x' }).uuid, a);
});

test('property: blkid and swaplabel read back label, UUID and size', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 10, max: 5000 }),
      fc.integer({ min: 0, max: 4095 }),
      fc.stringMatching(/^[A-Za-z0-9_.-]{0,16}$/),
      fc.uuid({ version: 4 }),
      (pages, extra, label, uuid) => {
        const path = join(dir, 'p.swap');
        const t = new MemoryTarget(pages * 4096 + extra);
        writeSwap(t, { label, uuid });
        writeFileSync(path, t.bytes);
        const b = blkid(path);
        assert.is(b.TYPE, 'swap');
        assert.is(b.UUID, uuid);
        assert.is(b.LABEL, label === '' ? undefined : label);
        assert.is(b.VERSION, '1');
        const sl = run('swaplabel', [path]).stdout;
        assert.match(sl, `UUID:  ${uuid}`);
        if (label) assert.match(sl, `LABEL: ${label}`);
        assert.is(readSwap(t).lastPage, pages - 1);
      },
    ),
    { numRuns: propertyRuns(40), includeErrorInReport: true },
  );
});

test('kiln mkfs swap: sparse file, readable by blkid; errors leave no file', () => {
  const out = join(dir, 'cli.swap');
  const cli = (args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { encoding: 'utf8', stdio: 'pipe' });
  cli(['mkfs', 'swap', '--size', '64M', '--label', 'SWAP', out]);
  const st = statSync(out);
  assert.is(st.size, 64 * 1024 * 1024);
  assert.ok(st.blocks * 512 <= 16384, `swap file is not sparse: ${st.blocks} blocks`);
  const b = blkid(out);
  assert.is(b.TYPE, 'swap');
  assert.is(b.LABEL, 'SWAP');
  assert.throws(() => cli(['mkfs', 'swap', '--size', '32K', join(dir, 'small.swap')]), /at least 10/);
  assert.not.ok(existsSync(join(dir, 'small.swap')));
  assert.is(readFileSync(out).subarray(4086, 4096).toString(), 'SWAPSPACE2');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
