/**
 * Debian's control-file syntax (deb822): paragraphs of `Field: value` lines separated by blank
 * lines, continuation lines starting with a space or tab, `#` comment lines (sources files only).
 * Used for .deb control files, `apt-cache show` output and apt's `.sources` files.
 */

/** One paragraph; field names keep their spelling and order, values keep continuation lines. */
export class Paragraph {
  readonly fields: [string, string][] = [];

  /** The value of a field (names compare case-insensitively, as in Debian policy). */
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [k, v] of this.fields) if (k.toLowerCase() === lower) return v;
    return undefined;
  }

  set(name: string, value: string): void {
    const lower = name.toLowerCase();
    const at = this.fields.findIndex(([k]) => k.toLowerCase() === lower);
    if (at >= 0) this.fields[at] = [this.fields[at]![0], value];
    else this.fields.push([name, value]);
  }

  /** The paragraph as text, fields in their original order, ending with a newline. */
  toString(): string {
    return this.fields.map(([k, v]) => `${k}:${v.startsWith('\n') || v === '' ? '' : ' '}${v}\n`).join('');
  }
}

/** Splits deb822 text into paragraphs; a multi-line value is kept as written (lines joined with '\n'). */
export function parseDeb822(text: string, options: { comments?: boolean } = {}): Paragraph[] {
  const out: Paragraph[] = [];
  let cur: Paragraph | undefined;
  let last: [string, string] | undefined;
  for (const line of text.split('\n')) {
    if (options.comments && line.startsWith('#')) continue;
    if (line.trim() === '') {
      cur = undefined;
      last = undefined;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last[1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a field: tolerated like apt does for stray lines
    if (!cur) {
      cur = new Paragraph();
      out.push(cur);
    }
    last = [line.slice(0, colon), line.slice(colon + 1).trim()];
    cur.fields.push(last);
  }
  return out;
}

/** Whitespace-separated words of a field (Types, URIs, Suites, Components). */
export function words(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((w) => w !== '');
}
