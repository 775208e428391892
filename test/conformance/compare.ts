/**
 * Compares what bst and kiln showed for a case, after the normalizations of differences.ts, and
 * classifies the case: agree, both-error, deliberate (a documented difference) or disagree.
 */
import type { Case } from './cases.js';
import { DELIBERATE, normalizeBst, normalizeKiln } from './differences.js';
import type { Outcome, Shown } from './run.js';

export type Verdict = 'agree' | 'both-error' | 'deliberate' | 'disagree';

export interface Result {
  case: Case;
  verdict: Verdict;
  /** What differs (or the two errors). */
  details: string[];
  /** The documented reason, for a deliberate difference. */
  reason?: string;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 160 ? `${s.slice(0, 150)}...(${s.length} chars)` : s;
};

function diffValues(path: string, a: unknown, b: unknown, out: string[]): void {
  if (out.length >= 12) return;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      if (!(k in rb)) out.push(`${path}.${k}: only bst has it (${show(ra[k])})`);
      else if (!(k in ra)) out.push(`${path}.${k}: only kiln has it (${show(rb[k])})`);
      else diffValues(`${path}.${k}`, ra[k], rb[k], out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => diffValues(`${path}[${i}]`, x, b[i], out));
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path}: bst ${show(a)}, kiln ${show(b)}`);
}

function diffShown(bst: Shown[], kiln: Shown[]): string[] {
  const out: string[] = [];
  const bn = bst.map((e) => e.name);
  const kn = kiln.map((e) => e.name);
  if (bn.join('\n') !== kn.join('\n')) out.push(`elements: bst [${bn.join(', ')}], kiln [${kn.join(', ')}]`);
  const byName = new Map(kiln.map((e) => [e.name, e]));
  for (const b of bst) {
    const k = byName.get(b.name);
    if (!k) continue;
    for (const part of ['vars', 'config', 'env', 'public'] as const) diffValues(`${b.name} ${part}`, b[part], k[part], out);
  }
  return out;
}

export function compare(c: Case, bst: Outcome, kiln: Outcome): Result {
  let details: string[];
  if (!bst.ok && !kiln.ok) return { case: c, verdict: 'both-error', details: [`bst ${bst.error}`, `kiln ${kiln.error}`] };
  if (!bst.ok) details = [`only bst fails: ${bst.error}`];
  else if (!kiln.ok) details = [`only kiln fails: ${kiln.error}`];
  else details = diffShown(bst.elements.map(normalizeBst), kiln.elements.map(normalizeKiln));
  const verdict: Verdict = details.length === 0 ? 'agree' : 'disagree';
  if (verdict === 'disagree') {
    const known = DELIBERATE.find((d) => d.cases.test(c.id) && (!d.detail || details.every((x) => d.detail!.test(x))));
    if (known) return { case: c, verdict: 'deliberate', details, reason: known.reason };
  }
  return { case: c, verdict, details };
}
