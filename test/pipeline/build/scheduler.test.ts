import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementPhase } from '../../../src/pipeline/plan/scheduler.js';
import { requireTool } from '../../helpers/tools.js';
import { writeBusyboxProject } from '../fixtures/busybox-base/base.js';
import { build, names } from './chain-project.js';

requireTool('bwrap');
const work = mkdtempSync(join(tmpdir(), 'kiln-sched-'));
const project = join(work, 'project');
const cache = join(work, 'cache');

const manual = (commands: string[], deps = ['base.bst']) =>
  `kind: manual\nbuild-depends:\n${deps.map((d) => `- ${d}`).join('\n')}\nconfig:\n  install-commands:\n${commands.map((c) => `  - ${JSON.stringify(c)}`).join('\n')}\n`;

writeBusyboxProject(project, {
  ...Object.fromEntries([1, 2, 3, 4].map((i) => [`par${i}.bst`, manual([`sleep 1`, `echo ${i} > %{install-root}/par${i}`])])),
  'all-par.bst': 'kind: stack\ndepends:\n- par1.bst\n- par2.bst\n- par3.bst\n- par4.bst\n',
  'fails.bst': manual(['echo about to fail', 'echo the-error-text >&2; exit 7']),
  'after-fail.bst': manual(['true'], ['base.bst', 'fails.bst']),
  'independent.bst': manual(['echo ok > %{install-root}/ok']),
  'mixed.bst': 'kind: stack\ndepends:\n- after-fail.bst\n- independent.bst\n',
  'network.bst': manual(['wget -O %{install-root}/page http://1.1.1.1/']),
  'write-root.bst': manual(['echo evil > /etc/evil']),
  'write-build-root.bst': manual(['echo fine > %{build-root}/scratch', 'cp %{build-root}/scratch %{install-root}/fine']),
});

/** Phases seen, and the most builds holding a builder at once (one storing its artifact holds none). */
function tracker() {
  let now = 0;
  let max = 0;
  const phases: Record<string, ElementPhase[]> = {};
  const storing = new Set<string>();
  return {
    events: {
      phase: (e: { name: string }, ph: ElementPhase) => {
        (phases[e.name] ??= []).push(ph);
        if (ph === 'building') max = Math.max(max, ++now);
        if ((ph === 'cached' || ph === 'failed') && phases[e.name]!.includes('building') && !storing.has(e.name)) now--;
      },
      status: (e: { name: string }, message: string) => {
        if (message !== 'Caching artifact') return;
        storing.add(e.name);
        now--;
      },
    },
    max: () => max,
    phases,
  };
}

test('independent elements build in parallel, up to --builders', async () => {
  await build(project, cache, ['base.bst']);
  const t = tracker();
  const { summary } = await build(project, cache, ['all-par.bst'], { builders: 3, events: t.events });
  assert.equal(names(summary.built), ['all-par.bst', 'par1.bst', 'par2.bst', 'par3.bst', 'par4.bst']);
  assert.is(t.max(), 3, 'three builds held a builder at once, never more');
  assert.equal(t.phases['all-par.bst'], ['waiting', 'building', 'cached'], 'the stack waited for its dependencies');
});

test('a failure: the log tail and path are reported; continue builds what does not depend on it', async () => {
  const t = tracker();
  const { summary } = await build(project, cache, ['mixed.bst'], { builders: 1, onError: 'continue', events: t.events });
  assert.is(summary.failed.length, 1);
  const f = summary.failed[0]!;
  assert.is(f.element.name, 'fails.bst');
  assert.match(f.message, /Command 'echo the-error-text >&2; exit 7' failed with exitcode 7/);
  assert.ok(
    f.tail.some((l) => l.includes('the-error-text')),
    f.tail.join('\n'),
  );
  assert.ok(existsSync(f.logPath));
  assert.match(readFileSync(f.logPath, 'utf8'), /about to fail/);
  assert.equal(names(summary.built), ['independent.bst']);
  assert.equal(names(summary.skipped), ['after-fail.bst', 'mixed.bst']);
  // Nothing was cached for the failure, and no scratch directory is left behind.
  assert.equal(
    readdirSync(join(cache, 'tmp')).filter((n) => n.startsWith('build-')),
    [],
  );
  const again = await build(project, cache, ['fails.bst'], { onError: 'quit' });
  assert.equal(names(again.planned), ['fails.bst']);
});

test('with --on-error quit nothing new starts after a failure', async () => {
  const { summary } = await build(project, cache, ['mixed.bst'], { builders: 1, onError: 'quit' });
  assert.is(summary.failed.length, 1);
  assert.equal(summary.built, [], 'independent.bst is already cached; after-fail never starts');
  assert.ok(summary.skipped.some((e) => e.name === 'after-fail.bst'));
});

test('network access inside a build fails', async () => {
  const { summary } = await build(project, cache, ['network.bst']);
  assert.is(summary.failed.length, 1);
  assert.match(readFileSync(summary.failed[0]!.logPath, 'utf8'), /Network is unreachable/);
});

test('a write outside the build and install roots fails (read-only root); the build root is writable', async () => {
  const { summary } = await build(project, cache, ['write-root.bst']);
  assert.is(summary.failed.length, 1);
  assert.match(readFileSync(summary.failed[0]!.logPath, 'utf8'), /Read-only file system/);
  const ok = await build(project, cache, ['write-build-root.bst']);
  assert.equal(names(ok.summary.built), ['write-build-root.bst']);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
