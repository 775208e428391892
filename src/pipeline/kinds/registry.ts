import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../errors.js';
import type { Element } from '../model.js';
import { autotoolsKind } from './autotools.js';
import { cmakeKind } from './cmake.js';
import { composeKind } from './compose.js';
import { distutilsKind } from './distutils.js';
import { filterKind } from './filter.js';
import { importKind } from './import.js';
import { junctionKind } from './junction.js';
import { elementError, type ElementKind } from './kind.js';
import { makeKind } from './make.js';
import { makemakerKind } from './makemaker.js';
import { manualKind } from './manual.js';
import { mesonKind } from './meson.js';
import { modulebuildKind } from './modulebuild.js';
import { pipKind } from './pip.js';
import { qmakeKind } from './qmake.js';
import { scriptKind } from './script.js';
import { stackKind } from './stack.js';
import { x86imageKind } from './x86image.js';

/**
 * The element kinds by name, the one table the loader and the builder ask: the built-ins (in
 * the order error messages list them), plus any a library adds with `registerElementKind`.
 */
export const elementKinds = new Map<string, ElementKind>(
  [
    importKind,
    stackKind,
    composeKind,
    scriptKind,
    manualKind,
    autotoolsKind,
    makeKind,
    cmakeKind,
    mesonKind,
    distutilsKind,
    pipKind,
    makemakerKind,
    modulebuildKind,
    qmakeKind,
    filterKind,
    junctionKind,
    x86imageKind,
  ].map((k) => [k.name, k]),
);

/** Adds an element kind (or replaces the one of that name); projects loaded afterwards can use it. */
export function registerElementKind(kind: ElementKind): void {
  elementKinds.set(kind.name, kind);
}

/** The kind of an element; an unknown kind names the declaring plugin origin, if any. */
export function kindOf(element: Element): ElementKind {
  const kind = elementKinds.get(element.kind);
  if (kind) return kind;
  const declared = element.project.declaredPlugins.get(element.kind);
  const why = declared ? `unsupported plugin kind '${element.kind}' (declared by origin ${declared})` : `unknown element kind '${element.kind}'`;
  throw elementError(element, 'unknown-element-kind', why, `built-in element kinds: ${[...elementKinds.keys()].sort().join(', ')}`, 'kind');
}

/** The text of a kind's default YAML ('' for a kind without defaults). */
export function kindDefaults(kind: ElementKind): string {
  if (!kind.defaults) return '';
  try {
    return readFileSync(kind.defaults, 'utf8');
  } catch (e) {
    throw new KilnError(
      'kind-defaults-missing',
      `the defaults of element kind '${kind.name}' cannot be read: ${fileURLToPath(kind.defaults)}: ${(e as Error).message}`,
      "a kind's YAML ships beside its module; for kiln's own kinds, build with `npm run build`, which copies them into dist/",
    );
  }
}

/** How messages name a kind's defaults (a name in angle brackets marks a position as not the user's). */
export function kindDefaultsFile(kind: string): string {
  return `<${kind} defaults>`;
}
