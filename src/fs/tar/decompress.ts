import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KilnError } from '../../errors.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** Detects the compression of a file from its magic bytes. */
export async function detectCompression(path: string): Promise<Compression> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(6);
    await fh.read(b, 0, 6, 0);
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
    if (b.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await fh.close();
  }
}

const TOOLS: Record<'bzip2' | 'xz' | 'zstd', { cmd: string; pkg: string }> = {
  bzip2: { cmd: 'bzip2', pkg: 'bzip2' },
  xz: { cmd: 'xz', pkg: 'xz-utils' },
  zstd: { cmd: 'zstd', pkg: 'zstd' },
};

/**
 * The decompressed bytes of a file as a stream. gzip is decoded in-process; bzip2, xz and
 * zstd through the host's decompressor (a filter, not an image tool).
 */
export async function openDecompressed(path: string, compression?: Compression): Promise<Readable> {
  const kind = compression ?? (await detectCompression(path));
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  if (kind === 'none') return input;
  if (kind === 'gzip') return input.pipe(process.getBuiltinModule('node:zlib').createGunzip());
  const tool = TOOLS[kind];
  const child = process.getBuiltinModule('node:child_process').spawn(tool.cmd, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  input.pipe(child.stdin);
  child.stdin.on('error', () => {});
  child.on('error', (e) => {
    child.stdout.destroy(
      new KilnError('no-decompressor', `cannot run '${tool.cmd}' to read ${path}: ${e.message}`, `install the Debian package '${tool.pkg}'`),
    );
  });
  child.on('close', (code) => {
    if (code !== 0) child.stdout.destroy(new KilnError('bad-archive', `${tool.cmd} failed on ${path}: ${stderr.trim() || `exit ${code}`}`));
  });
  return child.stdout;
}
