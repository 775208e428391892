import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../../src/errors.js';
import { treeFromDirectory } from '../../../src/fs/tree-from-dir.js';
import { BwrapSandbox, existsInside, findBwrap } from '../../../src/pipeline/sandbox/bwrap.js';
import { requireTool } from '../../helpers/tools.js';
import { makeBusyboxBase } from '../fixtures/busybox-base/base.js';

requireTool('bwrap');
const work = mkdtempSync(join(tmpdir(), 'kiln-sandbox-'));
const root = join(work, 'root');
makeBusyboxBase(root);
const logPath = join(work, 'build.log');
const log = { path: logPath };
const env = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/tmp', LC_ALL: 'C' };
const sandbox = new BwrapSandbox();
const installMount = [{ path: '/buildstream-install' }];
const out = (name: string) => readFileSync(join(root, 'buildstream-install', name), 'utf8');

async function failure(p: Promise<unknown>): Promise<KilnError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, KilnError);
    return e as KilnError;
  }
  throw new Error('expected the sandbox run to fail');
}

test.before.each(() => writeFileSync(logPath, ''));

test('runs as uid 0 with only the given environment, one sh -e -c per command', async () => {
  process.env.KILN_HOST_ONLY = 'leak';
  const seen: string[] = [];
  await sandbox.run(
    [
      'id -u > /buildstream-install/uid; id -g >> /buildstream-install/uid',
      'env | sort > /buildstream-install/env',
      'cd /tmp',
      'pwd > /buildstream-install/pwd',
      'cat > /buildstream-install/heredoc <<EOF\nhello\nEOF',
    ],
    root,
    installMount,
    env,
    log,
    { cwd: '/', rootReadOnly: true, onCommand: (c) => seen.push(c) },
  );
  assert.is(out('uid'), '0\n0\n');
  const vars = out('env')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('=')[0]);
  assert.not.ok(vars.includes('KILN_HOST_ONLY'), 'no host variable leaks in');
  for (const k of Object.keys(env)) assert.ok(vars.includes(k), k);
  assert.is(out('pwd'), '/\n', 'cd does not carry over to the next command');
  assert.is(out('heredoc'), 'hello\n', 'the appended newline ends the heredoc');
  assert.is(seen.length, 5);
  assert.match(readFileSync(logPath, 'utf8'), /\+ cd \/tmp/);
});

test('builds see umask 022 whatever the invoking process has', async () => {
  const old = process.umask(0o077);
  try {
    await sandbox.run(['umask > /buildstream-install/umask'], root, installMount, env, log, { rootReadOnly: true });
  } finally {
    process.umask(old);
  }
  assert.is(out('umask').trim(), '0022');
});

test('the root is read-only while marked directories are writable', async () => {
  const e = await failure(sandbox.run(['touch /usr/bin/evil'], root, installMount, env, log, { rootReadOnly: true }));
  assert.match(e.message, /Command 'touch \/usr\/bin\/evil' failed with exitcode 1/);
  assert.match(readFileSync(logPath, 'utf8'), /Read-only file system/);
  assert.not.ok(existsSync(join(root, 'usr/bin/evil')));
  await sandbox.run(['touch /buildstream-install/ok'], root, installMount, env, log, { rootReadOnly: true });
  assert.ok(existsSync(join(root, 'buildstream-install/ok')));
});

test('there is no network inside the sandbox', async () => {
  await sandbox.run(['cat /proc/net/dev > /buildstream-install/netdev'], root, installMount, env, log);
  const ifaces = out('netdev')
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((l) => l.trim().split(':')[0]);
  assert.equal(ifaces, ['lo']);
  const e = await failure(sandbox.run(['wget -O /buildstream-install/page http://1.1.1.1/'], root, installMount, env, log));
  assert.match(e.message, /exitcode/);
  assert.match(readFileSync(logPath, 'utf8'), /Network is unreachable/);
});

test('only the five devices are there, /tmp and /proc are private, and mount points are removed after', async () => {
  assert.not.ok(existsSync(join(root, 'dev')));
  assert.not.ok(existsSync(join(root, 'proc')));
  await sandbox.run(
    ['ls /dev > /buildstream-install/dev', 'echo x > /tmp/private; ls /proc/1/ > /dev/null; cat /proc/1/comm > /buildstream-install/pid1'],
    root,
    installMount,
    env,
    log,
    { rootReadOnly: true },
  );
  assert.equal(out('dev').split('\n').filter(Boolean), ['full', 'null', 'random', 'urandom', 'zero']);
  assert.not.ok(existsSync(join(root, 'dev')), '/dev mount point removed');
  assert.not.ok(existsSync(join(root, 'proc')), '/proc mount point removed');
  assert.equal(readdirSync(join(root, 'tmp')), [], '/tmp was a tmpfs');
  assert.ok(existsSync(join(root, 'buildstream-install')), 'a marked directory is content, not a mount point to remove');
});

test('the first failing command stops the run and is named with its exit code and the log', async () => {
  const e = await failure(sandbox.run(['echo one', 'echo failing >&2; exit 3', 'touch /buildstream-install/never'], root, installMount, env, log));
  assert.match(e.message, /Command 'echo failing >&2; exit 3' failed with exitcode 3/);
  assert.match(e.hint ?? '', new RegExp(logPath));
  assert.match(readFileSync(logPath, 'utf8'), /one\n[\s\S]*failing/);
  assert.not.ok(existsSync(join(root, 'buildstream-install/never')));
});

test('chmod 6755 inside the sandbox survives collection', async () => {
  await sandbox.run(
    ['cp /bin/busybox /buildstream-install/suid', 'chmod 6755 /buildstream-install/suid', 'mkdir -p /buildstream-install/empty'],
    root,
    installMount,
    env,
    log,
  );
  const t = treeFromDirectory(join(root, 'buildstream-install'), { owners: 'root' });
  assert.is(t.get('suid')!.mode, 0o6755);
  assert.is(t.get('suid')!.uid, 0);
  assert.is(t.get('empty')!.type, 'dir');
});

test("a staged root without sh is refused with BuildStream's message", async () => {
  const empty = join(work, 'empty');
  mkdirSync(empty);
  const e = await failure(sandbox.run(['true'], empty, [], env, log));
  assert.match(e.message, /Staged artifacts do not provide command 'sh'/);
});

test('symlinks in the staged root resolve inside it, never on the host', async () => {
  const odd = join(work, 'odd');
  mkdirSync(join(odd, 'usr'), { recursive: true });
  symlinkSync('/usr/bin', join(odd, 'bin')); // the host has /usr/bin/sh; this root does not
  assert.not.ok(existsInside(odd, '/bin/sh'));
  const e = await failure(sandbox.run(['true'], odd, [], env, log));
  assert.match(e.message, /do not provide command 'sh'/);
  assert.ok(existsInside(root, '/usr/bin/env'), 'absolute links to /bin/busybox resolve inside the root');
  const outside = join(work, 'outside');
  mkdirSync(outside);
  symlinkSync(outside, join(root, 'escape'));
  await failure(sandbox.run(['true'], root, [], env, log, { cwd: '/escape/sub' }));
  assert.not.ok(existsSync(join(outside, 'sub')), 'the working directory was not created through the link on the host');
  rmSync(join(root, 'escape'));
});

test("bwrap's own failures are reported as sandbox failures, not as the command's", async () => {
  const e = await failure(sandbox.run(['true'], root, [{ path: '/extra', host: join(work, 'no-such-dir') }], env, log));
  assert.is(e.code, 'sandbox-failed');
  assert.match(e.message, /the sandbox could not run 'true': bwrap: /);
  assert.not.ok(existsSync(join(root, 'extra')), 'the mount point made for it was removed');
});

test('a missing bwrap names the Debian package', () => {
  try {
    findBwrap('/nonexistent-dir');
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, KilnError);
    assert.match((e as KilnError).describe(), /bubblewrap/);
  }
});

test('devShm (create-dev-shm) gives the commands a writable tmpfs at /dev/shm under a read-only root', async () => {
  const probe = 'if touch /dev/shm/x 2>/dev/null; then echo writable; else echo absent; fi > /buildstream-install/shm';
  await sandbox.run([probe], root, installMount, env, log, { rootReadOnly: true, devShm: true });
  assert.is(out('shm'), 'writable\n');
  await sandbox.run([probe], root, installMount, env, log, { rootReadOnly: true });
  assert.is(out('shm'), 'absent\n');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
