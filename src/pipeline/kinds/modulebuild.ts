import { buildElementKind } from './build-element.js';

/** modulebuild: a BuildElement (bst 1.x core); its commands are in modulebuild.yaml. */
export const modulebuildKind = buildElementKind('modulebuild', new URL('./modulebuild.yaml', import.meta.url));
