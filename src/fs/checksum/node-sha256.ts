import { createHash } from 'node:crypto';
import { useSha256Backend } from './sha256.js';

// Node-only: the writers hash with Node's SHA-256 wherever a Node module that reads or writes
// host files is loaded (file-target.ts imports this); a browser keeps the pure-JS one.
useSha256Backend(() => createHash('sha256'));
