import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContent } from '../../../src/fs/file-content.js';
import { ArtifactCache } from '../../../src/pipeline/cache/artifacts.js';
import { requireTool } from '../../helpers/tools.js';
import { writeChainProject } from './chain-project.js';

/** The CLI end to end: show, build (also as a non-root user), a failure, kill -9 mid-build, shell. */

requireTool('bwrap');
const repo = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
chmodSync(work, 0o755);
const project = join(work, 'project');
const cache = join(work, 'cache');
writeChainProject(project, {
  'fails.bst': 'kind: manual\nbuild-depends:\n- base.bst\nconfig:\n  install-commands:\n  - echo the-error-text >&2; exit 7\n',
  'slow.bst':
    'kind: manual\nbuild-depends:\n- base.bst\nenvironment:\n  DELAY: "60"\nenvironment-nocache:\n- DELAY\nconfig:\n  install-commands:\n  - printf \'started-%s-build\' slow; echo; sleep $DELAY\n  - echo done > %{install-root}/done\n',
});

function kiln(args: string[], opts: { user?: string[]; cacheDir?: string } = {}) {
  const argv = [
    ...(opts.user ?? []),
    process.execPath,
    '--import',
    'tsx',
    join(repo, 'src/cli/main.ts'),
    '--cache-dir',
    opts.cacheDir ?? cache,
    '-C',
    project,
    ...args,
  ];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

interface ShowJson {
  name: string;
  'full-key': string | null;
  state: string;
}

test('show lists every element with state and key; build makes them cached', () => {
  const before = kiln(['show', 'report.bst']);
  assert.is(before.status, 0, before.all);
  const lines = before.stdout.trimEnd().split('\n');
  assert.is(lines.length, 4);
  assert.match(lines[0]!, /^ {3}buildable [0-9a-f]{64} base\.bst$/);
  assert.match(lines[3]!, /^ {5}waiting [0-9a-f]{64} report\.bst$/);
  const custom = kiln(['show', '--deps', 'none', '--format', '%{name}|%{key}|%{state:*^14}', 'hello.bst']);
  assert.match(custom.stdout, /^hello\.bst\|[0-9a-f]{8}\|\*\*\*waiting\*\*\*\*\n$/);
  const vars = kiln(['show', '--deps', 'none', '--format', '%{vars}', 'hello.bst']);
  assert.match(vars.stdout, /install-root: \/buildstream-install/);
  const built = kiln(['build', '--builders', '2', 'report.bst']);
  assert.is(built.status, 0, built.all);
  assert.match(built.stdout, /SUCCESS Built report\.bst/);
  const after = JSON.parse(kiln(['show', '--json', 'report.bst']).stdout) as ShowJson[];
  assert.equal(
    after.map((e) => e.state),
    ['cached', 'cached', 'cached', 'cached'],
  );
  const plan = kiln(['show', '--deps', 'plan', 'report.bst']);
  assert.is(plan.stdout, '', 'nothing left to build');
});

test('a build as a non-root user gives the same keys and a faithful artifact', () => {
  const rootKeys = (JSON.parse(kiln(['show', '--json', 'report.bst']).stdout) as ShowJson[]).map((e) => e['full-key']);
  let user: string[] = [];
  const userCache = join(work, 'user-cache');
  mkdirSync(userCache);
  if (process.getuid?.() === 0) {
    const has = spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8' });
    assert.is(has.status, 0, 'runuser is needed to test a non-root build (Debian package util-linux)');
    const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    assert.ok(uid > 0, 'the nobody user exists');
    chownSync(userCache, uid, uid);
    user = ['runuser', '-u', 'nobody', '--'];
  }
  const r = kiln(['build', 'report.bst'], { user, cacheDir: userCache });
  assert.is(r.status, 0, r.all);
  const shown = JSON.parse(kiln(['show', '--json', 'report.bst'], { user, cacheDir: userCache }).stdout) as ShowJson[];
  assert.equal(
    shown.map((e) => e['full-key']),
    rootKeys,
  );
  assert.equal(
    shown.map((e) => e.state),
    ['cached', 'cached', 'cached', 'cached'],
  );
  const art = new ArtifactCache(userCache).load({ project: 'test', element: 'report.bst', key: rootKeys[3]! })!;
  assert.match(new TextDecoder().decode(readContent(art.tree.get('out/ls.txt')!.content!)), /^-rwsr-sr-x\s+1 0\s+0 /);
  const hello = new ArtifactCache(userCache).load({ project: 'test', element: 'hello.bst', key: rootKeys[1]! })!;
  assert.is(hello.tree.get('usr/bin/hello')!.mode, 0o6755);
});

test('a failed build prints the end of its log and its path, and exits non-zero', () => {
  const r = kiln(['build', 'fails.bst']);
  assert.is(r.status, 1);
  assert.match(r.stdout, /the-error-text/);
  assert.match(r.stdout, /build log: \S+fails\/[0-9a-f]{8}-build\.\d+\.log/);
  assert.match(r.stderr, /failed to build: fails\.bst/);
});

test('kill -9 during a build leaves nothing trusted; the next build cleans up and builds correctly', async () => {
  const argv = [process.execPath, '--import', 'tsx', join(repo, 'src/cli/main.ts'), '--cache-dir', cache, '-C', project, 'build', 'slow.bst'];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: repo, stdio: 'ignore' });
  const logDir = join(cache, 'logs/test/slow');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const started = existsSync(logDir) && readdirSync(logDir).some((f) => readFileSync(join(logDir, f), 'utf8').includes('started-slow-build'));
    if (started) break;
    if (Date.now() > deadline) throw new Error('the slow build never started');
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // bwrap --die-with-parent takes the sandbox down with kiln; the kernel tears the pid namespace
  // down asynchronously, so allow it a few seconds before calling anything a survivor.
  const sandboxProcesses = (): string[] =>
    readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(cache, 'tmp'));
        } catch {
          return false;
        }
      });
  let survivors = sandboxProcesses();
  // 20 s: on 2 cores loaded by parallel test files the teardown was once seen to take over 10 s
  for (let waited = 0; survivors.length > 0 && waited < 20_000; waited += 200) {
    await new Promise((r) => setTimeout(r, 200));
    survivors = sandboxProcesses();
  }
  const describe = (pid: string): string => {
    try {
      return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')} (${/^State:.*$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[0] ?? ''})`;
    } catch {
      return '';
    }
  };
  assert.equal(
    survivors.map(describe).filter((d) => d !== ''),
    [],
    'no sandbox process outlived kiln',
  );
  assert.ok(
    readdirSync(join(cache, 'tmp')).some((n) => n.startsWith(`build-${child.pid}-`)),
    'the killed build left its scratch directory',
  );
  const state = JSON.parse(kiln(['show', '--json', '--deps', 'none', 'slow.bst']).stdout) as ShowJson[];
  assert.is(state[0]!.state, 'buildable', 'no artifact was committed');
  // DELAY is environment-nocache: shortening it keeps the key.
  const file = join(project, 'elements/slow.bst');
  writeFileSync(file, readFileSync(file, 'utf8').replace('DELAY: "60"', 'DELAY: "0"'));
  const again = JSON.parse(kiln(['show', '--json', '--deps', 'none', 'slow.bst']).stdout) as ShowJson[];
  assert.is(again[0]!['full-key'], state[0]!['full-key']);
  const r = kiln(['build', 'slow.bst']);
  assert.is(r.status, 0, r.all);
  assert.not.ok(
    readdirSync(join(cache, 'tmp')).some((n) => n.startsWith(`build-${child.pid}-`)),
    'the stale scratch directory was removed',
  );
  const art = new ArtifactCache(cache).load({ project: 'test', element: 'slow.bst', key: state[0]!['full-key']! })!;
  assert.is(new TextDecoder().decode(readContent(art.tree.get('done')!.content!)), 'done\n');
});

test('shell runs a command in the staged runtime, and in the build environment with --build', () => {
  const run = kiln(['shell', 'system.bst', '--', '/usr/bin/hello']);
  assert.is(run.status, 0, run.all);
  assert.is(run.stdout, 'Hello World!\n');
  const b = kiln(['shell', '--build', 'hello.bst', '--', 'sh', '-c', 'pwd; ls']);
  assert.is(b.status, 0, b.all);
  assert.is(b.stdout, '/buildstream/test/hello.bst\nhello.sh\n');
  const code = kiln(['shell', 'system.bst', '--', 'sh', '-c', 'exit 5']);
  assert.is(code.status, 5);
  const missing = kiln(['shell', 'fails.bst', '--', 'true']);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /not cached:\n {2}fails\.bst/);
});

test('build refuses elements without refs and names kiln track; build --track tracks, saves the ref and builds', () => {
  const tarDir = join(work, 'tarball');
  mkdirSync(join(tarDir, 'payload'), { recursive: true });
  writeFileSync(join(tarDir, 'payload/data.txt'), 'from a tarball\n');
  requireTool('tar');
  const t = spawnSync('tar', ['-C', tarDir, '-czf', join(tarDir, 'payload.tar.gz'), 'payload'], { encoding: 'utf8' });
  assert.is(t.status, 0, t.stderr);
  const bst = join(project, 'elements/tarred.bst');
  writeFileSync(bst, `kind: import\n# the tarball\nsources:\n- kind: tar\n  url: file://${tarDir}/payload.tar.gz\n`);
  const refused = kiln(['build', 'tarred.bst']);
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /Exact versions are missing for the following elements:\n {2}tarred\.bst/);
  assert.match(refused.stderr, /kiln track tarred\.bst/);
  const r = kiln(['build', '--track', 'tarred.bst']);
  assert.is(r.status, 0, r.all);
  assert.match(r.stdout, /^\[track\] tarred\.bst: source #1 \(tar\): pinned\n {4}[0-9a-f]{64}$/m);
  assert.match(readFileSync(bst, 'utf8'), /# the tarball\n[\s\S]*  ref: [0-9a-f]{64}\n/);
  const shown = JSON.parse(kiln(['show', '--json', '--deps', 'none', 'tarred.bst']).stdout) as ShowJson[];
  assert.is(shown[0]!.state, 'cached');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
