import { existsSync, lstatSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Element, SourceDecl } from '../model.js';
import { sourceError } from './kind.js';

/**
 * A project-relative path a source names (`local`, `patch`): it must exist and stay inside the
 * project directory.
 */
export function projectPath(element: Element, decl: SourceDecl, key: string, path: string): string {
  const root = element.project.directory;
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (isAbsolute(path) || rel.startsWith('..') || isAbsolute(rel)) {
    throw sourceError(element, decl, key, 'source-bad-path', `${key} '${path}' is outside the project directory`, 'sources must name files inside the project');
  }
  if (!existsSync(full) && !isSymlink(full)) {
    throw sourceError(element, decl, key, 'source-missing-path', `${key} '${path}' does not exist (looked for ${join(root, rel)})`, 'paths are relative to the project directory (where project.conf is)');
  }
  return full;
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
