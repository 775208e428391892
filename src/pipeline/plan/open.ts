import { KilnError } from '../../errors.js';
import { findProjectDirectory, loadProject, type LoadedProject } from '../load/index.js';
import type { UserProjectOptions } from '../load/user-config.js';
import type { Element } from '../model.js';
import { scopeOf } from '../scope.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { Session } from './session.js';

export interface OpenOptions {
  /** The project directory, or a directory below it (project.conf is searched upwards). */
  projectDir: string;
  cacheDir: string;
  /** Element names relative to element-path; default: the project's `defaults: targets`. */
  targets: string[];
  /** Project option values (`-o NAME VALUE`). */
  options?: Record<string, string>;
  /** The user configuration's option values (`projects: NAME: options:`), by project name. */
  userOptions?: ReadonlyMap<string, UserProjectOptions>;
  sandbox?: Sandbox;
  /** The mirror fetches try first (user config `default-mirror`). */
  defaultMirror?: string;
  warn?: (element: Element | undefined, message: string) => void;
}

export interface OpenPipeline {
  loaded: LoadedProject;
  session: Session;
  targets: Element[];
  /** Every element the targets reach, in staging order. */
  all: Element[];
}

/**
 * Loads a project and its targets, and checks every reachable element's kind and sources, so
 * that bad input is reported before any fetch or build starts.
 */
export function openPipeline(opts: OpenOptions): OpenPipeline {
  const loaded = loadProject(findProjectDirectory(opts.projectDir), {
    ...(opts.options ? { options: opts.options } : {}),
    ...(opts.userOptions ? { userOptions: opts.userOptions } : {}),
    ...(opts.defaultMirror !== undefined ? { defaultMirror: opts.defaultMirror } : {}),
    ...(opts.warn ? { onWarning: (m: string) => opts.warn!(undefined, m) } : {}),
  });
  const names = opts.targets.length > 0 ? opts.targets : loaded.project.defaultTargets;
  if (names.length === 0) throw new KilnError('no-targets', 'no elements given', 'name the elements, e.g. kiln build hello.bst (names are relative to element-path)');
  const targets = loaded.elements(names.map((n) => n.replace(/^\.\//, '')));
  const session = new Session({ cacheDir: opts.cacheDir, ...(opts.sandbox ? { sandbox: opts.sandbox } : {}), ...(opts.warn ? { warn: opts.warn } : {}) });
  const all = scopeOf(targets, 'all');
  session.configure(all);
  return { loaded, session, targets, all };
}
