import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killOrphanedSandboxes } from '../../../src/pipeline/sandbox/orphans.js';

/** A sandbox left running by a kill -9 is found by the scratch directory its command line names. */

const work = mkdtempSync(join(tmpdir(), 'kiln-orphans-'));

/** A process whose argv names `arg` (sh takes it as $0), like bwrap naming its bind sources. */
function sleeper(arg: string) {
  const child = spawn('sh', ['-c', 'sleep 60', arg], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  return { child, exited };
}

test('kills processes that use the dead session’s directory, and only those', async () => {
  const stale = join(work, 'build-1-a');
  const orphan = sleeper(`${stale}/root`);
  const sibling = sleeper(`${stale}-longer/root`); // a prefix of another name is not a match
  const other = sleeper(join(work, 'build-2-b/root'));
  await new Promise((r) => setTimeout(r, 200));
  const killed = killOrphanedSandboxes(stale);
  assert.equal(killed, [orphan.child.pid]);
  assert.is(await orphan.exited, 'SIGKILL');
  assert.is(sibling.child.exitCode, null, 'a directory whose name only starts the same is left alone');
  assert.is(other.child.exitCode, null);
  sibling.child.kill();
  other.child.kill();
  await Promise.all([sibling.exited, other.exited]);
});

test('nothing to kill is not an error', () => {
  assert.equal(killOrphanedSandboxes(join(work, 'build-3-none')), []);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
