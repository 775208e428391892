/**
 * `npm run man`: the man pages, generated from the same commander definitions as --help
 * (src/cli/man.ts), into man/: kiln.1 and kiln-COMMAND.1 (kiln-mkfs-ext4.1 for `kiln mkfs ext4`).
 * Read one with `man -l man/kiln-mkimage.1`.
 *
 *   npm run man [-- --out DIR]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeManPages } from '../src/cli/man.js';
import { buildProgram } from '../src/cli/program.js';

const repo = new URL('../', import.meta.url).pathname;
const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex >= 0 && process.argv[outIndex + 1] ? process.argv[outIndex + 1]! : join(repo, 'man'));
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const files = writeManPages(await buildProgram(), version, out);
process.stdout.write(`wrote ${files.length} man pages to ${out}: ${files.join(' ')}\n`);
