import type { BuildRemoteReport, Remotes, Transfer } from '../pipeline/pipeline.js';

/** How the command line shows transfers with the remote caches. */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** "12/40 blobs, 3.1 MiB/10 MiB" for the live line. */
export function transferText(t: Transfer): string {
  return `${t.blobs}/${t.blobsTotal} blobs, ${formatBytes(t.bytes)}/${formatBytes(t.bytesTotal)}`;
}

/** Calls `draw` at most every `ms` milliseconds (progress callbacks come per chunk). */
export function throttle(draw: () => void, ms = 200): () => void {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < ms) return;
    last = now;
    draw();
  };
}

/** What a build did with the remote caches, for its summary. */
export function remoteSummaryLines(report: BuildRemoteReport, remotes: Remotes): string[] {
  const out: string[] = [];
  const p = remotes.pulled;
  const q = remotes.pushed;
  const down = remotes.list.filter((r) => r.down !== undefined).map((r) => r.http.display);
  out.push(`  Remote:  pulled ${report.pulled.length} element(s), ${p.blobs} blob(s), ${formatBytes(p.bytes)} in ${(report.pullMs / 1000).toFixed(1)}s`);
  if (report.pushes > 0)
    out.push(`           pushed ${q.elements} element(s): ${q.blobs} blob(s) checked, ${formatBytes(q.bytes)} sent in ${(report.pushMs / 1000).toFixed(1)}s`);
  if (down.length > 0) out.push(`           given up: ${down.join(', ')} (see the warning above)`);
  return out;
}
