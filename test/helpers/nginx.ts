import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { requireTool } from './tools.js';

/**
 * A real nginx from Debian (package `nginx`, whose core ngx_http_dav_module takes PUT and
 * DELETE) serving a directory as a Bazel HTTP cache on a loopback port: `dav` stores what is
 * PUT (nginx writes the body to a temp file and renames it, so a cut upload leaves nothing),
 * `500` answers every request with 500. Started and stopped by the test; a missing nginx fails.
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class Nginx {
  readonly data: string;
  port = 0;
  private child: ChildProcess | undefined;

  constructor(
    readonly dir: string,
    readonly mode: 'dav' | '500' = 'dav',
  ) {
    this.data = join(dir, 'data');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async start(): Promise<void> {
    const nginx = requireTool('nginx');
    for (const d of ['data', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(join(this.dir, d), { recursive: true });
    if (this.port === 0) this.port = await freePort();
    const location =
      this.mode === 'dav'
        ? `root ${this.data};\n      dav_methods PUT DELETE MKCOL;\n      create_full_put_path on;\n      dav_access user:rw group:r all:r;\n      client_max_body_size 0;`
        : 'return 500;';
    const conf = join(this.dir, 'nginx.conf');
    writeFileSync(
      conf,
      `${process.getuid?.() === 0 ? 'user root;\n' : ''}daemon off;
worker_processes 1;
pid ${this.dir}/nginx.pid;
error_log ${this.dir}/logs/error.log;
events { worker_connections 128; }
http {
  access_log ${this.dir}/logs/access.log;
  client_body_temp_path ${this.dir}/body;
  proxy_temp_path ${this.dir}/proxy;
  fastcgi_temp_path ${this.dir}/fastcgi;
  uwsgi_temp_path ${this.dir}/uwsgi;
  scgi_temp_path ${this.dir}/scgi;
  server {
    listen 127.0.0.1:${this.port};
    location / {
      ${location}
    }
  }
}
`,
    );
    this.child = spawn(nginx, ['-p', this.dir, '-c', conf, '-e', join(this.dir, 'logs/error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const started = Date.now();
    for (;;) {
      if (this.child.exitCode !== null)
        throw new Error(`nginx exited at start (${this.child.exitCode}): ${stderr}${readLog(join(this.dir, 'logs/error.log'))}`);
      if (await canConnect(this.port)) return;
      if (Date.now() - started > 10_000) throw new Error(`nginx did not listen on ${this.port} within 10 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends nginx: SIGQUIT (graceful) or SIGKILL to the master and its workers (the pid file's master is our child). */
  async stop(signal: 'SIGQUIT' | 'SIGKILL' = 'SIGQUIT'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const master = child.pid!;
    if (signal === 'SIGKILL') {
      // the workers are the master's children: kill them first, so nothing finishes a request
      for (const pid of workerPids(master)) process.kill(pid, 'SIGKILL');
    }
    const done = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await done;
    this.child = undefined;
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function workerPids(master: number): number[] {
  try {
    return readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
