import type { RemoteSpec } from './config.js';
import { HttpCache, RemoteError, type HttpCacheOptions } from './http-cache.js';

/**
 * The remote caches of one run, in order, and what happened to them: a remote that is down,
 * too slow or answers 5xx is given up for the rest of the run after one warning (the build goes
 * on locally); a remote that refuses uploads (401/403) is still pulled from. Blobs found damaged
 * on a remote are remembered, so that a later push sends them again instead of trusting HEAD.
 */

export interface Remote {
  spec: RemoteSpec;
  http: HttpCache;
  /** Why it is no longer used (set once, with the one warning). */
  down?: string;
  /** Why pushes to it stopped (uploads refused). */
  pushDown?: string;
}

/** Counters for the progress display: what is known to be needed, what has moved. */
export class Transfer {
  blobs = 0;
  bytes = 0;
  blobsTotal = 0;
  bytesTotal = 0;
  elements = 0;
}

export interface RemotesEvents {
  /** One line per trouble (the remote given up, a damaged entry). */
  warn(message: string): void;
  /** Called as transfers progress (callers throttle what they draw). */
  progress?(): void;
}

export class Remotes {
  readonly list: Remote[];
  /** Digests some remote served damaged: pushes send them again. */
  readonly suspect = new Set<string>();
  readonly pulled = new Transfer();
  readonly pushed = new Transfer();

  constructor(
    specs: readonly RemoteSpec[],
    readonly events: RemotesEvents,
    options: HttpCacheOptions = {},
  ) {
    this.list = specs.map((spec) => ({ spec, http: new HttpCache(spec.url, options) }));
  }

  get pullable(): Remote[] {
    return this.list.filter((r) => r.down === undefined);
  }

  get pushable(): Remote[] {
    return this.list.filter((r) => r.spec.push && r.down === undefined && r.pushDown === undefined);
  }

  /** Handles a failure talking to `remote`: RemoteErrors give it up (one warning); anything else is rethrown. */
  trouble(remote: Remote, e: unknown, during: 'pull' | 'push'): void {
    if (!(e instanceof RemoteError)) throw e;
    if (remote.down !== undefined) return;
    if (e.trouble === 'denied' && during === 'push') {
      if (remote.pushDown !== undefined) return;
      remote.pushDown = e.message;
      this.events.warn(
        `remote cache ${remote.http.display}: uploads are refused (${e.message}); not pushing to it in this run (check its credentials: KILN_REMOTE_TOKEN, KILN_REMOTE_USER/KILN_REMOTE_PASSWORD or ~/.netrc)`,
      );
      return;
    }
    remote.down = e.message;
    const what = { down: 'is unreachable', timeout: 'is too slow', server: 'failed', denied: 'refused access' }[e.trouble];
    this.events.warn(
      `remote cache ${remote.http.display} ${what} (${e.message}); going on without it for the rest of this run (what is not cached locally is built here${remote.spec.push ? ', and nothing is pushed to it' : ''})`,
    );
  }

  close(): void {
    for (const r of this.list) r.http.close();
  }
}

/** Runs `job` over `items`, at most `limit` at once; after the first failure starts nothing new, then throws it. */
export async function runPool<T>(items: readonly T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await job(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}
