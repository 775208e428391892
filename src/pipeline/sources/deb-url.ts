import { existsSync } from 'node:fs';
import { openDeb, unpackDataTar } from '../debian/deb-file.js';
import type { Element, SourceDecl } from '../model.js';
import type { SourceContext } from './kind.js';
import { TarSource } from './tar.js';

/**
 * bst 1.x's `deb` source (docs/format.md#deb): one `.deb` file by `url`, pinned by the sha256 of
 * the file as downloaded, whose data archive is staged like a tar source's archive (`base-dir`
 * default: the archive root). The `deb` kind is this shape when the source has a `url`, and
 * kiln's own (packages by name from the Debian archive) otherwise.
 */
export class DebUrlSource extends TarSource {
  constructor(element: Element, decl: SourceDecl) {
    super(element, decl, '');
  }

  /** The package's data.tar, decompressed next to it in the source cache on first use. */
  protected override async plainArchive(ctx: SourceContext): Promise<string> {
    const path = this.cachedPath(ctx);
    const plain = `${path}.data.tar`;
    if (!existsSync(plain)) await unpackDataTar(openDeb(path), plain);
    return plain;
  }
}

/** The keys of the url shape; the others are kiln's `deb` (packages by name). */
export const DEB_URL_KEYS = ['url', 'ref', 'base-dir'];
