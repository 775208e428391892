import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import ts from 'typescript-6';
import { ERROR_AREAS, ERROR_CODES } from '../src/error-codes.js';
import { ERRORS_DOC, renderErrorsDoc } from '../scripts/errors-doc.js';

/**
 * The error catalogue (src/error-codes.ts, issue 14) against the code. The TypeScript compiler
 * API (the `typescript-6` devDependency TypeDoc uses; TypeScript 7 has none) resolves every call
 * in src/ to its declaration, so a code is found wherever it is passed — to `new KilnError`, or
 * to any helper of src/ whose parameter is named `code` — without a list of helpers to keep up.
 * A computed code must be one that passes a code through (`code`, `e.code`); the one family built
 * from a name, `warning-NAME` (plan/session.ts), is expanded from the names given to `warn`.
 */
const repo = new URL('..', import.meta.url).pathname;
const src = `${repo}src/`;

interface Scan {
  /** code → where it is constructed */
  constructed: Map<string, string[]>;
  /** code → where src compares a KilnError's code with it */
  compared: Map<string, string[]>;
  /** computed code arguments: [where, expression] */
  computed: [string, string][];
}

function scan(): Scan {
  const config = ts.getParsedCommandLineOfConfigFile(`${repo}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  assert.ok(config, 'tsconfig.json parses');
  const program = ts.createProgram(config!.fileNames, { ...config!.options, noEmit: true });
  const checker = program.getTypeChecker();
  const out: Scan = { constructed: new Map(), compared: new Map(), computed: [] };
  const warnings: string[] = [];
  const add = (m: Map<string, string[]>, code: string, at: string): void => void m.set(code, [...(m.get(code) ?? []), at]);
  const isKilnError = (e: ts.Expression): boolean => {
    for (let t: ts.Type | undefined = checker.getTypeAtLocation(e); t; t = t.getBaseTypes?.()?.[0]) if (t.getSymbol()?.getName() === 'KilnError') return true;
    return false;
  };
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(src)) continue;
    const where = (n: ts.Node): string => `${sf.fileName.slice(repo.length)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const visit = (n: ts.Node): void => {
      if ((ts.isCallExpression(n) || ts.isNewExpression(n)) && n.arguments) {
        const sig = checker.getResolvedSignature(n);
        if (sig?.declaration?.getSourceFile().fileName.startsWith(src)) {
          sig.parameters.forEach((p, i) => {
            const a = n.arguments![i];
            if (!a) return;
            if (p.name === 'name' && ts.isCallExpression(n) && /(^|\.)warn$/.test(n.expression.getText()) && ts.isStringLiteral(a)) warnings.push(a.text);
            if (p.name !== 'code') return;
            if (ts.isStringLiteralLike(a)) add(out.constructed, a.text, where(a));
            else out.computed.push([where(a), a.getText()]);
          });
        }
      }
      if (ts.isBinaryExpression(n) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(n.operatorToken.kind)) {
        for (const [side, other] of [
          [n.left, n.right],
          [n.right, n.left],
        ] as const) {
          if (ts.isPropertyAccessExpression(side) && side.name.text === 'code' && ts.isStringLiteralLike(other) && isKilnError(side.expression))
            add(out.compared, other.text, where(other));
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  // warning-NAME: session.warn throws it for a warning the project lists in fatal-warnings
  const family = out.computed.filter(([, expr]) => expr === '`warning-${name}`');
  assert.ok(family.length === 1, `one place builds warning-NAME codes (found ${family.length})`);
  for (const name of warnings) add(out.constructed, `warning-${name}`, `${family[0]![0]} (warn '${name}')`);
  out.computed = out.computed.filter((c) => !family.includes(c));
  return out;
}

const found = scan();
const listed = new Set(Object.keys(ERROR_CODES));

test('the scan finds the codes (sanity: it sees direct, helper and warning codes)', () => {
  assert.ok(found.constructed.size > 200, `${found.constructed.size} codes found`);
  assert.ok(found.constructed.has('bad-size'), 'new KilnError in units.ts');
  assert.ok(found.constructed.has('source-unknown-key'), "sourceError(…, 'source-unknown-key', …)");
  assert.ok(found.constructed.has('warning-overlaps'), "ctx.warn('overlaps', …)");
  console.log(`  ${found.constructed.size} codes constructed in src, ${listed.size} in the catalogue`);
});

test('every code src constructs is in the catalogue', () => {
  const missing = [...found.constructed].filter(([code]) => !listed.has(code)).map(([code, at]) => `${code} (${at.join(', ')})`);
  assert.equal(missing, [], 'add these to src/error-codes.ts, then run npm run errors-doc');
});

test('every code src compares a KilnError with is in the catalogue', () => {
  const missing = [...found.compared].filter(([code]) => !listed.has(code)).map(([code, at]) => `${code} (${at.join(', ')})`);
  assert.equal(missing, []);
});

test('every code in the catalogue is constructed somewhere in src', () => {
  assert.equal(
    [...listed].filter((code) => !found.constructed.has(code)),
    [],
    'remove these from src/error-codes.ts (and run npm run errors-doc), or use them',
  );
});

test('a computed code only passes a code through', () => {
  const bad = found.computed.filter(([, expr]) => !/^(code|this\.code|\w+\.code|\w+\.\w+\.code)$/.test(expr));
  assert.equal(bad, [], 'a code built at run time is missing from the catalogue: pass a literal code, or teach this test the family');
});

test('catalogue entries are well formed', () => {
  for (const [code, e] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[a-z0-9]+(-[a-z0-9]+)*$/, `${code}: lowercase words joined by '-'`);
    assert.ok(e.area in ERROR_AREAS, `${code}: area ${e.area}`);
    for (const text of [e.meaning, e.action]) assert.match(text, /^\S.*[.…]$/s, `${code}: a sentence: ${text}`);
  }
});

test('docs/errors.md is generated from the catalogue (npm run errors-doc)', () => {
  assert.fixture(readFileSync(ERRORS_DOC, 'utf8'), renderErrorsDoc());
});

test.run();
