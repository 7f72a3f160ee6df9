#!/usr/bin/env node
/*
 * `npm run bench:idempotency`: what an Idempotency-Key costs per request, in memory and in a shared Redis.
 * Starts its own broker and redis-server (Debian's package), then one service instance per store and,
 * against each, the same fixed request rate (autocannon) without and with a fresh key per request
 * (so every keyed request claims and stores: the expensive path, never a replay). Prints latency
 * percentiles and the service's CPU time per request. BENCH_SECONDS (default 10), BENCH_RATE (req/s,
 * default 300; 0: as fast as the connections go) and BENCH_CONNECTIONS (default 16; 1 with BENCH_RATE=0:
 * one request at a time, the uncontended latency) set each phase.
 */
'use strict';

const { spawn } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const path = require('node:path');
const autocannon = require('autocannon');
const localKafka = require('../scripts/kafka/local-kafka');
const { ServiceProcess } = require('./service-process');

const ROOT = path.resolve(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const RATE = Number(process.env.BENCH_RATE ?? 300);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 16);
const BROKER = 'bench-idempotency';
const BODY = JSON.stringify({ content: 'x'.repeat(900), type: 'INFO' });

async function startRedis() {
  const port = await localKafka.freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

function phase(url, keyed) {
  const prefix = randomUUID();
  let n = 0;
  return autocannon({
    url: `${url}/api/messages`,
    connections: CONNECTIONS,
    ...(RATE > 0 ? { overallRate: RATE } : {}),
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
        setupRequest: (request) =>
          keyed
            ? { ...request, headers: { ...request.headers, 'idempotency-key': `${prefix}-${n++}` } }
            : request,
      },
    ],
  });
}

/** Mean round trip of the claim and of storing the answer, from the service's own histogram (ms). */
async function storeRoundTrips(url) {
  const lines = (await (await fetch(`${url}/actuator/prometheus`)).text()).split('\n');
  const value = (series) => Number(lines.find((line) => line.startsWith(`${series} `))?.split(' ')[1]);
  const mean = (operation) => {
    const labels = `{operation="${operation}",outcome="success"}`;
    const sum = value(`http_idempotency_store_seconds_sum${labels}`);
    return Math.round((sum / value(`http_idempotency_store_seconds_count${labels}`)) * 1e6) / 1e3;
  };
  return { claimMs: mean('claim'), completeMs: mean('complete') };
}

async function main() {
  const broker = await localKafka.start({ name: BROKER, quiet: true });
  const redis = await startRedis();
  const rows = [];
  try {
    for (const [store, env] of [
      ['memory', {}],
      ['redis', { IDEMPOTENCY_STORE_URL: redis.url }],
    ]) {
      const service = new ServiceProcess(ROOT, { KAFKA_BROKERS: broker.bootstrap, ...env });
      await service.start();
      try {
        await phase(service.url, false); // warm-up: JIT, producer, connections
        for (const keyed of [false, true]) {
          service.resetWindow();
          const result = await phase(service.url, keyed);
          const { cpuPercent } = service.window();
          const ok = result['2xx'];
          const storeMs = keyed && store === 'redis' ? await storeRoundTrips(service.url) : {};
          rows.push({
            store,
            requests: keyed ? 'keyed' : 'unkeyed',
            ok,
            failed: result.non2xx + result.errors + result.timeouts,
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            cpuMsPerRequest:
              Math.round(((cpuPercent / 100) * SECONDS * 1000 * 1000) / Math.max(ok, 1)) / 1000,
            ...storeMs,
          });
        }
      } finally {
        await service.stop();
      }
    }
  } finally {
    redis.stop();
    await localKafka.stop({ name: BROKER });
  }
  const rate = RATE > 0 ? `${RATE} req/s` : 'closed loop';
  process.stdout.write(`${rate}, ${CONNECTIONS} connections, ${SECONDS} s per phase, 1 KiB messages, ms\n`);
  console.table(rows);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
