/**
 * Source kinds: the interface (kind.ts), the table of kinds (registry.ts), and the staging
 * entry point.
 */

export { configureSource, registerSourceKind, sourceKinds } from './registry.js';
export {
  SOURCE_MTIME,
  sourceError,
  SourceConfig,
  type Consistency,
  type Source,
  type SourceContext,
  type SourceKind,
  type SourceRemote,
} from './kind.js';
export { BaseSource } from './base.js';
export { DownloadableSource } from './downloadable.js';
export { stageSources, normalizeSourceTree } from './stage.js';
export { overlayTree, resolveInside, symlinkStaysInside } from './tree-ops.js';
export { translateUrl, candidateUrls, urlDirectoryName } from './url.js';
export { downloadToCache, DigestMismatch } from './download.js';
export { consistency, sourceContext, configureElementSources } from './session.js';
export {
  trackElements,
  fixMissingElements,
  describeRefChange,
  fetchElements,
  inconsistentElements,
  runLimited,
  type TrackResult,
  type FetchResult,
} from './operations.js';
