import { buildElementKind } from './build-element.js';

/** make: a BuildElement (make and make install with PREFIX; the commands are in make.yaml). */
export const makeKind = buildElementKind('make', new URL('./make.yaml', import.meta.url));
