import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../../helpers/tools.js';
import { Nginx } from '../../helpers/nginx.js';
import { writeChainProject, writeHello } from '../build/chain-project.js';

/**
 * The remote cache against a real nginx (WebDAV PUT) on a loopback port: machine A builds and
 * pushes, machine B (an empty cache) pulls every element and builds nothing, with byte-identical
 * checkouts. Then the faults: the server killed mid-push, a blob damaged on the server's disk,
 * a server answering 500, a server that accepts connections and never answers. Every time kiln
 * must say what happened and still produce the same result.
 */

requireTool('bwrap');
requireTool('nginx');
const repo = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kiln-remote-'));
chmodSync(work, 0o755);
const project = join(work, 'project');
writeChainProject(project);
const ALL = ['base.bst', 'hello.bst', 'system.bst', 'report.bst'];
const server = new Nginx(join(work, 'nginx'));
let machines = 0;
const newCache = (): string => join(work, `cache-${++machines}`);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  all: string;
  ms: number;
}

/** Runs the CLI without blocking this process (the test's proxy and hanging server live here). */
function kiln(args: string[], opts: { cacheDir: string; dir?: string; env?: Record<string, string> }): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), '--cache-dir', opts.cacheDir, '-C', opts.dir ?? project, ...args], {
    cwd: repo,
    env: { ...process.env, XDG_CONFIG_HOME: join(work, 'no-config'), ...opts.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr, all: `${stdout}\n${stderr}`, ms: Date.now() - started })));
}

async function checkoutDigest(cacheDir: string, element: string, dir = project): Promise<string> {
  const tar = join(work, `checkout-${Math.random().toString(36).slice(2)}.tar`);
  const r = await kiln(['checkout', '--tar', tar, element], { cacheDir, dir });
  assert.is(r.status, 0, r.all);
  const digest = createHash('sha256').update(readFileSync(tar)).digest('hex');
  rmSync(tar);
  return digest;
}

/** Every file under the server's /cas/ is named by the sha256 of its bytes (nothing half-written under a final name). */
function casFiles(data: string): { name: string; path: string; ok: boolean; size: number }[] {
  let names: string[];
  try {
    names = readdirSync(join(data, 'cas'));
  } catch {
    return [];
  }
  return names.map((name) => {
    const path = join(data, 'cas', name);
    return { name, path, size: statSync(path).size, ok: createHash('sha256').update(readFileSync(path)).digest('hex') === name };
  });
}

const pulledLines = (out: string): string[] => out.split('\n').filter((l) => /\] SUCCESS Pulled /.test(l));
const builtLines = (out: string): string[] => out.split('\n').filter((l) => /\] START +Building /.test(l));
const remoteWarnings = (out: string): string[] => out.split('\n').filter((l) => /WARNING.*remote cache/.test(l));

const want: Record<string, string> = {};

test.before(async () => {
  await server.start();
});

test.after(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

test('machine A builds and pushes; machine B pulls every element, builds nothing, checks out the same bytes', async () => {
  const a = newCache();
  const built = await kiln(['--remote', server.url, 'build', ...ALL], { cacheDir: a });
  assert.is(built.status, 0, built.all);
  for (const e of ALL) assert.match(built.stdout, new RegExp(`SUCCESS Pushed ${e.replace('.', '\\.')} to ${server.url}`), built.all);
  assert.ok(casFiles(server.data).length > 0, 'blobs are on the server');
  assert.ok(
    casFiles(server.data).every((f) => f.ok),
    'every blob on the server is named by its sha256',
  );
  assert.is(readdirSync(join(server.data, 'ac')).length, ALL.length, 'one /ac/ entry per artifact');
  for (const e of ['system.bst', 'report.bst']) want[e] = await checkoutDigest(a, e);
  process.stdout.write(
    `\n  [remote] A: build + push ${built.ms} ms; server holds ${casFiles(server.data).length} blobs, ${casFiles(server.data).reduce((n, f) => n + f.size, 0)} bytes\n    ${built.stdout
      .split('\n')
      .filter((l) => /^ +(Remote:|pushed )/.test(l))
      .map((l) => l.trim())
      .join('\n    ')}\n`,
  );

  // a second push of the same artifacts sends nothing: HEAD finds every blob
  const again = await kiln(['--remote', server.url, 'artifact', 'push', '--deps', 'all', 'report.bst'], { cacheDir: a });
  assert.is(again.status, 0, again.all);
  assert.match(again.stdout, /report\.bst: .*sent 0 blob\(s\)/);

  const b = newCache();
  const pulled = await kiln(['--remote', server.url, 'build', ...ALL], { cacheDir: b });
  assert.is(pulled.status, 0, pulled.all);
  assert.is(pulledLines(pulled.stdout).length, ALL.length, pulled.all);
  for (const e of ALL) assert.match(pulled.stdout, new RegExp(`SUCCESS Pulled ${e.replace('.', '\\.')} from `), pulled.all);
  assert.equal(builtLines(pulled.stdout), [], 'nothing was built');
  assert.match(pulled.stdout, /Build queue: processed 0,/);
  assert.equal(remoteWarnings(pulled.all), []);
  for (const e of ['system.bst', 'report.bst']) assert.is(await checkoutDigest(b, e), want[e]!, `${e} checks out byte for byte`);
  process.stdout.write(
    `  [remote] B: pull-only build ${pulled.ms} ms: ${pulled.stdout
      .split('\n')
      .find((l) => l.includes('Remote:'))
      ?.trim()}\n`,
  );

  // only the target: the plan pulls it and never downloads its build dependencies
  const c = newCache();
  const one = await kiln(['--remote', server.url, 'build', 'report.bst'], { cacheDir: c });
  assert.is(one.status, 0, one.all);
  assert.equal(
    pulledLines(one.stdout).map((l) => /Pulled (\S+)/.exec(l)![1]),
    ['report.bst'],
  );
  assert.is(await checkoutDigest(c, 'report.bst'), want['report.bst']!);
});

/** A loopback proxy to nginx that kills nginx (SIGKILL, workers first) once it has forwarded part of the `n`-th PUT. */
function killingProxy(target: () => number, n: number, kill: () => Promise<void>): Promise<{ server: Server; port: number; killed: () => boolean }> {
  let puts = 0;
  let killed = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(target(), '127.0.0.1');
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (killed) return;
      const text = chunk.toString('latin1');
      const at = text.indexOf('PUT /cas/');
      if (at >= 0 && ++puts >= n) {
        killed = true;
        // the request line and some of the body reach nginx, then it dies mid-upload
        upstream.write(chunk.subarray(0, Math.min(chunk.length, at + 300)));
        void kill().then(() => {
          for (const s of sockets) s.destroy();
        });
        return;
      }
      upstream.write(chunk);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, killed: () => killed })),
  );
}

test('the server killed mid-push: the build still succeeds and says so; nothing half-written is trusted later', async () => {
  // new artifacts (a changed hello): base is on the server already, the rest must be pushed
  const p2 = join(work, 'project-2');
  cpSync(project, p2, { recursive: true });
  writeHello(p2, 'Hello Proxy!');
  const proxy = await killingProxy(
    () => server.port,
    2,
    () => server.stop('SIGKILL'),
  );
  const c = newCache();
  const r = await kiln(['--remote', `http://127.0.0.1:${proxy.port}/`, 'build', ...ALL], { cacheDir: c, dir: p2 });
  proxy.server.close();
  assert.ok(proxy.killed(), 'the proxy killed nginx during a push');
  assert.is(r.status, 0, r.all);
  const warnings = remoteWarnings(r.all);
  assert.is(warnings.length, 1, `one warning about the remote:\n${r.all}`);
  assert.match(warnings[0]!, /is unreachable|failed/);
  process.stdout.write(`  [remote] killed mid-push (${r.ms} ms): ${warnings[0]}\n`);
  const mine = await checkoutDigest(c, 'report.bst', p2);

  await server.start();
  assert.ok(
    casFiles(server.data).every((f) => f.ok),
    'no partial upload sits under a final name',
  );
  // machine D pulls whatever was pushed whole, builds the rest, and gets the same result
  const d = newCache();
  const r2 = await kiln(['--remote', server.url, 'build', ...ALL], { cacheDir: d, dir: p2 });
  assert.is(r2.status, 0, r2.all);
  assert.equal(remoteWarnings(r2.all), []);
  assert.ok(pulledLines(r2.stdout).length >= 1, r2.all);
  process.stdout.write(`  [remote] after the restart: ${pulledLines(r2.stdout).length} pulled, ${builtLines(r2.stdout).length} built (${r2.ms} ms)\n`);
  assert.is(await checkoutDigest(d, 'report.bst', p2), mine);
  assert.ok(casFiles(server.data).every((f) => f.ok));
});

test('a blob damaged on the server is refused; the element is built locally and the push repairs the server', async () => {
  const biggest = casFiles(server.data).sort((x, y) => y.size - x.size)[0]!;
  const bytes = readFileSync(biggest.path);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(biggest.path, bytes);
  const e = newCache();
  const r = await kiln(['--remote', server.url, 'build', ...ALL], { cacheDir: e });
  assert.is(r.status, 0, r.all);
  assert.match(r.all, new RegExp(`blob /cas/${biggest.name} arrived with sha256 [0-9a-f]{64} .*damaged`));
  assert.ok(builtLines(r.stdout).length >= 1, 'what used the damaged blob was built locally');
  process.stdout.write(
    `  [remote] damaged blob (${r.ms} ms):\n${remoteWarnings(r.all)
      .map((l) => `    ${l}`)
      .join('\n')}\n`,
  );
  for (const el of ['system.bst', 'report.bst']) assert.is(await checkoutDigest(e, el), want[el]!);
  // the rebuilt artifact's push sent the blob again instead of trusting HEAD
  assert.ok(
    casFiles(server.data).every((f) => f.ok),
    'the server copy was repaired by the push',
  );
});

test('a server that answers 500: one warning, built locally, same result', async () => {
  const failing = new Nginx(join(work, 'nginx-500'), '500');
  await failing.start();
  try {
    const f = newCache();
    const r = await kiln(['--remote', failing.url, 'build', ...ALL], { cacheDir: f });
    assert.is(r.status, 0, r.all);
    const warnings = remoteWarnings(r.all);
    assert.is(warnings.length, 1, r.all);
    assert.match(warnings[0]!, /HTTP 500/);
    process.stdout.write(`  [remote] 500s (${r.ms} ms): ${warnings[0]}\n`);
    assert.is(builtLines(r.stdout).length, ALL.length);
    assert.is(await checkoutDigest(f, 'report.bst'), want['report.bst']!);
  } finally {
    await failing.stop();
  }
});

test('a server that accepts and never answers: given up after the timeout, built locally, same result', async () => {
  const held: Socket[] = [];
  const hang = createServer((s) => held.push(s));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
  const port = (hang.address() as { port: number }).port;
  try {
    const g = newCache();
    const r = await kiln(['--remote', `http://127.0.0.1:${port}/`, 'build', ...ALL], { cacheDir: g, env: { KILN_REMOTE_TIMEOUT: '1' } });
    assert.is(r.status, 0, r.all);
    const warnings = remoteWarnings(r.all);
    assert.is(warnings.length, 1, r.all);
    assert.match(warnings[0]!, /too slow .*no answer within 1 s/);
    process.stdout.write(`  [remote] hang (${r.ms} ms): ${warnings[0]}\n`);
    assert.is(await checkoutDigest(g, 'report.bst'), want['report.bst']!);
  } finally {
    for (const s of held) s.destroy();
    hang.close();
  }
});

test.run();
