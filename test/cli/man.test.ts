import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeManPages } from '../../src/cli/man.js';
import { buildProgram } from '../../src/cli/program.js';
import { commandTree, treeNodes } from '../../src/cli/tree.js';

/**
 * Man pages (issue 11) generated from the commander definitions --help prints: one per command,
 * valid roff (groff renders them without a warning), holding the command's options.
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-man-'));
const program = await buildProgram();
const files = writeManPages(program, '9.9.9', dir);

/** The page as a terminal shows it, without bold/underline overstrikes or colours, hyphenation or wrapping; spaces squeezed. */
function render(file: string): { text: string; warnings: string } {
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-rHY=0', '-rLL=300n', '-P', '-cbou', join(dir, file)], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C.UTF-8' },
  });
  assert.is(r.status, 0, r.stderr);
  return { text: r.stdout.replace(/[‐−]/g, '-').replace(/[ \t]+/g, ' '), warnings: r.stderr };
}

test('a page per command, written where asked', () => {
  const want = treeNodes(commandTree(program))
    .filter((n) => !(n.path.length > 2 && n.name === 'help'))
    .map((n) => `${n.path.join('-')}.1`)
    .sort();
  assert.equal(files.slice().sort(), want);
  assert.equal(readdirSync(dir).sort(), want);
  for (const f of ['kiln.1', 'kiln-mkfs-ext4.1', 'kiln-mkimage.1', 'kiln-completion.1']) assert.ok(files.includes(f), f);
});

test('pages render without warnings and hold the options --help lists', () => {
  for (const f of files) assert.is(render(f).warnings, '', f);
  const ext4 = render('kiln-mkfs-ext4.1').text;
  assert.match(ext4, /^KILN-MKFS-EXT4\(1\)/);
  assert.match(ext4, /kiln-mkfs-ext4 - write an ext4 filesystem/);
  assert.match(ext4, /kiln mkfs ext4 \[options\] <src-or-out> \[out\]/);
  for (const flag of ['-s, --size <size>', '--margin <size>', '-f, --force', '--json', '-b, --block-size <bytes>']) assert.ok(ext4.includes(flag), flag);
  assert.ok(ext4.includes('kiln 9.9.9'));
  // the text a command adds after its help is there too: mkimage's layout format
  const mkimage = render('kiln-mkimage.1').text;
  assert.match(mkimage, /--dry-run/);
  assert.match(mkimage, /partitions:/);
  // the root page lists the global options (-o NAME VALUE among them) and every command
  const kiln = render('kiln.1').text;
  assert.match(kiln, /GLOBAL OPTIONS/);
  assert.ok(kiln.includes('-o, --option <name> <value>'));
  for (const c of ['mkfs', 'mkimage', 'image', 'build', 'completion']) assert.ok(kiln.includes(`kiln ${c}`), c);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
