#!/usr/bin/env node
import { isMainThread } from 'node:worker_threads';
import { startEarlyWriter } from './writer-thread.js';

// A writer command's thread starts loading now, beside this thread's loading of the CLI (writer-thread.ts).
if (isMainThread) startEarlyWriter(import.meta.url, process.argv);
const { runCli } = await import('./run.js');
await runCli(import.meta.url);
