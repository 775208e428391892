import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The documentation's links (issue 14): every relative link in the repository's Markdown names a
 * file that exists and, with `#anchor`, a heading of that file; every `docs/NAME.md#anchor` that
 * a comment or message in the code cites names a heading too; and nothing cites the design notes
 * that are not part of the repository.
 */
const repo = resolve(new URL('../..', import.meta.url).pathname);
const SKIP = new Set(['node_modules', 'dist', '.git', 'fixtures', 'api', 'man', 'image']);

function walk(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!SKIP.has(name)) walk(p, keep, out);
    } else if (keep(name)) out.push(p);
  }
  return out;
}

/** The Markdown outside fenced code blocks (links and headings in code are examples). */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** GitHub's anchors for a file's headings: lower case, punctuation dropped, spaces as '-', repeats numbered. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(readFileSync(file, 'utf8')).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

const anchorCache = new Map<string, Set<string>>();
/** Why `target` (a path, optionally with #anchor, relative to `from`'s directory) does not resolve, or undefined. */
function broken(from: string, target: string): string | undefined {
  const [path, anchor] = target.split('#') as [string, string | undefined];
  const file = path === '' ? from : resolve(dirname(from), decodeURIComponent(path));
  if (!existsSync(file)) return `no file ${relative(repo, file)}`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!file.endsWith('.md')) return `#${anchor} on a file that is not Markdown`;
  if (!anchorCache.has(file)) anchorCache.set(file, anchors(file));
  return anchorCache.get(file)!.has(anchor) ? undefined : `no heading #${anchor} in ${relative(repo, file)}`;
}

const markdown = walk(repo, (n) => n.endsWith('.md'));
const self = resolve(new URL(import.meta.url).pathname);

test('every relative link in the Markdown resolves, anchors included', () => {
  const bad: string[] = [];
  let links = 0;
  for (const file of markdown) {
    for (const m of prose(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      links++;
      const why = broken(file, target);
      if (why) bad.push(`${relative(repo, file)}: (${target}): ${why}`);
    }
  }
  assert.ok(links > 50, `${links} links checked`);
  assert.equal(bad, []);
});

test('every docs/NAME.md#anchor cited in the code resolves', () => {
  const code = ['src', 'test', 'scripts', 'bench', 'examples']
    .flatMap((d) => walk(join(repo, d), (n) => /\.(ts|mjs|yaml|json)$/.test(n)))
    .filter((f) => f !== self);
  code.push(join(repo, 'biome.jsonc'));
  const bad: string[] = [];
  let cited = 0;
  for (const file of code) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bdocs\/([\w-]+\.md(?:#[\w-]+)?)/g)) {
      cited++;
      const why = broken(join(repo, 'docs', 'x.md'), m[1]!);
      if (why) bad.push(`${relative(repo, file)}: docs/${m[1]}: ${why}`);
    }
  }
  assert.ok(cited > 60, `${cited} citations checked`);
  assert.equal(bad, []);
});

test('nothing cites design notes that are not in the repository', () => {
  const files = [...markdown, ...['src', 'test', 'scripts', 'bench', 'examples'].flatMap((d) => walk(join(repo, d), (n) => /\.(ts|mjs|yaml)$/.test(n)))];
  const bad = files.filter((f) => f !== self && /\b(FORMAT|DESIGN|SYSLINUX|PIPELINE-NOTES)\.md\b/.test(readFileSync(f, 'utf8'))).map((f) => relative(repo, f));
  assert.equal(bad, [], 'cite the section of docs/ that says it instead');
});

test.run();
