import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SourceRemote } from '../sources/index.js';
import { RemoteError } from './http-cache.js';
import type { Remotes } from './remotes.js';

/**
 * The remote caches as the last origin of a pinned source file: `/cas/<sha256>`, streamed to a
 * temp name beside `dest`, hashed on the way and renamed only when the hash is the pin.
 */
export function sourceRemote(remotes: Remotes): SourceRemote {
  return {
    async fetchFile(sha256: string, dest: string, where: string): Promise<{ ok: boolean; tried: string[] }> {
      const tried: string[] = [];
      mkdirSync(dirname(dest), { recursive: true });
      for (const remote of remotes.pullable) {
        const tmp = join(dirname(dest), `.remote-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
        try {
          const got = await remote.http.getToFile('cas', sha256, tmp, (n) => {
            remotes.pulled.bytes += n;
            remotes.events.progress?.();
          });
          if (!got) {
            tried.push(`remote cache ${remote.http.display}: does not have sha256 ${sha256}`);
            continue;
          }
          if (got.sha256 !== sha256) {
            remotes.suspect.add(sha256);
            tried.push(`remote cache ${remote.http.display}: its copy is damaged (sha256 ${got.sha256})`);
            remotes.events.warn(`remote cache ${remote.http.display}: ${where}: the file with sha256 ${sha256} arrived with sha256 ${got.sha256}; not used`);
            continue;
          }
          renameSync(tmp, dest);
          remotes.pulled.blobs++;
          return { ok: true, tried };
        } catch (e) {
          if (!(e instanceof RemoteError)) throw e;
          tried.push(`remote cache ${remote.http.display}: ${e.message}`);
          remotes.trouble(remote, e, 'pull');
        } finally {
          rmSync(tmp, { force: true });
        }
      }
      if (remotes.list.length > 0 && tried.length === 0) tried.push('the remote caches were given up earlier in this run');
      return { ok: false, tried };
    },
  };
}
