import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { KilnError } from '../../errors.js';
import { Struct } from '../../fs/struct.js';

/**
 * The Unix `ar` archive that wraps a .deb: an 8-byte magic, then members, each a 60-byte
 * text header followed by its data padded to an even length. Numbers are ASCII (decimal,
 * mode in octal), fields padded with spaces.
 */

export const AR_MAGIC = '!<arch>\n';

export const AR_HEADER = new Struct('ar member header', 60, [
  { name: 'name', offset: 0, type: 'string', size: 16, pad: 0x20 },
  { name: 'mtime', offset: 16, type: 'string', size: 12, pad: 0x20 },
  { name: 'uid', offset: 28, type: 'string', size: 6, pad: 0x20 },
  { name: 'gid', offset: 34, type: 'string', size: 6, pad: 0x20 },
  { name: 'mode', offset: 40, type: 'string', size: 8, pad: 0x20 },
  { name: 'size', offset: 48, type: 'string', size: 10, pad: 0x20 },
  /** "`\n" */
  { name: 'fmag', offset: 58, type: 'string', size: 2 },
] as const);

export interface ArMember {
  /** The member name without GNU's trailing '/'. */
  name: string;
  /** Where the member's data starts in the archive file. */
  offset: number;
  size: number;
}

function readRange(fd: number, offset: number, size: number): string {
  const buf = Buffer.alloc(size);
  readSync(fd, buf, 0, size, offset);
  return buf.toString('utf8');
}

/** Lists the members of an ar archive by reading only their headers. */
export function listArMembers(path: string): ArMember[] {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const magic = Buffer.alloc(AR_MAGIC.length);
    readSync(fd, magic, 0, magic.length, 0);
    if (magic.toString('latin1') !== AR_MAGIC) {
      throw new KilnError(
        'deb-not-ar',
        `${path} is not an ar archive (a .deb starts with '!<arch>')`,
        'the download is damaged or not a Debian package; fetch it again',
      );
    }
    const members: ArMember[] = [];
    // GNU ar: '/' is a symbol table, '//' holds names longer than 15 bytes, '/N' points into it
    let longNames = '';
    const header = new Uint8Array(AR_HEADER.size);
    let at = AR_MAGIC.length;
    while (at < fileSize) {
      if (readSync(fd, header, 0, header.length, at) < header.length) {
        throw new KilnError('deb-truncated', `${path}: ar member header at byte ${at} is truncated`);
      }
      const h = AR_HEADER.decode(header);
      if (h.fmag !== '`\n' || !/^\d+$/.test(h.size)) throw new KilnError('deb-corrupt', `${path}: bad ar member header at byte ${at}`);
      const size = Number(h.size);
      const offset = at + AR_HEADER.size;
      if (offset + size > fileSize) throw new KilnError('deb-truncated', `${path}: ar member '${h.name}' runs past the end of the file`);
      if (h.name === '//') longNames = readRange(fd, offset, size);
      else if (h.name !== '/' && h.name !== '/SYM64/') {
        let name = h.name;
        if (/^\/\d+$/.test(name)) {
          const start = Number(name.slice(1));
          const end = longNames.indexOf('/\n', start);
          name = longNames.slice(start, end < 0 ? undefined : end);
        }
        members.push({ name: name.replace(/\/$/, ''), offset, size });
      }
      at = offset + size + (size % 2);
    }
    return members;
  } finally {
    closeSync(fd);
  }
}
