import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completionScript } from '../../src/cli/completion.js';
import { buildProgram } from '../../src/cli/program.js';
import { commandTree, treeNodes } from '../../src/cli/tree.js';
import { requireTool } from '../helpers/tools.js';

/**
 * `kiln completion bash|zsh|fish` (issue 11): scripts generated from the commander tree. The bash
 * one is run: its completion function is driven as bash's programmable completion calls it
 * (COMP_WORDS, COMP_CWORD → COMPREPLY).
 */

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-compl-'));
const program = await buildProgram();
const bashScript = join(dir, 'kiln.bash');
writeFileSync(bashScript, completionScript(program, 'bash'));

/** What completing the last word of `words` offers, in bash. */
function complete(words: string[]): string[] {
  const arr = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `source ${bashScript}\nCOMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _kiln; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

test('the bash script is valid bash', () => {
  const r = spawnSync('bash', ['-n', bashScript], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test('bash completes commands, subcommands and options from the tree', () => {
  assert.equal(complete(['kiln', 'mk']), ['mkfs', 'mkimage', 'mkinitramfs', 'mkuki']);
  assert.equal(complete(['kiln', 'mkfs', 'e']), ['ext4']);
  assert.equal(complete(['kiln', 'mkfs', 'ext4', '--fo']), ['--force']);
  assert.equal(complete(['kiln', 'image', 'inspect', '--j']), ['--json']);
  // global options and their values (two for -o NAME VALUE) are skipped on the way to the command
  assert.equal(complete(['kiln', '-o', 'arch', 'x86_64', '-C', 'x', 'bu']), ['build']);
  // an option's value: files, not commands
  writeFileSync(join(dir, 'mkthing'), '');
  assert.equal(complete(['kiln', '-C', 'mk']), ['mkthing']);
  // an argument's choices commander knows are offered
  assert.equal(complete(['kiln', 'completion', '']), ['bash', 'fish', 'zsh']);
});

test('every command and option of the tree is in every script', () => {
  const nodes = treeNodes(commandTree(program));
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const s = completionScript(program, shell);
    for (const n of nodes) {
      assert.ok(s.includes(`'${n.name}`), `${shell}: ${n.path.join(' ')}`);
      for (const o of n.options) assert.ok(s.includes(o.long!.replace(/^--/, shell === 'fish' ? "-l '" : '--')), `${shell}: ${n.path.join(' ')} ${o.long}`);
    }
  }
});

test('zsh and fish scripts parse (.ci/run installs both shells)', () => {
  for (const shell of ['zsh', 'fish'] as const) {
    requireTool(shell);
    const file = join(dir, `kiln.${shell}`);
    writeFileSync(file, completionScript(program, shell));
    const r = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
    assert.is(r.status, 0, `${shell}: ${r.stderr}`);
  }
});

test('fish completes the same words', () => {
  requireTool('fish');
  const file = join(dir, 'kiln.fish');
  writeFileSync(file, completionScript(program, 'fish'));
  const cases: [string, string[]][] = [
    ['kiln mk', ['mkfs', 'mkimage', 'mkinitramfs', 'mkuki']],
    ['kiln mkfs e', ['ext4']],
    ['kiln mkfs ext4 --fo', ['--force']],
    ['kiln -o arch x86_64 -C dir bu', ['build']],
    ['kiln completion ', ['bash', 'fish', 'zsh']],
  ];
  const script = [`source ${file}`, ...cases.map(([line]) => `complete -C '${line}' | string replace -r '\\t.*' '' | string join ' '`)].join('\n');
  const r = spawnSync('fish', ['--no-config', '-c', script], { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const got = r.stdout
    .split('\n')
    .slice(0, cases.length)
    .map((l) =>
      l
        .split(' ')
        .filter((w) => w !== '')
        .sort(),
    );
  assert.equal(
    got,
    cases.map(([, want]) => want),
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
