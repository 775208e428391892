/**
 * kiln-image/pipeline: the BuildStream-compatible element pipeline (Node only): loading projects,
 * Debian packages, element kinds, the sandbox, cache keys, the scheduler, sources and caches.
 *
 * @module kiln-image/pipeline
 */
// pipeline: the one entry for what the kiln commands do (show, track, fetch, build, checkout, shell, remote caches)
export {
  Pipeline,
  openPipeline,
  type OpenOptions,
  type Selection,
  type PinMode,
  type RefUpdate,
  type SourceCount,
  type BuildOptions,
  type BuildEvents,
  type BuildReport,
  type BuildRemoteReport,
} from '../pipeline/pipeline.js';
// pipeline: loading (project.conf, .bst, composition, variables, graph)
export type { Project, Element, SourceDecl, Dependency, DepType, Scope, YamlValue, YamlMap } from '../pipeline/model.js';
export {
  loadProject,
  LoadedProject,
  findProjectDirectory,
  writeSourceRef,
  dependencies as pipelineDependencies,
  directDependencies,
  scope as pipelineScope,
  scopeOf as pipelineScopeOf,
  type LoadOptions,
} from '../pipeline/load/index.js';
// pipeline: Debian packages as base system and source archive (private apt state, no host dpkg)
export { AptState, type AptTarget } from '../pipeline/debian/apt-state.js';
export { resolveClosure, type ResolvedPackage, type PinnedPackage } from '../pipeline/debian/closure.js';
export { fetchPackages } from '../pipeline/debian/download.js';
export { stageBuildRoot, type BuildRoot, type PackageFile } from '../pipeline/debian/build-root.js';
// pipeline: element kinds, sandbox, cache keys, build plan and scheduler
export { elementKinds, registerElementKind, kindOf, kindDefaults } from '../pipeline/kinds/registry.js';
export { KindConfig, type ElementKind, type AssembleContext, type KeyValue } from '../pipeline/kinds/kind.js';
export { stageTree, resolveInTree, type StageReport } from '../pipeline/kinds/stage-tree.js';
export { computeManifest, splitRules, selectPaths } from '../pipeline/kinds/split-rules.js';
export { globToRegExp as splitRuleRegExp } from '../pipeline/util/glob.js';
export { BwrapSandbox, findBwrap } from '../pipeline/sandbox/bwrap.js';
export type { Sandbox, SandboxMount, SandboxOptions, SandboxLog } from '../pipeline/sandbox/sandbox.js';
export { computeKeys, canonicalJson, shortKey, type ElementKeys } from '../pipeline/plan/keys.js';
export { Session, type ElementState } from '../pipeline/plan/session.js';
export { buildPlan } from '../pipeline/plan/plan.js';
export { runPlan, type BuildSummary, type SchedulerOptions, type ElementPhase } from '../pipeline/plan/scheduler.js';
export { buildElement, BuildFailure } from '../pipeline/plan/builder.js';
export { prepareShell, type ShellRoot } from '../pipeline/plan/shell.js';
// pipeline: sources, source cache, artifact cache, checkout
export {
  sourceKinds,
  registerSourceKind,
  configureSource,
  stageSources,
  trackElements,
  fetchElements,
  translateUrl,
  SOURCE_MTIME,
  DigestMismatch,
  BaseSource,
  DownloadableSource,
  type Source,
  type SourceKind,
  type SourceContext,
  type Consistency,
} from '../pipeline/sources/index.js';
export { ArtifactCache, openCache, normalName, type ArtifactRef, type ArtifactMeta, type CacheDirs, type LoadedArtifact } from '../pipeline/cache/artifacts.js';
export { BlobStore, BlobContent } from '../pipeline/cache/blobs.js';
export { materialize, type MaterializeOptions } from '../pipeline/cache/materialize.js';
export { treeFromStagedDir, type CollectOptions } from '../pipeline/cache/collect.js';
export { checkoutTree, type CheckoutOptions, type CheckoutDeps } from '../pipeline/plan/checkout.js';
