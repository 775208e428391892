import { buildElementKind } from './build-element.js';

/** distutils: a BuildElement (bst 1.x core); its commands are in distutils.yaml. */
export const distutilsKind = buildElementKind('distutils', new URL('./distutils.yaml', import.meta.url));
