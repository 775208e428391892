import { existsSync, lstatSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Element, SourceDecl } from '../model.js';
import { sourceError } from './kind.js';

/**
 * A project-relative path a source names (`local`, `patch`): it must exist, stay inside the
 * project directory and be a file or directory (or a symbolic link to one).
 */
export function projectPath(element: Element, decl: SourceDecl, key: string, path: string): string {
  const root = element.project.directory;
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (isAbsolute(path) || rel.startsWith('..') || isAbsolute(rel)) {
    throw sourceError(element, decl, key, 'source-bad-path', `${key} '${path}' is outside the project directory`, 'sources must name files inside the project');
  }
  // as bst: no '..' first component, even where the path comes back inside the project
  if (path.split('/')[0] === '..') {
    throw sourceError(
      element,
      decl,
      key,
      'source-bad-path',
      `${key} '${path}' starts with '..'`,
      `name it from the project directory: ${rel.split(sep).join('/')}`,
    );
  }
  if (!existsSync(full) && !isSymlink(full)) {
    throw sourceError(
      element,
      decl,
      key,
      'source-missing-path',
      `${key} '${path}' does not exist (looked for ${join(root, rel)})`,
      'paths are relative to the project directory (where project.conf is)',
    );
  }
  // as bst: a FIFO, socket or device cannot be staged (reading one could block or never end)
  const st = statSync(full, { throwIfNoEntry: false });
  if (st && !st.isFile() && !st.isDirectory()) {
    throw sourceError(
      element,
      decl,
      key,
      'source-bad-path',
      `${key} '${path}' is a ${st.isFIFO() ? 'FIFO' : st.isSocket() ? 'socket' : 'device'}, not a file or directory`,
      'sources stage regular files, directories and symbolic links',
    );
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
