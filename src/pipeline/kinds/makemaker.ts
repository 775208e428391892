import { buildElementKind } from './build-element.js';

/** makemaker: a BuildElement (bst 1.x core); its commands are in makemaker.yaml. */
export const makemakerKind = buildElementKind('makemaker', new URL('./makemaker.yaml', import.meta.url));
