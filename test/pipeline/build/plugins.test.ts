import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileTree, readContent } from '../../../src/entry/fs.js';
import {
  BaseSource,
  buildPlan,
  configureSource,
  elementKinds,
  loadProject,
  openPipeline,
  registerElementKind,
  registerSourceKind,
  runPlan,
  sourceKinds,
  KindConfig,
  type ElementKind,
  type SourceKind,
} from '../../../src/entry/pipeline.js';
import { writeProject } from '../fixtures/busybox-base/base.js';

/**
 * A library user's own kinds, written against the public entry only: a `greeting` source (text
 * from its config) and a `shout` element kind (its sources upper-cased, with defaults in a YAML
 * file beside it). Registered, they load, check their keys, key and build like the built-ins.
 */

const work = mkdtempSync(join(tmpdir(), 'kiln-plugins-'));
const project = join(work, 'project');
const cache = join(work, 'cache');

class GreetingSource extends BaseSource {
  readonly needsRef = false;
  uniqueKey(): string {
    return this.config.requireString('text');
  }
  isCached(): boolean {
    return true;
  }
  async track(): Promise<undefined> {
    return undefined;
  }
  async fetch(): Promise<void> {}
  async stage(_ctx: unknown, tree: FileTree): Promise<void> {
    if (this.directory) tree.mkdirp(this.directory);
    tree.file([this.directory, this.config.string('file') ?? 'greeting'].filter(Boolean).join('/'), `${this.config.requireString('text')}\n`);
  }
}

const greetingKind: SourceKind = { name: 'greeting', configKeys: ['text', 'file'], configure: (decl, element) => new GreetingSource(element, decl) };

writeFileSync(join(work, 'shout.yaml'), 'variables:\n  shout-dir: /shouted\nconfig:\n  target: "%{shout-dir}"\n  suffix: "!"\n');

function shoutConfig(c: KindConfig): { target: string; suffix: string } {
  return { target: c.string('target', '/'), suffix: c.string('suffix', '') };
}

const shoutKind: ElementKind = {
  name: 'shout',
  configKeys: ['target', 'suffix'],
  defaults: pathToFileURL(join(work, 'shout.yaml')),
  version: 1,
  strictRebuild: false,
  configure(element) {
    shoutConfig(new KindConfig(element));
  },
  uniqueKey(element) {
    return shoutConfig(new KindConfig(element));
  },
  async assemble(ctx) {
    const { target, suffix } = shoutConfig(new KindConfig(ctx.element));
    const out = new FileTree();
    const dir = target.replace(/^\/+/, '');
    out.mkdirp(dir);
    for (const [path, inode] of (await ctx.stageSources()).walk()) {
      if (inode.type !== 'file') continue;
      const text = new TextDecoder().decode(readContent(inode.content!));
      out.file(`${dir}/${path}`, `${text.trimEnd().toUpperCase()}${suffix}\n`);
    }
    return out;
  },
};

writeProject(project, {
  'project.conf': 'name: plugins\nelement-path: elements\n',
  'elements/hello.bst': 'kind: shout\nconfig:\n  suffix: "!!"\nsources:\n- kind: greeting\n  text: hello\n',
  'elements/typo.bst': 'kind: shout\nconfig:\n  sufix: "!!"\n',
  'elements/bad-source.bst': 'kind: shout\nsources:\n- kind: greeting\n  txt: hello\n',
});

test('before registration the kinds are unknown to the loader', () => {
  assert.throws(() => loadProject(project).element('hello.bst'), /unknown element kind 'shout' in elements\/hello\.bst:1:7/);
});

test('registered kinds load with their defaults and the project', () => {
  registerElementKind(shoutKind);
  registerSourceKind(greetingKind);
  assert.is(elementKinds.get('shout'), shoutKind);
  assert.is(sourceKinds.get('greeting'), greetingKind);
  const hello = loadProject(project).element('hello.bst');
  assert.equal(hello.config, { target: '/shouted', suffix: '!!' });
  assert.is(hello.variables['shout-dir'], '/shouted');
  assert.equal(
    hello.sources.map((s) => [s.kind, s.config]),
    [['greeting', { text: 'hello' }]],
  );
});

test("a registered kind's keys are checked where they are written", () => {
  assert.throws(
    () => loadProject(project).element('typo.bst'),
    /unknown key 'sufix' in elements\/typo\.bst:3:3 \(config of a shout element \(elements\/typo\.bst\)\); valid keys are target, suffix/,
  );
  const bad = loadProject(project).element('bad-source.bst');
  assert.throws(() => configureSource(bad.sources[0]!, bad), /elements\/bad-source\.bst:4:8: bad-source\.bst: source #1 \(greeting\): unknown key 'txt'/);
});

test('an element of a registered kind builds from a source of a registered kind, and its key follows the source', async () => {
  const p = openPipeline({ projectDir: project, cacheDir: cache, targets: ['hello.bst'] });
  const summary = await runPlan(p.session, buildPlan(p.session, p.targets), { builders: 1, onError: 'quit' });
  assert.equal(summary.failed, []);
  assert.equal(
    summary.built.map((e) => e.name),
    ['hello.bst'],
  );
  const artifact = p.session.artifact(p.targets[0]!);
  assert.is(new TextDecoder().decode(readContent(artifact.get('shouted/greeting')!.content!)), 'HELLO!!\n');
  const key = p.session.keys(p.targets[0]!).strong;
  assert.ok(key);
  p.session.close();

  writeProject(project, { 'elements/hello.bst': 'kind: shout\nconfig:\n  suffix: "!!"\nsources:\n- kind: greeting\n  text: bye\n' });
  const again = openPipeline({ projectDir: project, cacheDir: cache, targets: ['hello.bst'] });
  assert.is.not(again.session.keys(again.targets[0]!).strong, key);
  again.session.close();
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
