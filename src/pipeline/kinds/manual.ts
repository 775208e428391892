import { buildElementKind } from './build-element.js';

/** manual: a BuildElement (only the strip step has a command; the commands are in manual.yaml). */
export const manualKind = buildElementKind('manual', new URL('./manual.yaml', import.meta.url));
