/*
 * The V8 flags the service runs with: 1 GiB of old space, 32 MB semi-spaces, no Maglev (V8's mid-tier
 * compiler, on by default from Node 22: without it peak RSS is ~15-20 MB lower and CPU per request a few
 * per cent lower), and no allocation-site pretenuring (V8 took the objects of requests in flight for
 * long-lived ones and allocated them in old space, where they filled the heap with garbage: a full GC
 * every ~200 ms under batch load). docs/performance.md (V8 flags) says why. start-local.js, the benchmark and the
 * tests' spawned service take them from here; package.json's start scripts and the Dockerfile's CMD spell
 * them out, and test/fast/deploy.e2e-spec.ts checks that those match.
 */
'use strict';

const V8_FLAGS = [
  '--max-old-space-size=1024',
  '--max-semi-space-size=32',
  '--no-maglev',
  '--no-allocation-site-pretenuring',
];

module.exports = { V8_FLAGS };
