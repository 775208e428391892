import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleForBrowser } from '../helpers/bundle.js';
import { requireTool, run } from '../helpers/tools.js';
import { runProgram } from './program.js';

/**
 * The browser proof: test/browser/program.ts (ext4, FAT32, an MBR disk, an initramfs, read
 * back) bundled by esbuild for the browser with no shims, run in headless Chromium from
 * Debian. Its images must equal, byte for byte, what the same program writes in Node, and
 * pass e2fsck -fn / fsck.fat -n. A missing chromium is a failure, never a skip.
 */
const here = new URL('.', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kiln-browser-'));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface BrowserRun {
  images: Map<string, Uint8Array>;
  readBack: unknown;
  ms: number;
  userAgent: string;
}

/** Serves the page and bundle, starts Chromium on it, collects what the page POSTs. */
async function runInChromium(bundle: string, timeoutMs: number): Promise<BrowserRun> {
  const chromium = requireTool('chromium');
  const images = new Map<string, Uint8Array>();
  let child: ChildProcess | undefined;
  let stderr = '';
  const server = createServer();
  try {
    return await new Promise<BrowserRun>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Chromium did not finish within ${timeoutMs / 1000}s; its stderr:\n${stderr.slice(-3000)}`)), timeoutMs);
      server.on('request', (req, res) => {
        void (async () => {
          const url = req.url ?? '/';
          if (req.method === 'GET' && url === '/') {
            res.setHeader('content-type', 'text/html');
            res.end('<!doctype html><meta charset="utf-8"><title>kiln</title><script type="module" src="/bundle.js"></script>');
          } else if (req.method === 'GET' && url === '/bundle.js') {
            res.setHeader('content-type', 'text/javascript');
            res.end(bundle);
          } else if (req.method === 'POST' && url.startsWith('/image/')) {
            images.set(decodeURIComponent(url.slice('/image/'.length)), new Uint8Array(await body(req)));
            res.end('ok');
          } else if (req.method === 'POST' && url === '/done') {
            const d = JSON.parse((await body(req)).toString('utf8')) as { readBack: unknown; ms: number; userAgent: string };
            res.end('ok');
            clearTimeout(timer);
            resolve({ images, readBack: d.readBack, ms: d.ms, userAgent: d.userAgent });
          } else if (req.method === 'POST' && url === '/error') {
            const msg = (await body(req)).toString('utf8');
            res.end('ok');
            clearTimeout(timer);
            reject(new Error(`the program failed in Chromium:\n${msg}`));
          } else {
            res.statusCode = 404;
            res.end();
          }
        })().catch(reject);
      });
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as AddressInfo).port;
        child = spawn(
          chromium,
          [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-dev-shm-usage',
            '--no-first-run',
            `--user-data-dir=${join(dir, 'profile')}`,
            `http://127.0.0.1:${port}/`,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
        );
        child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('error', (e) => reject(new Error(`cannot start ${chromium}: ${e.message}`)));
        child.on('exit', (code) => reject(new Error(`Chromium exited (${code}) before the program finished; its stderr:\n${stderr.slice(-3000)}`)));
      });
    });
  } finally {
    // Chromium and its helpers run in their own process group (detached): stop that group.
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    server.close();
  }
}

test('the writers run in headless Chromium (no shims) and write the bytes Node writes', async () => {
  const b = await bundleForBrowser(join(here, 'page.ts'));
  assert.equal(b.unresolved, [], b.unresolved.join('\n'));
  assert.equal(b.nodeGlobals, [], b.nodeGlobals.join('\n'));
  const browser = await runInChromium(b.code!, 240_000);
  const node = await runProgram();

  assert.equal([...browser.images.keys()].sort(), Object.keys(node.images).sort());
  for (const [name, bytes] of Object.entries(node.images)) {
    assert.is(sha(browser.images.get(name)!), sha(bytes), `${name}: the browser's bytes differ from Node's`);
  }
  assert.equal(browser.readBack, JSON.parse(JSON.stringify(node.readBack)));

  // The oracles, on the browser's bytes.
  const ext4 = join(dir, 'ext4.img');
  writeFileSync(ext4, browser.images.get('ext4')!);
  run('e2fsck', ['-fn', ext4]);
  const disk = browser.images.get('disk')!;
  const parts = (node.readBack.disk as { parts: { start: number; sectors: number }[] }).parts;
  const fatPart = join(dir, 'p1.img');
  writeFileSync(fatPart, disk.subarray(parts[0]!.start * 512, (parts[0]!.start + parts[0]!.sectors) * 512));
  run('fsck.fat', ['-n', fatPart]);
  const extPart = join(dir, 'p2.img');
  writeFileSync(extPart, disk.subarray(parts[1]!.start * 512, (parts[1]!.start + parts[1]!.sectors) * 512));
  run('e2fsck', ['-fn', extPart]);
  const fat32 = join(dir, 'fat32.img');
  writeFileSync(fat32, browser.images.get('fat32')!);
  run('fsck.fat', ['-n', fat32]);
  const listed = run('cpio', ['-t', '--quiet'], { input: browser.images.get('initramfs.cpio')! })
    .stdout.split('\n')
    .filter(Boolean);
  assert.ok(listed.includes('bin/init2') && listed.includes('etc/hostname'), listed.join(', '));

  const min = await bundleForBrowser(join(here, 'page.ts'), { minify: true });
  const minified = Buffer.byteLength(min.code!);
  console.log(`  chromium: ${browser.userAgent}; program ran in ${browser.ms} ms`);
  console.log(
    `  browser bundle of the proof program: ${Buffer.byteLength(b.code!)} bytes, minified ${minified}, minified+gzip ${gzipSync(min.code!, { level: 9 }).length}`,
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
