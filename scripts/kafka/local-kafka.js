#!/usr/bin/env node
/*
 * The project's local Apache Kafka: a single-node KRaft broker (broker+controller) on 127.0.0.1, assembled
 * from Maven Central jars (scripts/kafka/pom.xml). Used by `npm run kafka:start|kafka:stop`, by
 * `npm run start:local`, by Jest's global setup/teardown and by the benchmarks.
 *
 * Layout (all git-ignored):
 *   .cache/kafka/<version>/lib   the broker's runtime classpath, fetched once with Maven and reused
 *   .run/kafka-<name>/           server.properties, data/, server.log, pid, bootstrap
 *
 * Plain CommonJS on purpose: it must run before anything is compiled.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const HERE = __dirname;
const POM = path.join(HERE, 'pom.xml');
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;

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
  const marker = path.join(lib, '.complete');
  if (fs.existsSync(marker)) {
    return lib;
  }
  const staging = `${lib}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  if (!quiet) {
    process.stderr.write(`Fetching Apache Kafka ${kafkaVersion()} jars from Maven Central into ${lib}\n`);
  }
  const result = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      POM,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.error || result.status !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `mvn failed to fetch the Kafka jars (${result.error ? result.error.message : `exit ${result.status}`})`,
    );
  }
  fs.rmSync(lib, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(lib), { recursive: true });
  fs.renameSync(staging, lib);
  fs.writeFileSync(marker, new Date().toISOString());
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

function java(args, options = {}) {
  return spawnSync('java', args, { encoding: 'utf8', ...options });
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
  const dir = stateDir(name);
  const running = readPid(dir);
  if (running && isAlive(running)) {
    throw new Error(`a broker named '${name}' already runs (pid ${running}); stop it first`);
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
  const dataDir = path.join(dir, 'data');
  fs.writeFileSync(
    propertiesFile,
    render(fs.readFileSync(path.join(HERE, 'server.properties.template'), 'utf8'), {
      PORT: port,
      CONTROLLER_PORT: controllerPort,
      DATA_DIR: dataDir,
      EXTRA_LISTENERS: extra.listeners ? `,${extra.listeners}` : '',
      EXTRA_ADVERTISED: extra.advertised ? `,${extra.advertised}` : '',
      EXTRA_PROTOCOL_MAP: extra.protocolMap ? `,${extra.protocolMap}` : '',
      EXTRA_PROPERTIES: extra.properties || '',
    }),
  );

  const classpath = `${lib}/*`;
  const clusterId = randomClusterId();
  const format = java([
    '-Xmx256m',
    `-Dlog4j2.configurationFile=${path.join(HERE, 'log4j2.properties')}`,
    '-cp',
    classpath,
    'kafka.tools.StorageTool',
    'format',
    '--standalone',
    '-t',
    clusterId,
    '-c',
    propertiesFile,
    ...(options.formatArgs || []),
  ]);
  if (format.status !== 0) {
    throw new Error(
      `kafka-storage format failed (exit ${format.status}):\n${format.stdout}\n${format.stderr}`,
    );
  }
  return { ...(await launch({ name, dir, lib, propertiesFile, port, began, options })), clusterId };
}

/** Starts kafka.Kafka on a formatted storage directory and waits until it answers metadata requests. */
async function launch({ name, dir, lib, propertiesFile, port, began, options }) {
  const classpath = `${lib}/*`;
  const logFd = fs.openSync(path.join(dir, 'server.log'), 'a');
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
    await waitForLog(dir, /Kafka Server started/, START_TIMEOUT_MS, () => isAlive(child.pid));
    await waitForMetadata(bootstrap, START_TIMEOUT_MS - (Date.now() - began), () => isAlive(child.pid));
  } catch (error) {
    await stop({ name });
    throw new Error(
      `the local Kafka broker did not start: ${error.message}\n--- ${dir}/server.log (tail) ---\n${logTail(dir)}`,
    );
  }
  fs.writeFileSync(path.join(dir, 'bootstrap'), bootstrap);
  return { bootstrap, port, pid: child.pid, dir, startedInMs: Date.now() - began };
}

async function waitForLog(dir, pattern, timeoutMs, isStillRunning) {
  const deadline = Date.now() + timeoutMs;
  const file = path.join(dir, 'server.log');
  while (Date.now() < deadline) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
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

/** Stops the broker named `name` (SIGTERM, then SIGKILL after 15 s). Resolves true if one was running. */
async function stop(options = {}) {
  const dir = stateDir(options.name || 'local');
  const pid = readPid(dir);
  if (!pid || !isAlive(pid)) {
    fs.rmSync(path.join(dir, 'pid'), { force: true });
    return false;
  }
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + (options.timeoutMs || STOP_TIMEOUT_MS);
  while (isAlive(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (isAlive(pid)) {
    signal(pid, 'SIGKILL');
    while (isAlive(pid)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  fs.rmSync(path.join(dir, 'pid'), { force: true });
  return true;
}

/** Synchronous last-resort kill, for process 'exit' handlers. */
function killNow(name = 'local') {
  const pid = readPid(stateDir(name));
  if (pid && isAlive(pid)) {
    signal(pid, 'SIGKILL');
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
      const started = await start({ name, port: args.port || process.env.KAFKA_PORT || 29092 });
      console.error(
        `Kafka ${kafkaVersion()} started in ${started.startedInMs} ms (pid ${started.pid}, log ${started.dir}/server.log)`,
      );
      console.log(started.bootstrap);
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
      const pid = readPid(stateDir(name));
      console.log(pid && isAlive(pid) ? `kafka-${name} running, pid ${pid}` : `kafka-${name} not running`);
      return;
    }
    default:
      console.error(
        'usage: local-kafka.js fetch | start [--port N] [--name N] | ensure [--brokers B] | stop [--name N] | status',
      );
      process.exitCode = 2;
  }
}

module.exports = {
  start,
  stop,
  killNow,
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
