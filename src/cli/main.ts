#!/usr/bin/env node
import { start } from './start.js';

// The CLI from source (under tsx). The built package's bin is bundle-main.ts.
await start(import.meta.url);
