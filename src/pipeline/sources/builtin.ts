import { registerSourceKind } from './kind.js';
import { debKind } from './deb.js';
import { debsrcKind } from './debsrc.js';
import { gitKind } from './git.js';
import { localKind } from './local.js';
import { patchKind } from './patch.js';
import { remoteKind } from './remote.js';
import { tarKind } from './tar.js';

/**
 * Registers the built-in source kinds. Imported for its effect by stage.ts, session.ts and
 * index.ts, so any path into staging or configuring has them.
 */
for (const kind of [localKind, tarKind, remoteKind, patchKind, gitKind, debKind, debsrcKind]) registerSourceKind(kind);
