#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { isMainThread, workerData } from 'node:worker_threads';
import { requireWithCodeCache } from './code-cache.js';
import { commandWordAt } from './command-word.js';
import type { WriterJob } from './writer-thread.js';

/**
 * The built package's bin (dist/cli/main.js, made by scripts/bundle-cli.ts): the CLI bundled as
 * kiln.cjs beside it, loaded with V8's code cache (code-cache.ts).
 */

/** Set by the bundler: the bundle's content hash, and every command word (commands/index.ts). */
declare const KILN_CLI_BUNDLE_ID: string;
declare const KILN_COMMAND_WORDS: readonly string[];

// a writer thread runs its main thread's command line (writer-thread.ts)
const argv = isMainThread ? process.argv : ((workerData as WriterJob | undefined)?.argv ?? []);
const command = argv[commandWordAt(argv, KILN_COMMAND_WORDS)] ?? 'none';
const loaded = requireWithCodeCache(fileURLToPath(new URL('./kiln.cjs', import.meta.url)), KILN_CLI_BUNDLE_ID, command);
await (loaded.exports as typeof import('./start.js')).start(import.meta.url, loaded.checkpoint);
