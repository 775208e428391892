import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Element } from '../../../src/pipeline/model.js';
import { openPipeline, type Pipeline } from '../../../src/pipeline/pipeline.js';
import { buildPlan } from '../../../src/pipeline/plan/plan.js';
import { runPlan, type BuildSummary, type SchedulerOptions } from '../../../src/pipeline/plan/scheduler.js';
import { writeBusyboxProject } from '../fixtures/busybox-base/base.js';

/**
 * The integration project: base (import of a busybox tree) ← hello (manual: installs a script
 * setuid) ← system (compose of base + hello) ← report (script running hello in the composed
 * system). Shared by the build tests.
 */
export const CHAIN_ELEMENTS: Record<string, string> = {
  'hello.bst': `kind: manual
build-depends:
- base.bst
sources:
- kind: local
  path: files/hello
config:
  install-commands:
  - mkdir -p %{install-root}/usr/bin
  - cp hello.sh %{install-root}/usr/bin/hello
  - chmod 6755 %{install-root}/usr/bin/hello
`,
  'system.bst': `kind: compose
build-depends:
- base.bst
- hello.bst
`,
  'report.bst': `kind: script
build-depends:
- system.bst
config:
  commands:
  - mkdir -p %{install-root}/out
  - ls -l /usr/bin/hello > %{install-root}/out/ls.txt
  - /usr/bin/hello > %{install-root}/out/hello.txt
`,
};

export function writeChainProject(dir: string, extra: Record<string, string> = {}): void {
  writeBusyboxProject(dir, { ...CHAIN_ELEMENTS, ...extra });
  writeHello(dir, 'Hello World!');
}

export function writeHello(dir: string, text: string): void {
  mkdirSync(join(dir, 'files/hello'), { recursive: true });
  writeFileSync(join(dir, 'files/hello/hello.sh'), `#!/bin/sh\necho ${text}\n`, { mode: 0o755 });
}

/** Loads the project afresh (as a new `kiln` run would) and builds the targets. */
export async function build(
  project: string,
  cache: string,
  targets: string[],
  opts: Partial<SchedulerOptions> & { warnings?: string[] } = {},
): Promise<{ p: Pipeline; summary: BuildSummary; planned: Element[] }> {
  const p = openPipeline({ projectDir: project, cacheDir: cache, targets, warn: (e, m) => opts.warnings?.push(`${e ? `${e.name}: ` : ''}${m}`) });
  const planned = buildPlan(p.session, p.targets);
  const summary = await runPlan(p.session, planned, { builders: 2, onError: 'quit', ...opts });
  p.session.close();
  return { p, summary, planned };
}

export const names = (es: readonly Element[]): string[] => es.map((e) => e.name).sort();
