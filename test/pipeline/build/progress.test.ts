import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Progress } from '../../../src/cli/progress.js';
import { makeElement, makeProject } from './hand-elements.js';

/** The progress display: plain log lines off a terminal, a redrawn live block on one. */

const p = makeProject();
const a = makeElement(p, 'contents/busybox.bst', { kind: 'manual' });
const b = makeElement(p, 'base.bst', { kind: 'import' });

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, columns: 80, write: (t: string) => chunks.push(t) }, text: () => chunks.join('') };
}

test('plain output: one BuildStream-style line per event, names padded to the longest', () => {
  const s = sink(false);
  const progress = new Progress(s.stream, (e) => (e === a ? 'deadbeef' : 'cafef00d'));
  progress.setElements([a, b]);
  progress.phase(b, 'waiting');
  progress.phase(b, 'building');
  progress.status(b, 'Running install-commands: make install');
  progress.phase(b, 'cached');
  progress.phase(a, 'fetching');
  progress.phase(a, 'waiting');
  progress.phase(a, 'building');
  progress.phase(a, 'failed');
  progress.stop();
  const lines = s.text().trimEnd().split('\n');
  assert.equal(lines, [
    '[--:--:--][cafef00d][build:base.bst            ] START   Building base.bst',
    '[--:--:--][cafef00d][build:base.bst            ] STATUS  Running install-commands: make install',
    '[00:00:00][cafef00d][build:base.bst            ] SUCCESS Built base.bst',
    '[--:--:--][deadbeef][fetch:contents/busybox.bst] START   Fetching sources',
    '[00:00:00][deadbeef][fetch:contents/busybox.bst] SUCCESS Fetched sources',
    '[--:--:--][deadbeef][build:contents/busybox.bst] START   Building contents/busybox.bst',
    '[00:00:00][deadbeef][build:contents/busybox.bst] FAILURE Build of contents/busybox.bst failed',
  ]);
  assert.not.match(s.text(), /\x1b\[/, 'no escape sequences off a terminal');
});

test('terminal output: a live block with the counts and the running command, redrawn in place', () => {
  const s = sink(true);
  const progress = new Progress(s.stream, () => '12345678');
  progress.setElements([a, b]);
  progress.phase(a, 'waiting');
  progress.phase(b, 'building');
  progress.status(b, 'Running build-commands: make -j2');
  progress.message('a finished line');
  const text = s.text();
  assert.match(text, /\[00:00:00\] 1 waiting, 0 fetching, 1 building, 0 cached\n {2}building base\.bst \[00:00:00\] Running build-commands: make -j2\n$/);
  assert.match(text, /\x1b\[2A\x1b\[Ja finished line\n/, 'the block is erased before a line is printed above it');
  progress.stop();
});

test('terminal output: before any element has a phase, the live line says what the session does', () => {
  const s = sink(true);
  const progress = new Progress(s.stream, () => '12345678');
  progress.setElements([a, b]);
  progress.setActivity('fix-missing: checking pins of 2 element(s): 1 source(s) checked');
  assert.match(s.text(), /\[00:00:00\] fix-missing: checking pins of 2 element\(s\): 1 source\(s\) checked\n$/);
  assert.not.match(s.text(), /0 waiting/);
  progress.phase(a, 'waiting');
  progress.stop();
  assert.match(s.text(), /\[00:00:00\] 1 waiting, 0 fetching, 0 building, 0 cached\n$/, 'the counts take over once elements run');
});

test.run();
