import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { atShellPrompt, withoutControls } from '../../scripts/qemu-console.js';

/** The console driver of the boot tests and the e2e recognises busybox's prompt however it arrives. */

test('a prompt followed by the cursor-position query in the same read is a prompt', () => {
  // as seen from a hybrid disk under SeaBIOS on a loaded machine
  assert.ok(atShellPrompt("sh: can't access tty; job control turned off\r\n/ # \x1b[6n"));
  assert.ok(atShellPrompt('\r\n/ # '));
  assert.ok(atShellPrompt('\r\n~ $ \x1b[6n'));
});

test('other lines are not prompts', () => {
  assert.not.ok(atShellPrompt('Probing EDD (edd=off to disable)... ok'));
  assert.not.ok(atShellPrompt('/ # hello\r\n'));
  assert.not.ok(atShellPrompt('Please press Enter to activate this console. '));
});

test('terminal controls are dropped, text kept', () => {
  assert.is(withoutControls('\x1b[2J\x1b[0mSeaBIOS \x1b[?7lok\x1b[6n'), 'SeaBIOS ok');
});

test.run();
