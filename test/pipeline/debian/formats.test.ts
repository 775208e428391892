import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '../../../src/errors.js';
import { chooseAlternatives, parseAlternatives } from '../../../src/pipeline/debian/alternatives.js';
import { listArMembers } from '../../../src/pipeline/debian/ar.js';
import { parsePrintUris, debFileName } from '../../../src/pipeline/debian/closure.js';
import { parseDeb822 } from '../../../src/pipeline/debian/deb822.js';
import { derivePrivateSources, oneLineToParagraph, readHostSources } from '../../../src/pipeline/debian/host-sources.js';
import { MergedUsr } from '../../../src/pipeline/debian/merged-usr.js';
import { defaultSourceFile } from '../../../src/pipeline/debian/source-package.js';
import { run } from '../../helpers/tools.js';

/** The offline parts of the Debian support: formats and rules, with `ar` as the archive oracle. */

test('ar: members, offsets and sizes match what binutils ar wrote (odd sizes padded)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-ar-'));
  try {
    const names = ['debian-binary', 'control.tar.xz', 'odd', 'a-rather-long-member-name.tar'];
    const bodies = ['2.0\n', 'x'.repeat(1001), 'y', 'z'.repeat(4096)];
    names.forEach((n, i) => writeFileSync(join(dir, n), bodies[i]!));
    // ar stores names as given: build from inside the directory
    run('sh', ['-c', `cd '${dir}' && ar rcD a.ar ${names.join(' ')}`]);
    const members = listArMembers(join(dir, 'a.ar'));
    const listed = run('sh', ['-c', `cd '${dir}' && ar t a.ar`])
      .stdout.trim()
      .split('\n');
    assert.equal(
      members.map((m) => m.name),
      listed,
    );
    const bytes = readFileSync(join(dir, 'a.ar'));
    members.forEach((m, i) => {
      assert.is(m.name, names[i]);
      assert.is(m.size, bodies[i]!.length);
      assert.is(bytes.subarray(m.offset, m.offset + m.size).toString(), bodies[i]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ar: a file that is not an ar archive is refused with what to do', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-ar-'));
  try {
    writeFileSync(join(dir, 'x.deb'), 'not an archive at all');
    try {
      listArMembers(join(dir, 'x.deb'));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, KilnError);
      assert.is((e as KilnError).code, 'deb-not-ar');
      assert.match((e as KilnError).hint ?? '', /fetch it again/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deb822: paragraphs, continuation lines, comments; round trip keeps multi-line values', () => {
  const text = '# comment\nTypes: deb\nURIs: http://example.invalid/debian\nSigned-By:\n -----BEGIN PGP\n .\n -----END PGP\n\n\nPackage: a\nVersion: 1\n';
  const ps = parseDeb822(text, { comments: true });
  assert.is(ps.length, 2);
  assert.is(ps[0]!.get('types'), 'deb');
  assert.is(ps[0]!.get('Signed-By'), '\n -----BEGIN PGP\n .\n -----END PGP');
  assert.is(parseDeb822(ps[0]!.toString())[0]!.get('Signed-By'), ps[0]!.get('Signed-By'));
  assert.is(ps[1]!.get('Version'), '1');
});

test('sources: one-line entries become deb822, binary entries gain deb-src, suites follow a requested suite', () => {
  const p = oneLineToParagraph('deb [arch=amd64 signed-by=/k.gpg] http://example.invalid/debian bookworm main contrib # x', 'test:1')!;
  assert.is(p.get('Types'), 'deb');
  assert.is(p.get('Suites'), 'bookworm');
  assert.is(p.get('Components'), 'main contrib');
  assert.is(p.get('Architectures'), 'amd64');
  assert.is(p.get('Signed-By'), '/k.gpg');
  assert.is(oneLineToParagraph('   # only a comment', 'test:2'), undefined);
  const sec = parseDeb822('Types: deb\nURIs: http://example.invalid/sec\nSuites: bookworm-security\nComponents: main\n')[0]!;
  const same = derivePrivateSources([p, sec]);
  assert.equal(
    same.map((x) => x.get('Types')),
    ['deb deb-src', 'deb deb-src'],
  );
  assert.equal(
    same.map((x) => x.get('Suites')),
    ['bookworm', 'bookworm-security'],
  );
  const other = derivePrivateSources([p, sec], { suite: 'trixie', hostCodename: 'bookworm' });
  assert.equal(
    other.map((x) => x.get('Suites')),
    ['trixie', 'trixie-security'],
  );
  assert.is(other[0]!.get('Signed-By'), '/k.gpg');
  assert.throws(
    () => derivePrivateSources([p], { suite: 'sid', hostCodename: 'trixie' }),
    (e: KilnError) => e.code === 'apt-no-suite' && /bookworm/.test(e.message),
  );
  assert.throws(
    () => derivePrivateSources([]),
    (e: KilnError) => e.code === 'apt-no-sources',
  );
});

test("sources: the machine's files are read in apt's order, disabled entries and other names skipped", () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-src-'));
  try {
    writeFileSync(join(dir, 'sources.list'), 'deb http://example.invalid/a bookworm main\n');
    mkdirSync(join(dir, 'd'));
    writeFileSync(
      join(dir, 'd', 'b.sources'),
      'Types: deb\nURIs: http://example.invalid/b\nSuites: bookworm\nComponents: main\n\nEnabled: no\nTypes: deb\nURIs: http://example.invalid/off\nSuites: x\nComponents: main\n',
    );
    writeFileSync(join(dir, 'd', 'a.list'), 'deb http://example.invalid/c bookworm main\n');
    writeFileSync(join(dir, 'd', 'c.list.disabled'), 'deb http://example.invalid/no bookworm main\n');
    const got = readHostSources({ list: join(dir, 'sources.list'), parts: join(dir, 'd') }).map((p) => p.get('URIs'));
    assert.equal(got, ['http://example.invalid/a', 'http://example.invalid/c', 'http://example.invalid/b']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alternatives: literal update-alternatives calls are read, slaves kept, expansions and comments end a call', () => {
  const mawk = `#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n        update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\\n            --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz \\\n            --slave /usr/bin/nawk nawk /usr/bin/mawk\nfi\n`;
  const gcc = `update-alternatives --quiet \\\n    --install /usr/bin/cc cc /usr/bin/gcc 20 \\\n    #--slave /usr/share/man/man1/cc.1.gz cc.1.gz /usr/share/man/man1/gcc.1.gz\n`;
  const xz = `update-alternatives --install /usr/bin/lzma lzma /usr/bin/xz 20 $(\n\tslave /usr/bin unlzma unxz\n)\n`;
  const variable = `update-alternatives --install /usr/bin/x x /usr/bin/$impl 10\n##: update-alternatives --install /usr/bin/program program /usr/bin/alternative 50\n`;
  const a = parseAlternatives(mawk, 'mawk');
  assert.is(a.length, 1);
  assert.equal([a[0]!.name, a[0]!.link, a[0]!.path, a[0]!.priority], ['awk', '/usr/bin/awk', '/usr/bin/mawk', 5]);
  assert.equal(
    a[0]!.slaves.map((s) => s.name),
    ['awk.1.gz', 'nawk'],
  );
  const c = parseAlternatives(gcc, 'gcc');
  assert.equal([c[0]!.link, c[0]!.path, c[0]!.slaves.length], ['/usr/bin/cc', '/usr/bin/gcc', 0]);
  const l = parseAlternatives(xz, 'xz-utils');
  assert.equal([l[0]!.path, l[0]!.slaves.length], ['/usr/bin/xz', 0]);
  assert.is(parseAlternatives(variable, 'v').length, 0);
  const chosen = chooseAlternatives([
    ...a,
    { name: 'awk', link: '/usr/bin/awk', path: '/usr/bin/gawk', priority: 10, slaves: [], package: 'gawk' },
    { name: 'awk', link: '/usr/bin/awk', path: '/usr/bin/aawk', priority: 10, slaves: [], package: 'aawk' },
    ...c,
  ]);
  assert.equal(
    chosen.map((x) => `${x.name}=${x.path}`),
    ['awk=/usr/bin/aawk', 'cc=/usr/bin/gcc'],
  );
});

test('merged /usr: top-level dirs move under usr, relative links keep pointing at the same file', () => {
  const u = new MergedUsr();
  assert.is(u.map('bin/sh'), 'usr/bin/sh');
  assert.is(u.map('lib32/ld-linux.so.2'), 'usr/lib32/ld-linux.so.2');
  assert.is(u.map('etc/passwd'), 'etc/passwd');
  assert.is(u.map('binary/x'), 'binary/x');
  // same directory: unchanged
  assert.is(u.relink('bin/rbash', 'usr/bin/rbash', 'bash'), 'bash');
  // from /lib into /usr/lib with a relative climb: rewritten
  assert.is(
    u.relink('lib/x86_64-linux-gnu/libfoo.so.1', 'usr/lib/x86_64-linux-gnu/libfoo.so.1', '../../usr/lib/x86_64-linux-gnu/libfoo.so.1.2'),
    'libfoo.so.1.2',
  );
  // from /sbin to /bin: still works through the moved layout
  assert.is(u.relink('sbin/x', 'usr/sbin/x', '../bin/y'), '../bin/y');
  // absolute: unchanged (resolves through the top-level links)
  assert.is(
    u.relink('lib64/ld-linux-x86-64.so.2', 'usr/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'),
    '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
  );
  assert.equal(u.links(), [
    ['bin', 'usr/bin'],
    ['lib', 'usr/lib'],
    ['lib32', 'usr/lib32'],
    ['sbin', 'usr/sbin'],
  ]);
});

test('apt output: print-uris lines and download file names (epoch colon as %3a)', () => {
  const out =
    "Reading...\n'http://example.invalid/pool/main/a/attr/libattr1_2.5.1-4_amd64.deb' libattr1_1%3a2.5.1-4_amd64.deb 22164 SHA256:c4945123d66d0503ba42e2fc0585abc76d0838978c6d277b9cc37a4da25d1a34\n'http://example.invalid/x' x.deb 1 MD5Sum:00\n";
  const r = parsePrintUris(out);
  assert.is(r.length, 2);
  assert.equal(
    [r[0]!.file, r[0]!.size, r[0]!.sha256],
    ['libattr1_1%3a2.5.1-4_amd64.deb', 22164, 'c4945123d66d0503ba42e2fc0585abc76d0838978c6d277b9cc37a4da25d1a34'],
  );
  assert.is(r[1]!.sha256, undefined);
  assert.is(debFileName('libattr1', '1:2.5.1-4', 'amd64'), 'libattr1_1%3a2.5.1-4_amd64.deb');
  assert.is(debFileName('libc6:i386', '2.36-9', 'i386'), 'libc6_2.36-9_i386.deb');
});

test('source files: the default is the main orig tarball, else a native tarball', () => {
  const f = (file: string): { file: string; size: number; sha256: string } => ({ file, size: 1, sha256: 'a'.repeat(64) });
  assert.is(
    defaultSourceFile([f('hello_2.10-3.dsc'), f('hello_2.10.orig-docs.tar.gz'), f('hello_2.10.orig.tar.gz'), f('hello_2.10-3.debian.tar.xz')])!.file,
    'hello_2.10.orig.tar.gz',
  );
  assert.is(defaultSourceFile([f('base-files_12.4.dsc'), f('base-files_12.4.tar.xz')])!.file, 'base-files_12.4.tar.xz');
  assert.is(defaultSourceFile([f('x_1.dsc')]), undefined);
});

test.run();
