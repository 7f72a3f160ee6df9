#!/usr/bin/env node
/*
 * `npm run start:local`: the whole service on this machine, from a fresh clone, in one command.
 *   1. installs npm dependencies if node_modules is missing (npm ci), and Java and Maven with apt-get if
 *      missing (scripts/ensure-tools.js: as root or with passwordless sudo, else it names what to install),
 *   2. uses the Kafka broker that answers at KAFKA_BROKERS (default localhost:29092), or starts the
 *      project's local broker on that port (scripts/kafka/local-kafka.js; stop it with `npm run kafka:stop`),
 *   3. builds the service and runs it in the foreground (Ctrl-C stops it gracefully).
 */
'use strict';

const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureTools } = require('./ensure-tools');
const { V8_FLAGS } = require('./node-flags');

const ROOT = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    process.exit(result.status ?? 1);
  }
}

if (!fs.existsSync(path.join(ROOT, 'node_modules', 'kafkajs'))) {
  run(npm, ['ci']);
}
try {
  ensureTools({ programs: ['java', 'mvn'] });
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
const brokers = process.env.KAFKA_BROKERS || 'localhost:29092';
const ensure = spawnSync(
  process.execPath,
  [path.join(__dirname, 'kafka', 'local-kafka.js'), 'ensure', '--brokers', brokers],
  {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  },
);
if (ensure.status !== 0) {
  process.exit(ensure.status ?? 1);
}
run(npm, ['run', 'build']);

const service = spawn(process.execPath, [...V8_FLAGS, path.join(ROOT, 'dist', 'main.js')], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, KAFKA_BROKERS: brokers },
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => service.kill(signal));
}
service.on('exit', (code, signal) => {
  console.error(`service exited (${signal ?? code}); the local broker keeps running: npm run kafka:stop`);
  process.exit(code ?? 0);
});
