import { writeSourceRef } from '../load/index.js';
import type { Element } from '../model.js';
import { fixMissingElements, trackElements, type TrackResult } from '../sources/index.js';
import type { Session } from './session.js';

/**
 * Updating refs, the one way `track`, `fetch --track` and `build --track/--fix-missing` do it:
 * compute the refs, write the changed ones where the project keeps them, and drop the memoized
 * cache keys so that they follow the new refs.
 *
 *   track        every source takes the ref upstream offers now
 *   fix-missing  every ref stays, except the parts no origin offers any more (re-pinned)
 */
export type PinMode = 'track' | 'fix-missing';

export async function updateRefs(session: Session, elements: readonly Element[], mode: PinMode, options: { jobs?: number; onResult?: (r: TrackResult) => void } = {}): Promise<TrackResult[]> {
  const run = mode === 'track' ? trackElements : fixMissingElements;
  try {
    return await run(elements, (e) => session.sources(e), session.sourceContext, (e, i, ref) => writeSourceRef(e, i, ref), options);
  } finally {
    session.forgetKeys();
  }
}
