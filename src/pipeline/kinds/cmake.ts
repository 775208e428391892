import { buildElementKind } from './build-element.js';

/** cmake: a BuildElement (an out-of-tree CMake build; the commands are in cmake.yaml). */
export const cmakeKind = buildElementKind('cmake', new URL('./cmake.yaml', import.meta.url));
