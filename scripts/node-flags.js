/*
 * The V8 heap flags the service runs with: 1 GiB of old space, 8 MB semi-spaces (README, Benchmarks, says
 * why). start-local.js, the benchmark and the tests' spawned service take them from here; package.json's
 * start scripts and the Dockerfile's CMD spell them out, and test/fast/deploy.e2e-spec.ts checks that those
 * match.
 */
'use strict';

const HEAP_FLAGS = ['--max-old-space-size=1024', '--max-semi-space-size=8'];

module.exports = { HEAP_FLAGS };
