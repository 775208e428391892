import { runProgram } from './program.js';

/**
 * The page script Chromium runs: the program, then every image and the read-back summary
 * POSTed to the test's server (errors too, so that the test fails with the browser's message).
 */
async function main(): Promise<void> {
  const t0 = performance.now();
  const out = await runProgram();
  const ms = Math.round(performance.now() - t0);
  for (const [name, bytes] of Object.entries(out.images)) {
    await fetch(`/image/${encodeURIComponent(name)}`, { method: 'POST', body: bytes });
  }
  await fetch('/done', {
    method: 'POST',
    body: JSON.stringify({ readBack: out.readBack, ms, userAgent: (globalThis as { navigator?: { userAgent: string } }).navigator?.userAgent ?? '' }),
  });
}

main().catch((e: unknown) => {
  const err = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  void fetch('/error', { method: 'POST', body: err });
});
