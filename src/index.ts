/**
 * kiln-image, for Node: everything. Each layer is also importable alone: kiln-image/fs and
 * kiln-image/partition (browser-safe), kiln-image/node, kiln-image/pipeline.
 */
export * from './entry/fs.js';
export * from './entry/partition.js';
export * from './entry/node.js';
export * from './entry/pipeline.js';
