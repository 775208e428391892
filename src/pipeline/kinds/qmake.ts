import { buildElementKind } from './build-element.js';

/** qmake: a BuildElement (bst 1.x core); its commands are in qmake.yaml. */
export const qmakeKind = buildElementKind('qmake', new URL('./qmake.yaml', import.meta.url));
