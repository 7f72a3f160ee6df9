#!/usr/bin/env node
/*
 * `npm run bench`: throughput, latency and memory of the service against the project's own local broker,
 * with the two ceilings measured in the same run on the same broker:
 *   (a) a plain kafkajs producer with the service's producer settings (bench/kafkajs-baseline.js),
 *   (b) Kafka's own ProducerPerformance (kafka-producer-perf-test) from the broker's jars.
 * Writes bench/results/latest.json, latest.md and latest.svg, and the tables in docs/performance.md (between
 * its bench:begin and bench:end markers).
 * BENCH_SECONDS (default 10) sets each run's length; BENCH_PROFILE=1 adds --cpu-prof to the service.
 * BENCH_NODES=3 runs it all on a 3-node cluster instead (topics with replication factor 3 and
 * min.insync.replicas 2), and BENCH_REPLICA_FETCH_WAIT_MS=N makes its followers fetch every N ms, so an
 * acks=all produce waits ~U(0,N) ms for its replicas, as across availability zones; such a run writes
 * bench/results/latest-<N>-nodes.* and leaves docs/performance.md as it is.
 *
 * Another HTTP producer (what you run today) gets the same load on the same broker when both are set:
 *   BENCH_OTHER_CMD  a shell command that starts it; it gets KAFKA_BROKERS (the bench broker, topic
 *                    demo-topic exists) and PORT (a free port) in its environment;
 *   BENCH_OTHER_URL  the URL to POST the message to (`{port}` is replaced by that port).
 * The closed loop is driven by wrk when it is installed (a C load generator: a Node.js one takes CPU from
 * the target on a small machine), else by autocannon.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const autocannon = require('autocannon');
const localKafka = require('../scripts/kafka/local-kafka');
const { openModel } = require('./open-model');
const { ServiceProcess } = require('./service-process');
const { renderMarkdown, renderSvg, replaceBlock } = require('./report');

const ROOT = path.resolve(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const NODES = Number(process.env.BENCH_NODES || 1);
const REPLICATION =
  NODES > 1 ? { replicationFactor: 3, minInsyncReplicas: 2 } : { replicationFactor: 1, minInsyncReplicas: 1 };
/** What the service is told about the topics it provisions (they exist already; they match). */
const TOPIC_ENV = {
  KAFKA_TOPIC_REPLICATION_FACTOR: String(REPLICATION.replicationFactor),
  KAFKA_TOPIC_MIN_INSYNC_REPLICAS: String(REPLICATION.minInsyncReplicas),
};
const BROKER = 'bench';
const MESSAGE = JSON.stringify({
  content: 'x'.repeat(900),
  type: 'INFO',
  source: 'bench',
  metadata: { tenant: 'acme', region: 'eu-west-1' },
}); // about 1 KiB as a request body, a little more as a record

const WRK = spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined;

/** wrk's output, read without blocking (the service's CPU and RSS are sampled meanwhile). */
function wrkOutput(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    child.on('error', reject).on('close', () => resolve(out));
  });
}

/** wrk's summary as autocannon's shape (req/s of 2xx only; latency percentiles in ms). */
async function wrkRun(url, { connections, body, seconds }) {
  const script = path.join(require('node:os').tmpdir(), `bench-${process.pid}.lua`);
  fs.writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  const out = await wrkOutput(['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url]);
  const toMs = (value, unit) => Math.round(Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit] * 10) / 10;
  const ms = (label) => {
    const match = new RegExp(`\\s${label}\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return match ? toMs(match[1], match[2]) : null;
  };
  // The thread stats line: Latency  <avg> <stdev> <max> <+/- stdev>.
  const stats = /Latency\s+[\d.]+(?:us|ms|s)\s+[\d.]+(?:us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
    .exec(out)
    ?.slice(1)
    .reduce((sum, n) => sum + Number(n), 0);
  const elapsed = Number(/requests in ([\d.]+)s/.exec(out)?.[1] ?? seconds);
  return {
    requests: { average: (total - non2xx) / elapsed },
    latency: { p50: ms('50%'), p90: ms('90%'), p99: ms('99%'), max: stats ? toMs(stats[1], stats[2]) : null },
    errors: socketErrors ?? 0,
    timeouts: 0,
    non2xx,
  };
}

function cannon(url, { connections, body, seconds = SECONDS }) {
  if (WRK) {
    return wrkRun(url, { connections, body, seconds });
  }
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        duration: seconds,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

function summarize(result) {
  return {
    reqPerSec: Math.round(result.requests.average),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

function perfTest(bootstrap, topic) {
  const lib = localKafka.libDir();
  const out = spawnSync(
    'java',
    [
      '-Xmx512m',
      `-Dlog4j2.configurationFile=${path.join(ROOT, 'scripts', 'kafka', 'log4j2.properties')}`,
      '-cp',
      `${lib}/*`,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(60000 * Math.max(1, Math.round(SECONDS / 5))),
      '--record-size',
      '1024',
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${bootstrap}`,
      'acks=all',
      'enable.idempotence=true',
      'compression.type=snappy',
      'linger.ms=5',
      'batch.size=16384',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const last = out.stdout.trim().split('\n').pop() || '';
  const match =
    /([\d.]+) records\/sec .*?([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(
      last,
    );
  if (!match) {
    throw new Error(`ProducerPerformance printed no summary:\n${out.stdout}\n${out.stderr}`);
  }
  return {
    recordsPerSec: Math.round(Number(match[1])),
    avgMs: Number(match[2]),
    p50: Number(match[4]),
    p99: Number(match[6]),
    max: Number(match[3]),
  };
}

function kafkajsBaseline(bootstrap, topic, mode) {
  const out = spawnSync(
    process.execPath,
    [path.join(__dirname, 'kafkajs-baseline.js'), bootstrap, topic, mode, String(SECONDS)],
    {
      encoding: 'utf8',
    },
  );
  if (out.status !== 0) {
    throw new Error(`kafkajs baseline failed: ${out.stderr}`);
  }
  return JSON.parse(out.stdout.trim().split('\n').pop());
}

function createTopics(bootstrap, topics) {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({
    clientId: 'bench-admin',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  return admin
    .connect()
    .then(() =>
      admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic) => ({
          topic,
          numPartitions: 3,
          replicationFactor: REPLICATION.replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(REPLICATION.minInsyncReplicas) }],
        })),
      }),
    )
    .finally(() => admin.disconnect());
}

function diskBytes(topic) {
  // On a cluster every node holds a replica of each partition (replication factor 3): node 1's copy.
  const dataDir = path.join(localKafka.stateDir(BROKER), NODES > 1 ? 'node-1' : '', 'data');
  return fs
    .readdirSync(dataDir)
    .filter((d) => d.startsWith(`${topic}-`))
    .flatMap((d) =>
      fs
        .readdirSync(path.join(dataDir, d))
        .filter((f) => f.endsWith('.log'))
        .map((f) => path.join(dataDir, d, f)),
    )
    .reduce((sum, file) => sum + fs.statSync(file).size, 0);
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) {
    spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  process.once('exit', () => localKafka.killNow(BROKER));
  const broker = await localKafka.start({
    name: BROKER,
    quiet: true,
    nodes: NODES,
    replicaFetchWaitMs: process.env.BENCH_REPLICA_FETCH_WAIT_MS,
  });
  const results = {
    date: new Date().toISOString(),
    seconds: SECONDS,
    machine: machine(),
    cluster: { nodes: NODES, replicaFetchWaitMs: Number(process.env.BENCH_REPLICA_FETCH_WAIT_MS || 0) },
    runs: {},
  };
  try {
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    await createTopics(broker.bootstrap, [
      'demo-topic',
      'feedback-topic',
      'bench-kafkajs',
      'bench-kafkajs-batch',
      'bench-perf',
      ...codecs.map((c) => `bench-${c}`),
    ]);

    console.error('baselines: plain kafkajs, then ProducerPerformance');
    results.runs.kafkajsSingle = kafkajsBaseline(broker.bootstrap, 'bench-kafkajs', 'single');
    results.runs.kafkajsBatch = kafkajsBaseline(broker.bootstrap, 'bench-kafkajs-batch', 'batch');
    results.runs.perfTest = perfTest(broker.bootstrap, 'bench-perf');

    const service = new ServiceProcess(
      ROOT,
      { KAFKA_BROKERS: broker.bootstrap, ...TOPIC_ENV },
      process.env.BENCH_PROFILE === '1',
    );
    results.runs.startup = { readyMs: await service.start() };
    const url = `${service.url}/api/messages`;
    await cannon(url, { connections: 16, body: MESSAGE, seconds: 3 }); // warm-up

    // The open model first: its peak RSS is then what 1,000 req/s needs, not what the 256-connection
    // loop left behind (V8 and malloc keep most of a burst's pages; the peak over all runs is reported too).
    console.error('open model: 1000 req/s');
    service.resetWindow();
    results.runs.open = {
      rate: 1000,
      ...(await openModel(url, MESSAGE, 1000, SECONDS)),
      ...service.window(),
    };

    results.runs.closed = [];
    for (const connections of [1, 16, 64, 256]) {
      console.error(`closed loop: ${connections} connections`);
      service.resetWindow();
      const run = summarize(await cannon(url, { connections, body: MESSAGE }));
      results.runs.closed.push({ connections, ...run, ...service.window() });
    }

    console.error('batch endpoint: 100 messages per request');
    const batchBody = JSON.stringify(Array.from({ length: 100 }, () => JSON.parse(MESSAGE)));
    // A fresh broker's transaction coordinator runs slowly until the JVM has compiled it: on a new broker the
    // batch endpoint did 88 requests/s in its first 3 s, then 177, 250, 280, 341 and 373 in successive 10 s
    // rounds before settling. A warm-up that stopped once a 5 s round was at most 5 % faster than the last
    // stopped after 15 s in one run out of two (noise); this one lasts as long as that climb did.
    const warmUpSeconds = 45;
    await cannon(`${service.url}/api/messages/batch`, {
      connections: 8,
      body: batchBody,
      seconds: warmUpSeconds,
    });
    service.resetWindow();
    const batch = summarize(
      await cannon(`${service.url}/api/messages/batch`, { connections: 8, body: batchBody }),
    );
    results.runs.batch = {
      connections: 8,
      warmUpSeconds,
      recordsPerSec: batch.reqPerSec * 100,
      ...batch,
      ...service.window(),
    };
    results.peakRssMb = service.peakRssMb();
    await service.stop();

    if (process.env.BENCH_OTHER_CMD && process.env.BENCH_OTHER_URL) {
      results.runs.other = await otherProducer(broker.bootstrap);
    }

    results.runs.codecs = [];
    for (const codec of codecs) {
      console.error(`compression: ${codec}`);
      const topic = `bench-${codec}`;
      const svc = new ServiceProcess(
        ROOT,
        {
          KAFKA_BROKERS: broker.bootstrap,
          KAFKA_TOPIC: topic,
          KAFKA_PRODUCER_COMPRESSION: codec,
          ...TOPIC_ENV,
        },
        false,
      );
      await svc.start();
      svc.resetWindow();
      const run = summarize(
        await cannon(`${svc.url}/api/messages`, {
          connections: 64,
          body: MESSAGE,
          seconds: Math.max(3, SECONDS / 2),
        }),
      );
      const records = Math.round(run.reqPerSec * Math.max(3, SECONDS / 2));
      results.runs.codecs.push({
        codec,
        ...run,
        bytesPerRecordOnDisk: Math.round(diskBytes(topic) / Math.max(1, records)),
        ...svc.window(),
      });
      await svc.stop();
    }
  } finally {
    await localKafka.stop({ name: BROKER });
  }
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const name = NODES > 1 ? `latest-${NODES}-nodes` : 'latest';
  fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  const markdown = renderMarkdown(results);
  fs.writeFileSync(path.join(dir, `${name}.md`), markdown);
  fs.writeFileSync(path.join(dir, `${name}.svg`), renderSvg(results));
  if (NODES === 1) {
    const page = path.join(ROOT, 'docs', 'performance.md');
    fs.writeFileSync(page, replaceBlock(fs.readFileSync(page, 'utf8'), markdown));
  }
  console.log(markdown);
}

/** The same closed loop (64 connections) and open model against another producer, started by its own command. */
async function otherProducer(bootstrap) {
  const port = await localKafka.freePort();
  const url = process.env.BENCH_OTHER_URL.replace('{port}', String(port));
  console.error(`other producer: ${process.env.BENCH_OTHER_CMD} at ${url}`);
  const other = new ServiceProcess(ROOT, { KAFKA_BROKERS: bootstrap, PORT: String(port) }, false, {
    command: process.env.BENCH_OTHER_CMD,
    url,
  });
  const readyMs = await other.start();
  try {
    await cannon(url, { connections: 16, body: MESSAGE, seconds: 3 }); // warm-up
    other.resetWindow(); // the open model first, as for the service
    const open = { rate: 1000, ...(await openModel(url, MESSAGE, 1000, SECONDS)), ...other.window() };
    other.resetWindow();
    const closed = {
      connections: 64,
      ...summarize(await cannon(url, { connections: 64, body: MESSAGE })),
      ...other.window(),
    };
    return { command: process.env.BENCH_OTHER_CMD, url, readyMs, closed, open, peakRssMb: other.peakRssMb() };
  } finally {
    await other.stop();
  }
}

function machine() {
  const os = require('node:os');
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kafka: localKafka.kafkaVersion(),
  };
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
