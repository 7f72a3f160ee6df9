// Runs the tiers in order, fastest feedback first: unit, then fast (no broker), then e2e (real broker), then
// failover (a 3-node cluster of its own).
// Within a tier, Jest's own order (failed first, then slowest first) is kept.
'use strict';

const Sequencer = require('@jest/test-sequencer').default;

const TIERS = ['unit', 'fast', 'e2e', 'failover'];

class TierSequencer extends Sequencer {
  sort(tests) {
    const tier = (test) => TIERS.indexOf(test.context.config.displayName?.name ?? 'e2e');
    const sorted = super.sort(tests);
    return Promise.resolve(sorted).then((list) =>
      list
        .map((test, i) => ({ test, i }))
        .sort((a, b) => tier(a.test) - tier(b.test) || a.i - b.i)
        .map(({ test }) => test),
    );
  }
}

module.exports = TierSequencer;
