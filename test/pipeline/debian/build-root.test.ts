import { chmodSync, chownSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readContent } from '../../../src/fs/file-content.js';
import type { FileTree } from '../../../src/fs/tree.js';
import { stageBuildRoot } from '../../../src/pipeline/debian/build-root.js';
import { openDeb, readControlFiles } from '../../../src/pipeline/debian/deb-file.js';
import { sha256OfFile } from '../../../src/pipeline/debian/download.js';
import { requireTool, run } from '../../helpers/tools.js';
import { cleanup } from '../sources/fixtures.js';
import { throwawayDir } from '../../helpers/temp.js';

/**
 * Staging without the network: small packages built with dpkg-deb (the oracle for the .deb
 * format, each with another member compression) exercise ownership, setuid bits, hard links,
 * merged /usr with relative links, the alternatives of a postinst, and package order.
 */

const asRoot = process.getuid?.() === 0;

interface Pkg {
  name: string;
  compression: 'xz' | 'gzip' | 'zstd' | 'none';
  build(root: string): void;
  postinst?: string;
}

function buildDeb(dir: string, p: Pkg): { package: string; version: string; sha256: string; path: string } {
  const root = join(dir, `${p.name}-root`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(
    join(root, 'DEBIAN', 'control'),
    `Package: ${p.name}\nVersion: 1.0-1\nArchitecture: all\nMaintainer: kiln tests <t@example.invalid>\nDescription: test package ${p.name}\n`,
  );
  if (p.postinst) {
    writeFileSync(join(root, 'DEBIAN', 'postinst'), p.postinst);
    chmodSync(join(root, 'DEBIAN', 'postinst'), 0o755);
  }
  p.build(root);
  const out = join(dir, `${p.name}.deb`);
  run('dpkg-deb', [`-Z${p.compression}`, '--build', root, out]);
  return { package: p.name, version: '1.0-1', sha256: '', path: out };
}

function file(root: string, path: string, body: string, mode = 0o644): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), body);
  chmodSync(join(root, path), mode);
}

function text(tree: FileTree, path: string): string {
  return Buffer.from(readContent(tree.get(path)!.content!)).toString();
}

test('build root from dpkg-deb packages: owners, setuid, hard links, merged /usr, alternatives, order', async () => {
  requireTool('dpkg-deb');
  const dir = throwawayDir('kiln-debs-');
  const pkgs: Pkg[] = [
    {
      name: 'aa-tools',
      compression: 'xz',
      build(r) {
        file(r, 'bin/tool', '#!/bin/sh\necho tool\n', 0o755);
        chmodSync(join(r, 'bin/tool'), 0o4755);
        linkSync(join(r, 'bin/tool'), join(r, 'bin/tool-hard'));
        file(r, 'lib/x86_64-linux-gnu/libfoo.so.1.2', 'elf');
        symlinkSync('libfoo.so.1.2', join(r, 'lib/x86_64-linux-gnu/libfoo.so.1'));
        mkdirSync(join(r, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
        symlinkSync('../../../lib/x86_64-linux-gnu/libfoo.so.1', join(r, 'usr/lib/x86_64-linux-gnu/libfoo.so'));
        file(r, 'usr/lib/x86_64-linux-gnu/libbar.so.1.0', 'elf');
        symlinkSync('../../usr/lib/x86_64-linux-gnu/libbar.so.1.0', join(r, 'lib/x86_64-linux-gnu/libbar.so.1'));
        file(r, 'usr/bin/mawk', 'mawk', 0o755);
        file(r, 'usr/share/shared', 'from aa');
        if (asRoot) {
          file(r, 'usr/bin/grouped', 'g', 0o755);
          chownSync(join(r, 'usr/bin/grouped'), 0, 42);
          chmodSync(join(r, 'usr/bin/grouped'), 0o2755);
        }
      },
      postinst:
        '#!/bin/sh\nset -e\nupdate-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\\n  --slave /usr/bin/nawk nawk /usr/bin/mawk\nupdate-alternatives --install /usr/bin/gone gone /usr/bin/missing 9\n',
    },
    {
      name: 'base-passwd',
      compression: 'gzip',
      build(r) {
        file(r, 'usr/share/base-passwd/passwd.master', 'root:*:0:0:root:/root:/bin/sh\n');
        file(r, 'usr/share/base-passwd/group.master', 'root:*:0:\nshadow:*:42:\n');
      },
    },
    {
      name: 'dash',
      compression: 'zstd',
      build(r) {
        file(r, 'bin/dash', 'dash', 0o755);
        file(r, 'usr/share/shared', 'from dash');
        mkdirSync(join(r, 'tmp'));
        chmodSync(join(r, 'tmp'), 0o1777);
      },
    },
    { name: 'zz-none', compression: 'none', build: (r) => file(r, 'sbin/init', 'init', 0o755) },
  ];
  const debs = [];
  for (const p of [...pkgs].reverse()) {
    const d = buildDeb(dir, p);
    d.sha256 = await sha256OfFile(d.path);
    debs.push(d);
  }
  for (const d of debs) {
    const deb = openDeb(d.path);
    assert.is((await readControlFiles(deb)).has('control'), true, d.path);
  }
  const r = await stageBuildRoot(debs, { unpackDir: join(dir, 'unpack') });
  const t = r.tree;
  // merged /usr
  for (const d of ['bin', 'sbin', 'lib']) assert.is(t.get(d)?.target, `usr/${d}`, d);
  assert.is(t.get('usr/bin/tool')?.mode, 0o4755);
  assert.ok(t.get('usr/bin/tool') === t.get('usr/bin/tool-hard'), 'hard link kept as one inode');
  assert.is(t.get('usr/lib/x86_64-linux-gnu/libfoo.so.1')?.target, 'libfoo.so.1.2');
  // '../../../lib/...' from usr/lib/x86_64-linux-gnu still names the (moved) library
  assert.is(t.get('usr/lib/x86_64-linux-gnu/libfoo.so')?.target, '../../../lib/x86_64-linux-gnu/libfoo.so.1');
  // a relative link that climbed out of /lib is rewritten to name the same file from usr/lib
  assert.is(t.get('usr/lib/x86_64-linux-gnu/libbar.so.1')?.target, 'libbar.so.1.0');
  assert.is(t.get('usr/sbin/init')?.type, 'file');
  if (asRoot) {
    assert.is(t.get('usr/bin/grouped')?.gid, 42);
    assert.is(t.get('usr/bin/grouped')?.mode, 0o2755);
  }
  // alternatives: master and slave through /etc/alternatives; a missing target is skipped
  assert.is(t.get('usr/bin/awk')?.target, '/etc/alternatives/awk');
  assert.is(t.get('etc/alternatives/awk')?.target, '/usr/bin/mawk');
  assert.is(t.get('usr/bin/nawk')?.target, '/etc/alternatives/nawk');
  assert.is(t.has('usr/bin/gone'), false);
  // the fix-ups
  assert.is(t.get('usr/bin/sh')?.target, 'dash');
  assert.is(text(t, 'etc/passwd'), 'root:*:0:0:root:/root:/bin/sh\n');
  assert.match(text(t, 'etc/group'), /^shadow:\*:42:$/m);
  assert.match(text(t, 'etc/shells'), /^\/bin\/dash$/m);
  assert.is(t.get('tmp')?.mode, 0o1777);
  const status = text(t, 'var/lib/dpkg/status');
  assert.equal(
    [...status.matchAll(/^Package: (.*)$/gm)].map((m) => m[1]),
    ['aa-tools', 'base-passwd', 'dash', 'zz-none'],
  );
  // the later package (by name) wins a shared path, and it is reported
  assert.is(text(t, 'usr/share/shared'), 'from dash');
  assert.equal(r.overwritten, ['usr/share/shared (aa-tools → dash)']);

  // dpkg-deb's own listing is the oracle for modes (and owners as root) of every member
  let checked = 0;
  for (const d of debs) {
    for (const line of run('dpkg-deb', ['-c', d.path]).stdout.trim().split('\n')) {
      const m = /^(\S+) (\d+|\w+)\/(\d+|\w+)\s+\d+ \S+ \S+ \.\/(\S*?)\/?(?: -> | link to |$)/.exec(line);
      assert.ok(m, line);
      const p = m![4]!;
      if (p === '' || p === 'usr/share/shared' || p === 'tmp') continue;
      const top = p.split('/')[0]!;
      const inTree = ['bin', 'sbin', 'lib'].includes(top) ? `usr/${p}` : p;
      const inode = t.get(inTree);
      assert.ok(inode, `${inTree} (from ${d.package})`);
      checked++;
      const perm = m![1]!;
      const bits = (s: string, set: string, exec: string): number =>
        (s[0] === 'r' ? 4 : 0) + (s[1] === 'w' ? 2 : 0) + (s[2] === exec || s[2] === set.toLowerCase() ? 1 : 0);
      if (inode!.type !== 'symlink' && inode!.type !== 'dir') {
        const mode = (bits(perm.slice(1, 4), 's', 'x') << 6) | (bits(perm.slice(4, 7), 's', 'x') << 3) | bits(perm.slice(7, 10), 't', 'x');
        assert.is(inode!.mode & 0o777, mode, `${inTree} mode`);
        assert.is((inode!.mode & 0o4000) !== 0, /[sS]/.test(perm[3]!), `${inTree} setuid`);
      }
    }
  }

  assert.ok(checked >= 20, `${checked} members checked`);

  // staging twice gives the same tree (order of the input list does not matter)
  const again = await stageBuildRoot([...debs].reverse(), { unpackDir: join(dir, 'unpack') });
  const listing = (x: FileTree): string =>
    [...x.walk()].map(([p, i]) => `${p} ${i.type} ${i.mode.toString(8)} ${i.uid}:${i.gid} ${i.target ?? ''} ${i.content?.size ?? ''}`).join('\n');
  assert.is(listing(again.tree), listing(t));
  cleanup(dir);
});

test.run();
