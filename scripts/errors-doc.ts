/**
 * `npm run errors-doc`: writes docs/errors.md from the error catalogue (src/error-codes.ts).
 * test/error-codes.test.ts fails when the committed file differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_AREAS, ERROR_CODES, type ErrorArea, type ErrorCodeInfo } from '../src/error-codes.js';

export const ERRORS_DOC = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** docs/errors.md: one table per area, codes in alphabetical order. */
export function renderErrorsDoc(): string {
  const entries = Object.entries(ERROR_CODES) as [string, ErrorCodeInfo][];
  const out = [
    '# Error codes',
    '',
    '<!-- Generated from src/error-codes.ts by `npm run errors-doc`: change the list there, then run it. -->',
    '',
    'Every error kiln reports carries a code. The command line prints `kiln: error:` with the message and a',
    '`hint:` line, and exits with status 1 (2 for a usage error); a program using the library catches a',
    '`KilnError` and reads its `code` (the catalogue itself is exported as `ERROR_CODES`). The message names',
    'the file, the value and the place; this list says what each code means and what to do about it. Codes',
    'are stable, messages may be reworded.',
    '',
  ];
  for (const [area, title] of Object.entries(ERROR_AREAS) as [ErrorArea, string][]) {
    const rows = entries.filter(([, e]) => e.area === area).sort(([a], [b]) => (a < b ? -1 : 1));
    if (rows.length === 0) continue;
    out.push(`## ${title}`, '', '| Code | Meaning | What to do |', '| --- | --- | --- |');
    for (const [code, e] of rows) out.push(`| \`${code}\` | ${cell(e.meaning)} | ${cell(e.action)} |`);
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(ERRORS_DOC, renderErrorsDoc());
  process.stdout.write(`errors-doc: ${Object.keys(ERROR_CODES).length} codes in ${ERRORS_DOC}\n`);
}
