import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError, SparseFileTarget, planExt4, writeExt4, type BlockTarget } from '../../../src/index.js';
import { propertyRuns } from '../../helpers/tools.js';
import { buildTree, treeSpecArb } from './arbitrary.js';

import { debugfsMismatches, e2fsckProblems, readerMismatches } from './write-verify.js';

/** A target that must never be written: refusals happen before the first byte. */
class UntouchableTarget implements BlockTarget {
  constructor(readonly size: number) {}
  read(): Uint8Array {
    throw new Error('read from an untouchable target');
  }
  write(offset: number): void {
    throw new Error(`write at ${offset} although the tree does not fit`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-ext4-prop-'));

test('generated trees: written, e2fsck-clean, read back identical by debugfs and our reader; one block less is refused unwritten', () => {
  let n = 0;
  fc.assert(
    fc.property(
      treeSpecArb,
      fc.boolean(), // SOURCE_DATE_EPOCH in the past: the superblock carries it, and e2fsck flags future write times.
      fc.option(fc.integer({ min: 0, max: 1_700_000_000 }), { freq: 4 }),
      (spec, atMinimum, epoch) => {
        const tree = buildTree(spec);
        const options = { blockSize: spec.blockSize, ...(epoch !== null ? { sourceDateEpoch: epoch } : {}) };
        const plan = planExt4(tree, options);
        assert.ok(plan.minimumSize % spec.blockSize === 0);
        // Exactly the minimum (no journal when tiny), or a roomier 16 MiB+ image with a journal.
        const size = atMinimum ? plan.minimumSize : Math.max(plan.minimumSize, 16 << 20);
        const image = join(dir, `t${n++}.img`);
        const target = SparseFileTarget.create(image, size);
        try {
          const r = writeExt4(tree, target, options);
          assert.is(r.uuid, plan.uuid);
        } finally {
          target.commit();
        }
        try {
          const fsck = e2fsckProblems(image);
          assert.equal(fsck, [], `e2fsck on ${image}: ${fsck.join('\n')}`);
          const diffs = debugfsMismatches(image, tree, { ...options, statFilter: (p) => !/(^|\/)bulk-entry-number-\d+$/.test(p) });
          assert.equal(diffs, [], diffs.join('\n'));
          const ours = readerMismatches(image, tree, options);
          assert.equal(ours, [], ours.join('\n'));
        } finally {
          rmSync(image, { force: true });
        }
        try {
          writeExt4(tree, new UntouchableTarget(plan.minimumSize - spec.blockSize), options);
          assert.unreachable('one block less than the minimum was accepted');
        } catch (e) {
          assert.instance(e, KilnError);
          assert.match((e as KilnError).message, new RegExp(`at least ${plan.minimumSize} bytes`));
        }
      },
    ),
    { numRuns: propertyRuns(200), includeErrorInReport: true },
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
