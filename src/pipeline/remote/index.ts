/**
 * Remote caches (the Bazel HTTP remote-cache protocol): configuration, the HTTP client, pushing
 * and pulling artifacts and pinned source files. See docs/pipeline.md#remote-caches.
 */
export { authorizationFor, effectiveRemotes, netrcEntry, parseRemotes, redactUrl, remoteUrl, type RemoteSpec } from './config.js';
export { HttpCache, RemoteError, defaultTimeoutMs, type HttpCacheOptions, type Namespace, type RemoteTrouble } from './http-cache.js';
export { actionKey, decodeActionResult, encodeActionResult } from './action-result.js';
export { Remotes, Transfer, runPool, type Remote, type RemotesEvents } from './remotes.js';
export { pullArtifact, pullPlan, type PullEvents, type PullResult } from './pull.js';
export { pushArtifact, pushSourceFiles, sourceFiles, type PushResult } from './push.js';
export { sourceRemote } from './sources.js';
