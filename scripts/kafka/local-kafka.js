#!/usr/bin/env node
/*
 * The project's local Apache Kafka: a single-node KRaft broker (broker+controller) on 127.0.0.1, or a
 * cluster of N such combined nodes (`start --nodes N`: one cluster id, one static controller quorum),
 * assembled from Maven Central jars (scripts/kafka/pom.xml). Used by `npm run kafka:start|kafka:stop`, by
 * `npm run start:local`, by Jest's global setup/teardown, by the failover tests (which kill, terminate and
 * restart single nodes) and by the benchmarks.
 *
 * Layout (all git-ignored):
 *   .cache/kafka/<version>/lib   the broker's runtime classpath, fetched once with Maven and reused
 *   .run/kafka-<name>/           server.properties, data/, server.log, pid, bootstrap (a single node)
 *   .run/kafka-<name>/node-<id>/ the same for each node of a cluster; cluster.json and bootstrap above them
 *
 * Plain CommonJS on purpose: it must run before anything is compiled.
 */
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { buildOnce, copyDependencies } = require('../maven-cache');

const ROOT = path.resolve(__dirname, '..', '..');
const HERE = __dirname;
const POM = path.join(HERE, 'pom.xml');
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;
/** Heap of each node of a cluster: several JVMs share a small machine. */
const CLUSTER_NODE_HEAP = '256m';
/**
 * A cluster on loopback fails over in seconds: the active controller fences a broker that missed
 * heartbeats for 3 s (Kafka's default is 9 s) and moves its partitions' leadership, and a follower that
 * stops fetching leaves the ISR after 5 s (default 30 s).
 */
const CLUSTER_PROPERTIES = [
  'broker.session.timeout.ms=3000',
  'broker.heartbeat.interval.ms=500',
  'replica.lag.time.max.ms=5000',
  'controller.quorum.fetch.timeout.ms=2000',
  'controller.quorum.election.timeout.ms=1000',
].join('\n');

/**
 * `replicaFetchWaitMs` (`--replica-fetch-wait-ms N`, a cluster): followers fetch with
 * replica.fetch.min.bytes=1 MiB and replica.fetch.wait.max.ms=N, so each fetch waits N ms for data that never
 * fills it, and an acks=all produce waits ~U(0,N) ms for its replicas, as across availability zones.
 */
function withReplicationLatency(extra = {}, waitMs) {
  if (waitMs === undefined) {
    return extra;
  }
  const ms = Number(waitMs);
  if (!Number.isInteger(ms) || ms < 0) {
    throw new Error(`--replica-fetch-wait-ms must be a whole number of milliseconds, not ${waitMs}`);
  }
  const properties = `replica.fetch.min.bytes=1048576\nreplica.fetch.wait.max.ms=${ms}`;
  return { ...extra, properties: extra.properties ? `${extra.properties}\n${properties}` : properties };
}

function kafkaVersion() {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(POM, 'utf8'));
  if (!match) {
    throw new Error(`no <kafka.version> in ${POM}`);
  }
  return match[1];
}

function libDir() {
  return path.join(ROOT, '.cache', 'kafka', kafkaVersion(), 'lib');
}

/** Fetches the broker's jars with Maven unless a complete copy is already cached. */
function ensureJars({ quiet = false } = {}) {
  const lib = libDir();
  buildOnce(lib, (staging) => {
    if (!quiet) {
      process.stderr.write(`Fetching Apache Kafka ${kafkaVersion()} jars from Maven Central into ${lib}\n`);
    }
    copyDependencies(POM, staging, 'mvn (fetching the Kafka jars)');
  });
  return lib;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function stateDir(name) {
  return path.join(ROOT, '.run', `kafka-${name}`);
}

function readPid(dir) {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function logTail(dir, lines = 60) {
  try {
    const text = fs.readFileSync(path.join(dir, 'server.log'), 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server.log)';
  }
}

/**
 * Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding (Uuid.randomUuid), which,
 * like Kafka, redraws ids starting with '-': kafka-storage's argument parser would take one for an option.
 */
function randomClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) {
      return id;
    }
  }
}

/** Resolves once a kafkajs admin gets cluster metadata from `brokers`, or rejects after `timeoutMs`. */
async function waitForMetadata(brokers, timeoutMs, isStillRunning = () => true) {
  const { Kafka, logLevel } = require('kafkajs');
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (!isStillRunning()) {
      throw new Error('the broker process exited');
    }
    const admin = new Kafka({
      clientId: 'local-kafka-probe',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 2000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster;
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `no metadata from ${brokers} within ${timeoutMs} ms: ${lastError ? lastError.message : 'timeout'}`,
  );
}

async function answers(brokers, timeoutMs = 3000) {
  try {
    await waitForMetadata(brokers, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

function render(template, values) {
  return template.replace(/\$\{([A-Z_]+)\}/g, (_, key) => (key in values ? String(values[key]) : ''));
}

/** Writes one node's server.properties from the template. */
function writeProperties(file, { nodeId, port, controllerPort, dataDir, quorum, nodes, extra = {} }) {
  fs.writeFileSync(
    file,
    render(fs.readFileSync(path.join(HERE, 'server.properties.template'), 'utf8'), {
      NODE_ID: nodeId,
      QUORUM: quorum,
      PORT: port,
      CONTROLLER_PORT: controllerPort,
      DATA_DIR: dataDir,
      INTERNAL_RF: Math.min(nodes, 3),
      INTERNAL_MIN_ISR: Math.max(1, Math.min(nodes, 3) - 1),
      CLUSTER_PROPERTIES: nodes > 1 ? CLUSTER_PROPERTIES : '',
      EXTRA_LISTENERS: extra.listeners ? `,${extra.listeners}` : '',
      EXTRA_ADVERTISED: extra.advertised ? `,${extra.advertised}` : '',
      EXTRA_PROTOCOL_MAP: extra.protocolMap ? `,${extra.protocolMap}` : '',
      EXTRA_PROPERTIES: extra.properties || '',
    }),
  );
}

function formatArgs(lib, propertiesFile, clusterId, args) {
  return [
    '-Xmx256m',
    `-Dlog4j2.configurationFile=${path.join(HERE, 'log4j2.properties')}`,
    '-cp',
    `${lib}/*`,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    propertiesFile,
    ...args,
  ];
}

/**
 * `kafka-storage format` of one node's storage directory (a JVM start of its own, so a cluster's nodes are
 * formatted side by side). Rejects with the tool's output when it fails; `what` names the node.
 */
function formatStorage(lib, propertiesFile, clusterId, args, what = 'kafka-storage format') {
  return new Promise((resolve, reject) => {
    const child = spawn('java', formatArgs(lib, propertiesFile, clusterId, args), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what} failed (exit ${code}):\n${output}`)),
    );
  });
}

/**
 * Starts a fresh broker under .run/kafka-<name>. Options:
 *   port: PLAINTEXT port (0 or undefined: a free one); heap: max heap (default 512m);
 *   extra: { listeners, advertised, protocolMap, properties } appended to server.properties;
 *   formatArgs: extra `kafka-storage format` arguments (e.g. --add-scram ...);
 *   keepData: restart the broker of that name on its existing storage and ports (if it has any).
 * Returns { bootstrap, port, pid, dir, clusterId, startedInMs }.
 */
async function start(options = {}) {
  const name = options.name || 'local';
  const nodes = Number(options.nodes || 1);
  if (!Number.isInteger(nodes) || nodes < 1) {
    throw new Error(`--nodes must be a whole number of at least 1, not ${options.nodes}`);
  }
  if (nodes > 1) {
    return startCluster({ ...options, name, nodes });
  }
  const dir = stateDir(name);
  const running = readPid(dir);
  if (running && isAlive(running)) {
    throw new Error(`a broker named '${name}' already runs (pid ${running}); stop it first`);
  }
  if (fs.existsSync(path.join(dir, 'cluster.json'))) {
    await stop({ name });
  }
  const lib = ensureJars({ quiet: options.quiet });
  const began = Date.now();
  const propertiesFile = path.join(dir, 'server.properties');
  if (options.keepData && fs.existsSync(propertiesFile)) {
    // A restart of the same broker: same ports, same cluster, same data (as after a crash or a deploy).
    const port = Number(
      /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:(\d+)/m.exec(fs.readFileSync(propertiesFile, 'utf8'))[1],
    );
    return launch({ name, dir, lib, propertiesFile, port, began, options });
  }
  const port = options.port ? Number(options.port) : await freePort();
  if (!(await portIsFree(port))) {
    throw new Error(`port ${port} on 127.0.0.1 is taken`);
  }
  const controllerPort = await freePort();
  const extra = options.extra || {};

  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  writeProperties(propertiesFile, {
    nodeId: 1,
    quorum: `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    port,
    controllerPort,
    dataDir: path.join(dir, 'data'),
    nodes: 1,
    extra,
  });
  const clusterId = randomClusterId();
  await formatStorage(lib, propertiesFile, clusterId, ['--standalone', ...(options.formatArgs || [])]);
  return { ...(await launch({ name, dir, lib, propertiesFile, port, began, options })), clusterId };
}

/** A cluster's nodes, as startCluster wrote them to cluster.json: [{ id, port, dir }]. */
function clusterNodes(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(stateDir(name), 'cluster.json'), 'utf8')).nodes;
  } catch {
    return [];
  }
}

/** Where a pid file of broker `name` can be: its own directory (a single node) and each cluster node's. */
function processDirs(name) {
  return [stateDir(name), ...clusterNodes(name).map((node) => node.dir)];
}

function clusterNode(name, id) {
  const node = clusterNodes(name).find((n) => n.id === Number(id));
  if (!node) {
    throw new Error(`no node ${id} in a cluster named '${name}'`);
  }
  return node;
}

/**
 * Starts a fresh cluster of `nodes` combined broker+controller nodes (ids 1..N) on loopback: one cluster
 * id, a static controller quorum of every node (controller.quorum.voters), each node with its own ports
 * and storage under .run/kafka-<name>/node-<id>. Returns { bootstrap, nodes: [{ id, port, pid, dir }],
 * clusterId, startedInMs }; the bootstrap lists every node.
 */
async function startCluster(options) {
  const { name, nodes: count } = options;
  if (clusterNodes(name).some((node) => isAlive(readPid(node.dir) || 0)) || readPid(stateDir(name))) {
    await stop({ name });
  }
  const lib = ensureJars({ quiet: options.quiet });
  const began = Date.now();
  const root = stateDir(name);
  fs.rmSync(root, { recursive: true, force: true });
  const nodes = [];
  for (let id = 1; id <= count; id += 1) {
    nodes.push({
      id,
      port: await freePort(),
      controllerPort: await freePort(),
      dir: path.join(root, `node-${id}`),
    });
  }
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
  const clusterId = randomClusterId();
  for (const node of nodes) {
    fs.mkdirSync(path.join(node.dir, 'tmp'), { recursive: true });
    const propertiesFile = path.join(node.dir, 'server.properties');
    writeProperties(propertiesFile, {
      nodeId: node.id,
      quorum: `controller.quorum.voters=${voters}`,
      port: node.port,
      controllerPort: node.controllerPort,
      dataDir: path.join(node.dir, 'data'),
      nodes: count,
      extra: withReplicationLatency(options.extra, options.replicaFetchWaitMs),
    });
  }
  await Promise.all(
    nodes.map((node) =>
      formatStorage(
        lib,
        path.join(node.dir, 'server.properties'),
        clusterId,
        options.formatArgs || [],
        `kafka-storage format of node ${node.id}`,
      ),
    ),
  );
  const bootstrap = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  fs.writeFileSync(
    path.join(root, 'cluster.json'),
    JSON.stringify({ clusterId, bootstrap, nodes: nodes.map(({ id, port, dir }) => ({ id, port, dir })) }),
  );
  fs.writeFileSync(path.join(root, 'bootstrap'), bootstrap);
  const heap = options.heap || CLUSTER_NODE_HEAP;
  // A node only reports itself started once the quorum has a leader, so all of them start together.
  const launched = await Promise.all(
    nodes.map((node) =>
      launch({
        name,
        dir: node.dir,
        lib,
        propertiesFile: path.join(node.dir, 'server.properties'),
        port: node.port,
        began,
        options: { ...options, heap },
      }),
    ),
  );
  await waitForBrokers(name, bootstrap, count, START_TIMEOUT_MS - (Date.now() - began));
  return {
    bootstrap,
    port: nodes[0].port,
    pid: launched[0].pid,
    dir: root,
    clusterId,
    nodes: nodes.map((node, i) => ({ id: node.id, port: node.port, pid: launched[i].pid, dir: node.dir })),
    startedInMs: Date.now() - began,
  };
}

/** Resolves once the cluster's metadata lists `count` brokers, or rejects after `timeoutMs`. */
async function waitForBrokers(name, bootstrap, count, timeoutMs) {
  const deadline = Date.now() + Math.max(timeoutMs, 1000);
  let seen = 0;
  while (Date.now() < deadline) {
    const cluster = await waitForMetadata(bootstrap, Math.max(deadline - Date.now(), 1000));
    seen = cluster.brokers.length;
    if (seen >= count) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the cluster '${name}' lists ${seen} of ${count} brokers after ${timeoutMs} ms`);
}

/** Kills node `id` of cluster `name` at once (SIGKILL: no controlled shutdown, like a crash). */
async function killNode({ name = 'local', id }) {
  const node = clusterNode(name, id);
  const pid = readPid(node.dir);
  if (!pid || !isAlive(pid)) {
    throw new Error(`node ${id} of '${name}' is not running`);
  }
  signal(pid, 'SIGKILL');
  await waitForExit(pid, STOP_TIMEOUT_MS);
  fs.rmSync(path.join(node.dir, 'pid'), { force: true });
}

/**
 * Freezes node `id` of cluster `name` (SIGSTOP): its process stops, its sockets stay open and the kernel
 * still accepts connections for it, but it answers nothing, like a node cut off by the network or stuck in
 * a long pause. thawNode (SIGCONT) lets it run on.
 */
function freezeNode({ name = 'local', id }) {
  const pid = readPid(clusterNode(name, id).dir);
  if (!pid || !isAlive(pid)) {
    throw new Error(`node ${id} of '${name}' is not running`);
  }
  signal(pid, 'SIGSTOP');
}

function thawNode({ name = 'local', id }) {
  const pid = readPid(clusterNode(name, id).dir);
  if (pid && isAlive(pid)) {
    signal(pid, 'SIGCONT');
  }
}

/**
 * Stops node `id` of cluster `name` with SIGTERM (a controlled shutdown: the node hands its partitions'
 * leadership over before it exits) and waits for it to exit; SIGKILL after `timeoutMs`.
 */
async function terminateNode({ name = 'local', id, timeoutMs = STOP_TIMEOUT_MS }) {
  return stopDir(clusterNode(name, id).dir, timeoutMs);
}

/** Starts node `id` of cluster `name` again on its storage and ports; resolves once the cluster lists it. */
async function restartNode({ name = 'local', id, timeoutMs = START_TIMEOUT_MS }) {
  const node = clusterNode(name, id);
  const pid = readPid(node.dir);
  if (pid && isAlive(pid)) {
    throw new Error(`node ${id} of '${name}' is still running (pid ${pid})`);
  }
  const began = Date.now();
  const launched = await launch({
    name,
    dir: node.dir,
    lib: ensureJars({ quiet: true }),
    propertiesFile: path.join(node.dir, 'server.properties'),
    port: node.port,
    began,
    options: { heap: CLUSTER_NODE_HEAP },
  });
  const nodes = clusterNodes(name);
  const bootstrap = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  await waitForBrokers(name, bootstrap, nodes.length, timeoutMs - (Date.now() - began));
  return launched;
}

/** Starts kafka.Kafka on a formatted storage directory and waits until it answers metadata requests. */
async function launch({ name, dir, lib, propertiesFile, port, began, options }) {
  const classpath = `${lib}/*`;
  const logFile = path.join(dir, 'server.log');
  // A restarted node appends to its log: only what this start writes counts.
  const logFrom = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn(
    'java',
    [
      '-Xms128m',
      `-Xmx${options.heap || '512m'}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Djava.io.tmpdir=${path.join(dir, 'tmp')}`,
      `-Dlog4j2.configurationFile=${path.join(HERE, 'log4j2.properties')}`,
      ...(options.jvmArgs || []),
      '-cp',
      classpath,
      'kafka.Kafka',
      propertiesFile,
    ],
    { detached: true, stdio: ['ignore', logFd, logFd] },
  );
  fs.closeSync(logFd);
  child.unref();
  fs.writeFileSync(path.join(dir, 'pid'), String(child.pid));

  const bootstrap = `127.0.0.1:${port}`;
  try {
    await waitForLog(dir, /Kafka Server started/, START_TIMEOUT_MS, () => isAlive(child.pid), logFrom);
    await waitForMetadata(bootstrap, START_TIMEOUT_MS - (Date.now() - began), () => isAlive(child.pid));
  } catch (error) {
    await stopDir(dir, STOP_TIMEOUT_MS);
    throw new Error(
      `the local Kafka broker ${name} (${dir}) did not start: ${error.message}\n--- ${dir}/server.log (tail) ---\n${logTail(dir)}`,
    );
  }
  fs.writeFileSync(path.join(dir, 'bootstrap'), bootstrap);
  return { bootstrap, port, pid: child.pid, dir, startedInMs: Date.now() - began };
}

async function waitForLog(dir, pattern, timeoutMs, isStillRunning, from = 0) {
  const deadline = Date.now() + timeoutMs;
  const file = path.join(dir, 'server.log');
  while (Date.now() < deadline) {
    const text = fs.existsSync(file) ? fs.readFileSync(file).subarray(from).toString('utf8') : '';
    if (pattern.test(text)) {
      return;
    }
    if (!isStillRunning()) {
      throw new Error('the broker process exited');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no ${pattern} in the log within ${timeoutMs} ms`);
}

/**
 * Stops the broker named `name`, or every node of the cluster of that name, all at once (SIGTERM, then
 * SIGKILL after 15 s). Resolves true if anything was running.
 */
async function stop(options = {}) {
  const name = options.name || 'local';
  const timeoutMs = options.timeoutMs || STOP_TIMEOUT_MS;
  const stopped = await Promise.all(processDirs(name).map((dir) => stopDir(dir, timeoutMs)));
  return stopped.some(Boolean);
}

/** Stops the process whose pid file is in `dir` (SIGTERM, SIGKILL after timeoutMs); true if one ran. */
async function stopDir(dir, timeoutMs) {
  const pid = readPid(dir);
  if (!pid || !isAlive(pid)) {
    fs.rmSync(path.join(dir, 'pid'), { force: true });
    return false;
  }
  signal(pid, 'SIGTERM');
  signal(pid, 'SIGCONT'); // a frozen node (freezeNode) acts on SIGTERM only once it runs again
  if (!(await waitForExit(pid, timeoutMs))) {
    signal(pid, 'SIGKILL');
    await waitForExit(pid, STOP_TIMEOUT_MS);
  }
  fs.rmSync(path.join(dir, 'pid'), { force: true });
  return true;
}

/** Resolves true once `pid` is gone, false if it still runs after timeoutMs. */
async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Synchronous last-resort kill (of a single broker or every node of a cluster), for 'exit' handlers. */
function killNow(name = 'local') {
  for (const dir of processDirs(name)) {
    const pid = readPid(dir);
    if (pid && isAlive(pid)) {
      signal(pid, 'SIGKILL');
    }
  }
}

function signal(pid, sig) {
  try {
    // The broker was started detached, so it leads its own process group.
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

function parseArgs(argv) {
  const args = { _: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split('=', 2);
      args[key] = inline !== undefined ? inline : argv[(i += 1)];
    } else {
      args._.push(arg);
    }
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const command = args._[0];
  const name = args.name || 'local';
  switch (command) {
    case 'fetch':
      console.log(ensureJars());
      return;
    case 'start': {
      const nodes = Number(args.nodes || 1);
      if (nodes > 1 && args.port) {
        throw new Error('--port is for a single node; the nodes of a cluster get free ports');
      }
      const started = await start({
        name,
        nodes,
        port: nodes > 1 ? undefined : args.port || process.env.KAFKA_PORT || 29092,
        replicaFetchWaitMs: args['replica-fetch-wait-ms'],
      });
      if (started.nodes) {
        console.error(
          `Kafka ${kafkaVersion()} cluster of ${nodes} nodes started in ${started.startedInMs} ms (${started.nodes
            .map((n) => `node ${n.id}: port ${n.port}, pid ${n.pid}`)
            .join('; ')}; logs ${started.dir}/node-<id>/server.log)`,
        );
      } else {
        console.error(
          `Kafka ${kafkaVersion()} started in ${started.startedInMs} ms (pid ${started.pid}, log ${started.dir}/server.log)`,
        );
      }
      console.log(started.bootstrap);
      return;
    }
    case 'kill-node':
    case 'terminate-node':
    case 'freeze-node':
    case 'thaw-node':
    case 'restart-node': {
      const id = Number(args.id);
      if (command === 'kill-node') {
        await killNode({ name, id });
      } else if (command === 'freeze-node') {
        freezeNode({ name, id });
      } else if (command === 'thaw-node') {
        thawNode({ name, id });
      } else if (command === 'terminate-node') {
        await terminateNode({ name, id });
      } else {
        await restartNode({ name, id });
      }
      console.log(`${command.replace('-node', '')}: node ${id} of kafka-${name}`);
      return;
    }
    case 'ensure': {
      // Used by start:local: reuse a broker that answers at KAFKA_BROKERS, else start one on its port.
      const brokers = args.brokers || process.env.KAFKA_BROKERS || 'localhost:29092';
      if (await answers(brokers)) {
        console.error(`A Kafka broker answers at ${brokers}; using it.`);
        console.log(brokers);
        return;
      }
      const first = brokers.split(',')[0];
      const host = first.slice(0, first.lastIndexOf(':'));
      if (!['localhost', '127.0.0.1'].includes(host)) {
        throw new Error(
          `no Kafka answers at ${brokers}, and it is not a local address this script can start`,
        );
      }
      const started = await start({ name, port: Number(first.slice(first.lastIndexOf(':') + 1)) });
      console.error(
        `Kafka ${kafkaVersion()} started in ${started.startedInMs} ms (pid ${started.pid}, log ${started.dir}/server.log)`,
      );
      console.log(started.bootstrap);
      return;
    }
    case 'stop': {
      const stopped = await stop({ name });
      console.log(stopped ? `stopped kafka-${name}` : `no kafka-${name} running`);
      return;
    }
    case 'status': {
      const nodes = clusterNodes(name);
      if (nodes.length > 0) {
        for (const node of nodes) {
          const pid = readPid(node.dir);
          console.log(
            `kafka-${name} node ${node.id} (port ${node.port}) ${pid && isAlive(pid) ? `running, pid ${pid}` : 'not running'}`,
          );
        }
        return;
      }
      const pid = readPid(stateDir(name));
      console.log(pid && isAlive(pid) ? `kafka-${name} running, pid ${pid}` : `kafka-${name} not running`);
      return;
    }
    default:
      console.error(
        'usage: local-kafka.js fetch | start [--port P | --nodes N [--replica-fetch-wait-ms MS]] [--name NAME] | ensure [--brokers B] | stop [--name NAME] | status [--name NAME]\n' +
          '       | kill-node --id ID | terminate-node --id ID | freeze-node --id ID | thaw-node --id ID\n' +
          '       | restart-node --id ID [--name NAME]',
      );
      process.exitCode = 2;
  }
}

module.exports = {
  start,
  stop,
  killNow,
  killNode,
  terminateNode,
  restartNode,
  freezeNode,
  thawNode,
  clusterNodes,
  ensureJars,
  answers,
  waitForMetadata,
  freePort,
  stateDir,
  logTail,
  kafkaVersion,
  libDir,
};

if (require.main === module) {
  main().catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
