import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import type { Agent, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { authorizationFor, redactUrl } from './config.js';

// node:http and node:https (with tls and net) load when a remote is first used: every pipeline
// command imports this module, and most never talk to a remote.
/** The module that speaks `protocol` ('http:' or 'https:'); https has the same request and Agent shape. */
function transport(protocol: string): Pick<typeof import('node:http'), 'request' | 'Agent'> {
  return protocol === 'https:' ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http');
}

/**
 * A client of the Bazel HTTP remote-cache protocol: `GET|HEAD|PUT <base>/cas/<sha256>` for
 * content, `<base>/ac/<sha256>` for cache-key entries. Bodies stream (files are never read whole),
 * at most `parallel` requests run at once over kept-alive connections, and every request has a
 * time limit for the answer and for each pause while data flows. Failures are RemoteErrors that
 * say what kind of trouble it was, so callers can tell "the server is down" from "a miss".
 */

export type Namespace = 'cas' | 'ac';

/** down: no connection; timeout: no answer in time; server: 5xx or an unexpected status; denied: 401/403. */
export type RemoteTrouble = 'down' | 'timeout' | 'server' | 'denied';

export class RemoteError extends Error {
  constructor(
    readonly trouble: RemoteTrouble,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface HttpCacheOptions {
  /** Answer and idle limit per request (default: KILN_REMOTE_TIMEOUT seconds, else 30 s). */
  timeoutMs?: number;
  /** Requests at once (default 8). */
  parallel?: number;
  /** Authorization header value; default from the environment or netrc (authorizationFor). */
  authorization?: string | undefined;
}

export function defaultTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.KILN_REMOTE_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

export class HttpCache {
  /** The base URL as messages show it. */
  readonly display: string;
  readonly timeoutMs: number;
  private readonly base: URL;
  private readonly agent: Agent;
  private readonly authorization: string | undefined;
  private readonly limit: number;
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(url: string, options: HttpCacheOptions = {}) {
    this.base = new URL(url);
    this.display = redactUrl(url);
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs();
    this.limit = options.parallel ?? 8;
    this.authorization = 'authorization' in options ? options.authorization : authorizationFor(url);
    this.agent = new (transport(this.base.protocol).Agent)({ keepAlive: true, maxSockets: this.limit });
  }

  close(): void {
    this.agent.destroy();
  }

  private async slot<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await job();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  private url(ns: Namespace, digest: string): URL {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`not a sha256 digest: ${digest}`);
    return new URL(`${ns}/${digest}`, this.base);
  }

  /**
   * One request; resolves with the response once its headers arrived (the caller consumes the
   * body). The timer covers connecting and the answer; afterwards the socket's idle timeout does.
   */
  private request(method: string, url: URL, body?: { stream: () => Readable | Buffer; length: number }): Promise<IncomingMessage> {
    const headers: Record<string, string | number> = { 'user-agent': 'kiln' };
    if (this.authorization) headers.authorization = this.authorization;
    if (body) {
      headers['content-length'] = body.length;
      headers['content-type'] = 'application/octet-stream';
    }
    const mod = transport(url.protocol);
    const what = `${method} ${redactUrl(url.href)}`;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let settled = false;
      let response: IncomingMessage | undefined;
      const fail = (e: RemoteError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(e);
      };
      const req = mod.request(url, { method, headers, agent: this.agent });
      const timer = setTimeout(() => fail(new RemoteError('timeout', `${what}: no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
      req.setTimeout(this.timeoutMs, () => {
        const e = new RemoteError('timeout', `${what}: no progress for ${this.timeoutMs / 1000} s`);
        if (response) response.destroy(e);
        else fail(e);
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        const down = ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT'].includes(e.code ?? '');
        fail(new RemoteError(down ? 'down' : 'server', `${what}: ${e.code ? `${e.code} ` : ''}${e.message}`));
      });
      req.on('response', (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        clearTimeout(timer);
        response = res;
        resolve(res);
      });
      if (!body) {
        req.end();
        return;
      }
      const data = body.stream();
      if (Buffer.isBuffer(data)) req.end(data);
      else {
        data.on('error', (e) => fail(new RemoteError('server', `${what}: reading the upload: ${e.message}`)));
        data.pipe(req);
      }
    });
  }

  private statusError(what: string, res: IncomingMessage): RemoteError {
    const status = res.statusCode ?? 0;
    res.resume();
    const trouble: RemoteTrouble = status === 401 || status === 403 ? 'denied' : 'server';
    return new RemoteError(trouble, `${what}: HTTP ${status} ${res.statusMessage ?? ''}`.trim());
  }

  /** The stored size, or undefined when the server does not have it. */
  head(ns: Namespace, digest: string): Promise<number | undefined> {
    return this.slot(async () => {
      const url = this.url(ns, digest);
      const res = await this.request('HEAD', url);
      res.resume();
      if (res.statusCode === 404) return undefined;
      if (res.statusCode !== 200) throw this.statusError(`HEAD ${redactUrl(url.href)}`, res);
      const n = Number(res.headers['content-length']);
      return Number.isFinite(n) ? n : -1;
    });
  }

  /** A small entry (an /ac/ entry), or undefined on a miss. Larger than `max` is an error. */
  getBytes(ns: Namespace, digest: string, max = 1 << 20): Promise<Buffer | undefined> {
    return this.slot(async () => {
      const url = this.url(ns, digest);
      const res = await this.request('GET', url);
      if (res.statusCode === 404) {
        res.resume();
        return undefined;
      }
      if (res.statusCode !== 200) throw this.statusError(`GET ${redactUrl(url.href)}`, res);
      const chunks: Buffer[] = [];
      let n = 0;
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          n += chunk.length;
          if (n > max) {
            res.destroy();
            throw new RemoteError('server', `GET ${redactUrl(url.href)}: the entry is larger than ${max} bytes`);
          }
          chunks.push(chunk);
        }
      } catch (e) {
        throw e instanceof RemoteError ? e : new RemoteError('down', `GET ${redactUrl(url.href)}: ${(e as Error).message}`);
      }
      return Buffer.concat(chunks);
    });
  }

  /**
   * Streams content into `tmp` (created, fsynced), hashing on the way. Resolves with the sha256
   * and size of what arrived (the caller compares it with the digest it asked for), or undefined
   * on a miss. `onBytes` sees each chunk's length (progress).
   */
  getToFile(ns: Namespace, digest: string, tmp: string, onBytes?: (n: number) => void): Promise<{ sha256: string; size: number } | undefined> {
    return this.slot(async () => {
      const url = this.url(ns, digest);
      const res = await this.request('GET', url);
      if (res.statusCode === 404) {
        res.resume();
        return undefined;
      }
      if (res.statusCode !== 200) throw this.statusError(`GET ${redactUrl(url.href)}`, res);
      const hash = createHash('sha256');
      let size = 0;
      const fd = openSync(tmp, 'w');
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          hash.update(chunk);
          let done = 0;
          while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
          size += chunk.length;
          onBytes?.(chunk.length);
        }
        if (!res.complete) throw new Error('the connection closed before the end of the body');
        fsyncSync(fd);
      } catch (e) {
        closeSync(fd);
        rmSync(tmp, { force: true });
        throw e instanceof RemoteError ? e : new RemoteError('down', `GET ${redactUrl(url.href)}: ${(e as Error).message}`);
      }
      closeSync(fd);
      return { sha256: hash.digest('hex'), size };
    });
  }

  /** Uploads a host file (streamed) under `digest`. */
  putFile(ns: Namespace, digest: string, path: string, size: number, onBytes?: (n: number) => void): Promise<void> {
    return this.put(ns, digest, {
      length: size,
      stream: () => {
        const s = createReadStream(path, { highWaterMark: 1 << 20 });
        if (onBytes) s.on('data', (c) => onBytes(c.length));
        return s;
      },
    });
  }

  putBytes(ns: Namespace, digest: string, bytes: Buffer): Promise<void> {
    return this.put(ns, digest, { length: bytes.length, stream: () => bytes });
  }

  private put(ns: Namespace, digest: string, body: { stream: () => Readable | Buffer; length: number }): Promise<void> {
    return this.slot(async () => {
      const url = this.url(ns, digest);
      const res = await this.request('PUT', url, body);
      res.resume();
      const status = res.statusCode ?? 0;
      // 200/201/204: stored; nginx's WebDAV answers 204 when it replaced an existing file
      if (status < 200 || status > 299) throw this.statusError(`PUT ${redactUrl(url.href)}`, res);
    });
  }
}
