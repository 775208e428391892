import type { Element, SourceDecl } from '../model.js';
import { debKind } from './deb.js';
import { debsrcKind } from './debsrc.js';
import { gitKind } from './git.js';
import { checkSourceKeys, sourceError, type Source, type SourceKind } from './kind.js';
import { localKind } from './local.js';
import { patchKind } from './patch.js';
import { remoteKind } from './remote.js';
import { tarKind } from './tar.js';
import { zipKind } from './zip.js';

/**
 * The source kinds by name, the one table the loader and the sessions ask: the built-ins (in
 * the order error messages list them), plus any a library adds with `registerSourceKind`.
 */
export const sourceKinds = new Map<string, SourceKind>(
  [localKind, tarKind, zipKind, remoteKind, patchKind, gitKind, debKind, debsrcKind].map((k) => [k.name, k]),
);

/** Adds a source kind (or replaces the one of that name); projects loaded afterwards can use it. */
export function registerSourceKind(kind: SourceKind): void {
  sourceKinds.set(kind.name, kind);
}

/** Looks up the kind, checks the declaration's keys and configures the source; an unknown kind names the ones that exist. */
export function configureSource(decl: SourceDecl, element: Element): Source {
  const kind = sourceKinds.get(decl.kind);
  if (!kind) {
    const declared = element.project.declaredPlugins.get(decl.kind);
    const why = declared ? `unsupported plugin kind '${decl.kind}' (declared by origin ${declared})` : `unknown source kind '${decl.kind}'`;
    throw sourceError(element, decl, 'kind', 'source-unknown-kind', why, `built-in source kinds: ${[...sourceKinds.keys()].sort().join(', ')}`);
  }
  checkSourceKeys(kind, decl, element);
  return kind.configure(decl, element);
}
