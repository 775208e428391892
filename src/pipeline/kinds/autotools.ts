import { buildElementKind } from './build-element.js';

/** autotools: a BuildElement (autogen, configure, make, make install; the commands are in autotools.yaml). */
export const autotoolsKind = buildElementKind('autotools', new URL('./autotools.yaml', import.meta.url));
