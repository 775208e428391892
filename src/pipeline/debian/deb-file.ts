import { closeSync, createReadStream, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { KilnError } from '../../errors.js';
import { HostFileContent } from '../../fs/content.js';
import type { FileContent } from '../../fs/file-content.js';
import { parseTar, type TarEntry } from '../../fs/tar/reader.js';
import { listArMembers, type ArMember } from './ar.js';
import { compressionOfMember, openMember, type MemberCompression } from './member-stream.js';

/**
 * A binary package file: `debian-binary` ("2.0\n"), `control.tar[.gz|.xz|.zst]` (the control
 * file and maintainer scripts) and `data.tar[...]` (the files), in an ar archive. Nothing here
 * extracts through the host filesystem: members are streamed, and the data archive is at most
 * decompressed into one plain tar whose members are then referenced in place.
 */
export interface DebFile {
  path: string;
  control: ArMember & { compression: MemberCompression };
  data: ArMember & { compression: MemberCompression };
}

function readRange(path: string, offset: number, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

export function openDeb(path: string): DebFile {
  const members = listArMembers(path);
  const first = members[0];
  if (first?.name !== 'debian-binary')
    throw new KilnError('deb-corrupt', `${path}: the first ar member is not 'debian-binary'`, 'this is not a Debian binary package');
  const version = readRange(path, first.offset, Math.min(first.size, 16)).toString('latin1').trim();
  if (!/^2\.\d+$/.test(version)) throw new KilnError('deb-format', `${path}: unsupported .deb format version '${version}'`, 'kiln reads format 2.x packages');
  const find = (prefix: string): ArMember & { compression: MemberCompression } => {
    for (const m of members) {
      if (!m.name.startsWith(`${prefix}.tar`)) continue;
      const compression = compressionOfMember(m.name);
      if (!compression)
        throw new KilnError('deb-format', `${path}: member '${m.name}' uses a compression kiln does not read`, 'supported: none, gzip, xz, zstd, bzip2');
      return { ...m, compression };
    }
    throw new KilnError('deb-corrupt', `${path}: no ${prefix}.tar member`, 'the file is damaged or not a Debian binary package');
  };
  return { path, control: find('control'), data: find('data') };
}

/** The regular files of control.tar (control, md5sums, postinst, …) by name without './'. */
export async function readControlFiles(deb: DebFile): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  await parseTar(
    openMember(deb.path, deb.control.offset, deb.control.size, deb.control.compression),
    async (entry, data) => {
      if (entry.type !== 'file') return;
      const out = new Uint8Array(entry.size);
      let at = 0;
      for await (const chunk of data) {
        out.set(chunk, at);
        at += chunk.length;
      }
      files.set(entry.path.replace(/^(\.\/)+/, ''), out);
    },
    `${deb.path} control.tar`,
  );
  return files;
}

/** Writes the decompressed data.tar of a package to `dest` (whole, via a temp name and rename). */
export async function unpackDataTar(deb: DebFile, dest: string): Promise<void> {
  const tmp = `${dest}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let open = true;
  try {
    let at = 0;
    for await (const chunk of openMember(deb.path, deb.data.offset, deb.data.size, deb.data.compression)) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done, at + done);
      at += chunk.length;
    }
    closeSync(fd);
    open = false;
    renameSync(tmp, dest);
  } catch (e) {
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Reads the members of a plain (uncompressed) tar file; regular files come with a content that
 * references their bytes inside the tar.
 */
export async function readPlainTar(tarPath: string, onEntry: (entry: TarEntry, content: FileContent | undefined) => void): Promise<void> {
  await parseTar(
    createReadStream(tarPath, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
    (entry) => onEntry(entry, entry.type === 'file' ? new HostFileContent(tarPath, entry.size, entry.dataOffset) : undefined),
    tarPath,
  );
}
