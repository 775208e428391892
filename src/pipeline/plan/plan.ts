import { KilnError } from '../../errors.js';
import type { Element } from '../model.js';
import { directDependencies, scopeOf } from '../scope.js';
import type { Session } from './session.js';

/**
 * The build plan of docs/format.md#build-plan: from each target, runtime dependencies at the same depth and,
 * for elements that are not cached, build dependencies one level deeper. The elements to build
 * are the uncached planned ones, deepest first (ties in staging order).
 */
export function buildPlan(session: Session, targets: Element[]): Element[] {
  const depth = new Map<Element, number>();
  const visit = (e: Element, d: number): void => {
    const seen = depth.get(e);
    if (seen !== undefined && seen >= d) return;
    depth.set(e, d);
    for (const r of directDependencies(e, 'run')) visit(r, d);
    if (!session.isCached(e)) for (const b of directDependencies(e, 'build')) visit(b, d + 1);
  };
  for (const t of targets) visit(t, 0);
  const order = new Map(scopeOf(targets, 'all').map((e, i) => [e, i]));
  const planned = [...depth.keys()].filter((e) => !session.isCached(e));
  planned.sort((a, b) => depth.get(b)! - depth.get(a)! || order.get(a)! - order.get(b)!);
  const missing = planned.filter((e) => session.keys(e).strong === undefined);
  if (missing.length > 0) {
    const noRef = missing.filter((e) => session.sources(e).some((s) => s.needsRef && s.ref === undefined));
    const list = (noRef.length > 0 ? noRef : missing).map((e) => `  ${e.name}`).join('\n');
    throw new KilnError(
      'inconsistent',
      `Exact versions are missing for the following elements:\n${list}`,
      `Try tracking these elements first with \`kiln track ${(noRef.length > 0 ? noRef : missing).map((e) => e.name).join(' ')}\``,
    );
  }
  return planned;
}
