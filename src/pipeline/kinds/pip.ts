import { buildElementKind } from './build-element.js';

/** pip: a BuildElement (bst 1.x core); its commands are in pip.yaml. */
export const pipKind = buildElementKind('pip', new URL('./pip.yaml', import.meta.url));
