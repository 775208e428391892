import { KilnError } from '../../errors.js';
import { FileTree, parentOf, type Inode } from '../../fs/tree.js';
import type { Element, YamlMap, YamlValue } from '../model.js';
import { globToRegExp } from '../util/glob.js';

/**
 * Split rules (docs/format.md#split-rules): globs over artifact paths, grouped into domains
 * (runtime, devel, debug, ...), used by compose and filter to select parts of artifacts.
 */

function stringList(v: YamlValue | undefined, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new KilnError('bad-split-rules', `${what} must be a list of strings`);
  return v as string[];
}

/** The `bst` domain of an element's public data. */
export function bstPublic(element: Element): YamlMap {
  const bst = element.public.bst;
  return bst && typeof bst === 'object' && !Array.isArray(bst) ? bst : {};
}

/** An element's own split rules: domain → compiled globs. */
export function splitRules(element: Element): Map<string, RegExp[]> {
  const rules = bstPublic(element)['split-rules'];
  const out = new Map<string, RegExp[]>();
  if (rules === undefined) return out;
  if (typeof rules !== 'object' || Array.isArray(rules))
    throw new KilnError('bad-split-rules', `${element.name}: public bst.split-rules must be a mapping of domain to globs`);
  for (const [domain, globs] of Object.entries(rules)) out.set(domain, stringList(globs, `${element.name}: split rule domain '${domain}'`).map(globToRegExp));
  return out;
}

/** Integration commands an element asks its reverse dependencies to run. */
export function integrationCommands(element: Element): string[] {
  return stringList(bstPublic(element)['integration-commands'], `${element.name}: public bst.integration-commands`);
}

/** Globs of paths an element may overwrite without an overlap warning. */
export function overlapWhitelist(element: Element): RegExp[] {
  return stringList(bstPublic(element)['overlap-whitelist'], `${element.name}: public bst.overlap-whitelist`).map(globToRegExp);
}

export interface SplitSelection {
  include: string[];
  exclude: string[];
  orphans: boolean;
}

/** Whether a selection needs a split at all (compose: include/exclude set, or orphans off). */
export function needsSplit(sel: SplitSelection): boolean {
  return sel.include.length > 0 || sel.exclude.length > 0 || !sel.orphans;
}

/** The paths a split keeps: regular files, symlinks, other non-directories and empty directories. */
export function listedPaths(tree: FileTree): string[] {
  const out: string[] = [];
  for (const [path, inode] of tree.walk()) {
    if (path === '') continue;
    if (inode.type !== 'dir' || tree.children(path).length === 0) out.push(path);
  }
  return out;
}

/**
 * compute_manifest of docs/format.md#split-rules: the paths of `tree` (an artifact of an element with
 * `rules`) that `sel` keeps. Paths are relative, without a leading '/'.
 */
export function computeManifest(tree: FileTree, rules: Map<string, RegExp[]>, sel: SplitSelection): string[] {
  const paths = listedPaths(tree);
  if (sel.orphans && sel.include.length === 0 && sel.exclude.length === 0) return paths;
  const include = sel.include.length === 0 ? [...rules.keys()] : sel.include.filter((d) => rules.has(d));
  const exclude = sel.exclude.filter((d) => rules.has(d));
  const matches = (domain: string, p: string): boolean => rules.get(domain)!.some((re) => re.test(p));
  return paths.filter((path) => {
    const p = `/${path}`;
    if (exclude.some((d) => matches(d, p))) return false;
    if (include.some((d) => matches(d, p))) return true;
    return sel.orphans && ![...rules.keys()].some((d) => matches(d, p));
  });
}

/**
 * A new tree holding `paths` of `tree` (hard links between kept paths stay shared), with
 * their parent directories taken from `tree` so their modes survive.
 */
export function selectPaths(tree: FileTree, paths: Iterable<string>): FileTree {
  const out = new FileTree();
  Object.assign(out.root, tree.root);
  const wanted = new Set<string>();
  for (const p of paths) {
    for (let cur = p; cur !== '' && !wanted.has(cur); cur = parentOf(cur)) wanted.add(cur);
  }
  // Walk in tree order so parents come before children.
  for (const [path, inode] of tree.walk()) {
    if (path === '' || !wanted.has(path)) continue;
    out.add(path, inode.type === 'dir' ? copyDirInode(inode) : inode);
  }
  return out;
}

/** Directory inodes are copied so a tree never shares one with another (FileTree forbids linked dirs). */
export function copyDirInode(inode: Inode): Inode {
  return { ...inode };
}
