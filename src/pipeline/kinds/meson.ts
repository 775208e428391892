import { buildElementKind } from './build-element.js';

/** meson: a BuildElement (bst 1.x core); its commands are in meson.yaml. */
export const mesonKind = buildElementKind('meson', new URL('./meson.yaml', import.meta.url));
