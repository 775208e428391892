import type { Element } from '../model.js';
import { autotoolsKind, cmakeKind, makeKind, manualKind } from './build-element.js';
import { composeKind } from './compose.js';
import { filterKind } from './filter.js';
import { importKind } from './import.js';
import { elementError, type ElementKind } from './kind.js';
import { scriptKind } from './script.js';
import { stackKind } from './stack.js';
import { x86imageKind } from './x86image.js';

/** The element kinds by name: the built-ins, plus any a module adds with `registerElementKind`. */
export const elementKinds = new Map<string, ElementKind>(
  [importKind, stackKind, composeKind, scriptKind, manualKind, autotoolsKind, makeKind, cmakeKind, filterKind, x86imageKind].map((k) => [k.name, k]),
);

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
