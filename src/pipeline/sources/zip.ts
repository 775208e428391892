import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { KilnError } from '../../errors.js';
import { HostFileContent } from '../../fs/content.js';
import { FileTree } from '../../fs/tree.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { DownloadableSource } from './downloadable.js';
import type { SourceContext, SourceKind } from './kind.js';
import { overlayTree, resolveInside } from './tree-ops.js';

/**
 * `zip` (docs/format.md#zip): a zip archive pinned by the sha256 of the file as downloaded, staged
 * as bst 1.x stages it: directories 0755 and every other member a regular file 0644 (zip keeps no
 * modes bst uses; a symlink member becomes a file holding its target), `base-dir` (default `*`)
 * as for tar. Stored members reference the archive; deflated ones are inflated into blobs.
 * Zip64 archives and other compression methods are refused by name.
 */

/** One member from the central directory (fields as APPNOTE names them). */
interface ZipMember {
  fileName: string;
  compressionMethod: number;
  compressedSize: number;
  uncompressedSize: number;
  relativeOffsetOfLocalHeader: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

export class ZipSource extends DownloadableSource {
  /** undefined = the archive root; default '*'. */
  readonly baseDir: string | undefined;

  constructor(element: Element, decl: SourceDecl) {
    super(element, decl);
    const b = this.config.string('base-dir');
    this.baseDir = b === undefined ? '*' : b === '' ? undefined : b.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    this.initRef();
  }

  protected keyParts(): YamlValue {
    return [this.url, this.ref as string, this.baseDir ?? ''];
  }

  private bad(message: string): KilnError {
    return this.error(undefined, 'zip-bad', `${message} (${this.label})`, 'the archive is damaged or not a zip file; track the source again or check the URL');
  }

  /** The members listed by the central directory, in its order. */
  private members(fd: number, size: number): ZipMember[] {
    // the end of central directory record: 22 bytes, then a comment of up to 65535
    const tail = readAt(fd, Math.max(0, size - 22 - 65535), Math.min(size, 22 + 65535));
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--)
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        at = i;
        break;
      }
    if (at < 0) throw this.bad('no end of central directory record');
    const total = tail.readUInt16LE(at + 10);
    const cdSize = tail.readUInt32LE(at + 12);
    const cdOffset = tail.readUInt32LE(at + 16);
    if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw this.error(
        undefined,
        'zip-unsupported',
        `the archive is a Zip64 archive (${this.label})`,
        'kiln reads zip archives under 4 GiB with fewer than 65535 members',
      );
    }
    const cd = readAt(fd, cdOffset, cdSize);
    const out: ZipMember[] = [];
    let p = 0;
    for (let n = 0; n < total; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIGNATURE) throw this.bad(`central directory entry ${n + 1} is damaged`);
      const nameLength = cd.readUInt16LE(p + 28);
      out.push({
        compressionMethod: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        uncompressedSize: cd.readUInt32LE(p + 24),
        relativeOffsetOfLocalHeader: cd.readUInt32LE(p + 42),
        fileName: cd.toString('utf8', p + 46, p + 46 + nameLength),
      });
      p += 46 + nameLength + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
    }
    return out;
  }

  /** The archive as a tree with bst's modes. */
  private archiveTree(path: string, ctx: SourceContext): FileTree {
    const tree = new FileTree({ mode: 0o755 });
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      for (const m of this.members(fd, size)) {
        const isDir = m.fileName.endsWith('/');
        const name = resolveInside(m.fileName.replace(/\/+$/, ''));
        if (name === undefined || m.fileName.startsWith('/')) {
          throw this.error(
            undefined,
            'tar-escape',
            `member '${m.fileName}' would be staged outside the staging directory (${this.label})`,
            'kiln refuses archives whose members escape; repack the archive',
          );
        }
        if (name === '') continue;
        const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
        if (parent) tree.mkdirp(parent, { mode: 0o755 });
        if (isDir) {
          tree.mkdirp(name, { mode: 0o755 });
          continue;
        }
        const local = readAt(fd, m.relativeOffsetOfLocalHeader, 30);
        if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw this.bad(`the local header of '${m.fileName}' is damaged`);
        const dataOffset = m.relativeOffsetOfLocalHeader + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        let content;
        if (m.compressionMethod === 0) content = new HostFileContent(path, m.uncompressedSize, dataOffset);
        else if (m.compressionMethod === 8) {
          const data = process.getBuiltinModule('node:zlib').inflateRawSync(readAt(fd, dataOffset, m.compressedSize));
          if (data.length !== m.uncompressedSize) throw this.bad(`'${m.fileName}' inflates to ${data.length} bytes, not ${m.uncompressedSize}`);
          content = ctx.blobs.putBytes(data);
        } else {
          throw this.error(
            undefined,
            'zip-unsupported',
            `member '${m.fileName}' uses compression method ${m.compressionMethod} (${this.label})`,
            'kiln reads stored and deflated members',
          );
        }
        if (tree.has(name)) tree.remove(name);
        tree.file(name, content, { mode: 0o644 });
      }
    } finally {
      closeSync(fd);
    }
    return tree;
  }

  async stage(ctx: SourceContext, tree: FileTree): Promise<void> {
    const whole = this.archiveTree(this.cachedPath(ctx), ctx);
    overlayTree(tree, this.directory, whole, this.matchBaseDir(whole, this.baseDir));
  }
}

export const zipKind: SourceKind = {
  name: 'zip',
  configKeys: ['url', 'ref', 'base-dir'],
  configure: (decl, element) => new ZipSource(element, decl),
};
