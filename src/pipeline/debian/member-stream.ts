import { createReadStream } from 'node:fs';
import { KilnError } from '../../errors.js';

/** How a .deb member is compressed, from its name's suffix (dpkg-deb names them so). */
export type MemberCompression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

export function compressionOfMember(name: string): MemberCompression | undefined {
  if (/\.tar$/.test(name)) return 'none';
  if (/\.tar\.gz$/.test(name)) return 'gzip';
  if (/\.tar\.xz$/.test(name)) return 'xz';
  if (/\.tar\.zst$/.test(name)) return 'zstd';
  if (/\.tar\.bz2$/.test(name)) return 'bzip2';
  return undefined;
}

const TOOLS = { xz: 'xz-utils', zstd: 'zstd', bzip2: 'bzip2' } as const;

/**
 * The decompressed bytes of a byte range of a file (an ar member) as chunks: gzip in-process,
 * xz/zstd/bzip2 through the host's decompressor used as a filter. A decompressor that fails is
 * an error at the end of the stream, never a silently short member.
 */
export async function* openMember(path: string, offset: number, size: number, compression: MemberCompression): AsyncGenerator<Uint8Array> {
  if (size === 0) return;
  const input = createReadStream(path, { start: offset, end: offset + size - 1, highWaterMark: 1 << 20 });
  if (compression === 'none') {
    yield* input as AsyncIterable<Buffer>;
    return;
  }
  if (compression === 'gzip') {
    const gunzip = process.getBuiltinModule('node:zlib').createGunzip();
    input.on('error', (e) => gunzip.destroy(e));
    yield* input.pipe(gunzip) as AsyncIterable<Buffer>;
    return;
  }
  const child = process.getBuiltinModule('node:child_process').spawn(compression, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (e) =>
      reject(
        new KilnError('no-decompressor', `cannot run '${compression}' to read ${path}: ${e.message}`, `install the Debian package '${TOOLS[compression]}'`),
      ),
    );
    child.on('close', resolve);
  });
  exited.catch(() => {});
  input.pipe(child.stdin);
  child.stdin.on('error', () => {});
  try {
    yield* child.stdout as AsyncIterable<Buffer>;
    const code = await exited;
    if (code !== 0)
      throw new KilnError(
        'bad-archive',
        `${compression} failed on a member of ${path}: ${stderr.trim() || `exit ${code}`}`,
        'the file is damaged; fetch it again',
      );
  } finally {
    if (child.exitCode === null) child.kill();
    input.destroy();
  }
}
