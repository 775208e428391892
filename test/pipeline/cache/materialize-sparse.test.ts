import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostFileContent } from '../../../src/fs/content.js';
import { FileTree } from '../../../src/fs/tree.js';
import { materialize } from '../../../src/pipeline/cache/materialize.js';

test('materialize keeps the holes of a sparse file (a disk image in an artifact)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sparse-'));
  try {
    const src = join(dir, 'disk.img');
    const fd = openSync(src, 'w');
    ftruncateSync(fd, 64 << 20);
    writeSync(fd, Buffer.from('boot'), 0, 4, 0);
    writeSync(fd, Buffer.from('middle'), 0, 6, 32 << 20);
    closeSync(fd);
    const tree = new FileTree();
    tree.file('sda.img', HostFileContent.of(src));
    materialize(tree, join(dir, 'out'));
    const out = join(dir, 'out', 'sda.img');
    const st = statSync(out);
    assert.is(st.size, 64 << 20);
    assert.ok(st.blocks * 512 < 1 << 20, `checkout allocated ${st.blocks * 512} bytes for a 64 MiB image with 10 bytes of data`);
    assert.equal(readFileSync(out), readFileSync(src));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
