import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AS_NOBODY, kiln, nobody, requireRoot } from './helpers.js';

/**
 * Unwritable destinations, as a non-root user: every writer and checkout says what it could
 * not write and exits 1 — no stack trace, nothing created.
 */

const work = mkdtempSync(join(tmpdir(), 'kiln-perm-'));
chmodSync(work, 0o755);
const src = join(work, 'src');
const locked = join(work, 'locked'); // root's, 0755: nobody cannot create entries in it
const project = join(work, 'project');
const cache = join(work, 'cache');
mkdirSync(src);
mkdirSync(locked);
writeFileSync(join(src, 'hello.txt'), 'hello\n');
writeFileSync(join(work, 'disk.yaml'), 'table: mbr\npartitions:\n  - { filesystem: fat, size: auto, source: src }\n');
mkdirSync(join(project, 'elements'), { recursive: true });
mkdirSync(join(project, 'files/tree/etc'), { recursive: true });
writeFileSync(join(project, 'project.conf'), 'name: perm\nelement-path: elements\n');
writeFileSync(join(project, 'elements/tree.bst'), 'kind: import\nsources:\n- kind: local\n  path: files/tree\n');
writeFileSync(join(project, 'files/tree/etc/motd'), 'welcome\n');

test.before(() => {
  requireRoot('the permission test');
  const uid = nobody();
  mkdirSync(cache);
  chownSync(cache, uid, uid);
});

function refused(r: ReturnType<typeof kiln>, message: RegExp): void {
  assert.is(r.status, 1, r.all);
  assert.match(r.stderr, /^kiln: error: /m);
  assert.match(r.stderr, message);
  assert.not.match(r.all, /internal error|\n\s+at /, 'no stack trace');
}

const writers: [string, string[]][] = [
  ['mkfs ext4', ['mkfs', 'ext4', src, join(locked, 'out.img')]],
  ['mkfs fat', ['mkfs', 'fat', src, join(locked, 'out.img')]],
  ['mkfs swap', ['mkfs', 'swap', '--size', '1M', join(locked, 'out.img')]],
  ['mkinitramfs', ['mkinitramfs', src, join(locked, 'out.img')]],
  ['mkimage', ['mkimage', join(work, 'disk.yaml'), join(locked, 'out.img')]],
];

for (const [name, args] of writers) {
  test(`${name} into a directory the user may not write: permission denied, exit 1`, () => {
    refused(
      kiln(args, { user: AS_NOBODY }),
      /permission denied while creating '.*locked\/out\.img'[\s\S]*hint: check that the directory '.*locked' exists and that you may write to it/,
    );
    assert.equal(readdirSync(locked), []);
  });
}

test('mkfs into a directory that does not exist: says so, exit 1', () => {
  refused(kiln(['mkfs', 'fat', src, join(work, 'no/such/dir/out.img')]), /the directory '.*no\/such\/dir' does not exist/);
});

test('checkout into an unwritable parent: refused before any work, exit 1, nothing created', () => {
  const built = kiln(['--cache-dir', cache, '-C', project, 'build', 'tree.bst'], { user: AS_NOBODY });
  assert.is(built.status, 0, built.all);
  const dir = join(locked, 'checkout');
  refused(
    kiln(['--cache-dir', cache, '-C', project, 'checkout', 'tree.bst', dir], { user: AS_NOBODY }),
    /cannot check out to '.*locked\/checkout': permission denied, '.*locked' is not writable/,
  );
  assert.not.ok(existsSync(dir));
  refused(
    kiln(['--cache-dir', cache, '-C', project, 'checkout', '--tar', join(locked, 'tree.tar'), 'tree.bst'], { user: AS_NOBODY }),
    /cannot check out to '.*locked\/tree\.tar': permission denied/,
  );
  refused(
    kiln(['--cache-dir', cache, '-C', project, 'artifact', 'checkout', '--directory', join(locked, 'a/b'), 'tree.bst'], { user: AS_NOBODY }),
    /permission denied, '.*locked' is not writable/,
  );
  assert.equal(readdirSync(locked), []);
  const ok = kiln(['--cache-dir', cache, '-C', project, 'checkout', 'tree.bst', join(cache, 'co')], { user: AS_NOBODY });
  assert.is(ok.status, 0, ok.all);
  assert.ok(existsSync(join(cache, 'co/etc/motd')), 'a writable destination works');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
