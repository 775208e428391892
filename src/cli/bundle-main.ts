#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { isMainThread, workerData } from 'node:worker_threads';
import { requireWithCodeCache } from './code-cache.js';
import type { WriterJob } from './writer-thread.js';

/**
 * The built package's bin (dist/cli/main.js, made by scripts/bundle-cli.ts): the CLI bundled as
 * kiln.cjs beside it, loaded with V8's code cache (code-cache.ts).
 */

/** The bundle's content hash, set by the bundler. */
declare const KILN_CLI_BUNDLE_ID: string;

// a writer thread runs its main thread's command line (writer-thread.ts), with the same cache
const argv = isMainThread ? process.argv : ((workerData as WriterJob | undefined)?.argv ?? []);
const cli = requireWithCodeCache(fileURLToPath(new URL('./kiln.cjs', import.meta.url)), KILN_CLI_BUNDLE_ID, argv) as typeof import('./start.js');
await cli.start(import.meta.url);
