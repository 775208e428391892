import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { outputError } from '../../src/fs/file-target.js';

// Errors name the output, never the hidden temp file it is written under (issue 11).
test('an I/O error while renaming the finished image names the output, not the temp file', () => {
  const e = Object.assign(new Error("EISDIR: illegal operation on a directory, rename '.x.img.kiln-26255.tmp' -> 'x.img'"), {
    code: 'EISDIR',
    syscall: 'rename',
  });
  const k = outputError(e, 'x.img', 'renaming the finished image to');
  assert.is(k.message, "renaming the finished image to 'x.img' failed: EISDIR: illegal operation on a directory");
  assert.not.match(k.message, /kiln-\d+\.tmp/);
});

test.run();
