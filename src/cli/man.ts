import type { Command, Help } from 'commander';
import type { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandTree, treeNodes, type CommandNode } from './tree.js';

/**
 * Man pages (roff, man(7) macros) generated from the commander definitions --help prints: the
 * same descriptions, usage, arguments, options (with defaults and choices, as commander's Help
 * words them) and the text commands add after their help (mkimage's layout format). One page per
 * command: kiln(1), kiln-mkfs(1), kiln-mkfs-ext4(1), … (git's naming). `npm run man` writes them.
 */

/** Text escaped for roff: backslashes, and a line starting with `.` or `'` (a request otherwise). */
function esc(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** `kiln-mkfs-ext4` for `kiln mkfs ext4`. */
export function pageName(node: CommandNode): string {
  return node.path.join('-');
}

/** The text a command adds after its help (`addHelpText('after', …)`), as --help prints it. */
function afterHelp(cmd: Command): string {
  let text = '';
  // commander keeps it as a listener of the command's 'afterHelp' event (its typings omit EventEmitter)
  (cmd as unknown as EventEmitter).emit('afterHelp', { error: false, command: cmd, write: (s: string) => (text += s) });
  return text.replace(/^\n+/, '').trimEnd();
}

/** The implicit `help` subcommand commander adds to commands with subcommands: no page of its own. */
const implicitHelp = (n: CommandNode): boolean => n.path.length > 2 && n.name === 'help';

function section(title: string, body: string[]): string[] {
  return body.length > 0 ? [`.SH ${title}`, ...body] : [];
}

function tagged(term: string, description: string): string[] {
  return ['.TP', term, esc(description)];
}

/** The man page of one command. */
export function manPage(node: CommandNode, version: string): string {
  const cmd = node.command;
  const help: Help = cmd.createHelp();
  const name = pageName(node);
  const lines: string[] = [
    `.\\" Generated from kiln's command definitions by \`npm run man\`; do not edit.`,
    `.TH ${esc(name.toUpperCase())} 1 "" "kiln ${esc(version)}" "kiln manual"`,
    '.SH NAME',
    `${esc(name)} \\- ${esc(node.description.split('\n')[0] ?? '')}`,
    '.SH SYNOPSIS',
    `.B ${esc(node.path.join(' '))}`,
    esc(node.usage),
  ];
  const description = [esc(node.description)];
  const after = afterHelp(cmd);
  if (after !== '') description.push('.PP', '.nf', esc(after), '.fi');
  lines.push(...section('DESCRIPTION', description));
  lines.push(
    ...section(
      'ARGUMENTS',
      help.visibleArguments(cmd).flatMap((a) => tagged(`.B ${esc(help.argumentTerm(a))}`, help.argumentDescription(a))),
    ),
  );
  const options = help.visibleOptions(cmd).flatMap((o) => tagged(`.B ${esc(help.optionTerm(o))}`, help.optionDescription(o)));
  lines.push(...section(node.path.length === 1 ? 'GLOBAL OPTIONS' : 'OPTIONS', options));
  if (node.path.length === 1) lines.push('.PP', 'Global options go before the command.');
  const children = node.subcommands.filter((s) => !implicitHelp(s));
  lines.push(
    ...section(
      'COMMANDS',
      children.flatMap((s) => tagged(`.B ${esc(s.path.join(' '))}`, `${s.description.split('\n')[0] ?? ''}; see ${pageName(s)}(1)`)),
    ),
  );
  const seeAlso = [...(node.path.length > 1 ? [pageName({ ...node, path: node.path.slice(0, -1) })] : []), ...children.map(pageName)];
  if (node.path.length > 2) seeAlso.push('kiln');
  lines.push(...section('SEE ALSO', seeAlso.length > 0 ? [seeAlso.map((p) => `.BR ${esc(p)} (1)`).join(',\n')] : []));
  return `${lines.join('\n')}\n`;
}

/** Every page of the program: file name → roff. Commander's implicit `help` subcommands get none. */
export function manPages(program: Command, version: string): Map<string, string> {
  const pages = new Map<string, string>();
  for (const node of treeNodes(commandTree(program))) {
    if (implicitHelp(node)) continue;
    pages.set(`${pageName(node)}.1`, manPage(node, version));
  }
  return pages;
}

/** Writes every page into `dir`; returns the file names. */
export function writeManPages(program: Command, version: string, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const pages = manPages(program, version);
  for (const [file, text] of pages) writeFileSync(join(dir, file), text);
  return [...pages.keys()];
}
