'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const localKafka = require('../scripts/kafka/local-kafka');
const { V8_FLAGS } = require('../scripts/node-flags');

const TICKS_PER_SECOND = 100; // Linux USER_HZ

function procStat(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in ticks
}

function rssMb(pid, key = 'VmRSS') {
  const match = new RegExp(`${key}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

/**
 * The built service (dist/main.js) as its own process, with its CPU and memory sampled from /proc; or,
 * given `external` ({ command, url }), another producer started by a shell command (exec'd, so the
 * process sampled is the producer itself) and ready once a POST of a message to `url` answers 200.
 */
class ServiceProcess {
  constructor(root, env, profile, external) {
    this.root = root;
    this.env = env;
    this.profile = profile;
    this.external = external;
  }

  spawnExternal() {
    this.url = this.external.url;
    this.child = spawn('sh', ['-c', `exec ${this.external.command}`], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return async () => {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"content":"ready?","type":"INFO"}',
      });
      return response.status === 200;
    };
  }

  /** Starts the service and resolves with the milliseconds from spawn to a 200 from readiness. */
  async start() {
    const began = Date.now();
    const ready = this.external ? this.spawnExternal() : await this.spawnService();
    for (;;) {
      if (this.child.exitCode !== null) {
        throw new Error(`the service exited with ${this.child.exitCode}`);
      }
      try {
        if (await ready()) {
          break;
        }
      } catch {
        /* not listening yet */
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (Date.now() - began > 60000) {
        throw new Error('the service was not ready within 60 s');
      }
    }
    const readyMs = Date.now() - began;
    this.peak = 0;
    this.sampler = setInterval(() => {
      this.peak = Math.max(this.peak, rssMb(this.child.pid));
      this.windowPeak = Math.max(this.windowPeak || 0, rssMb(this.child.pid));
    }, 100);
    return readyMs;
  }

  async spawnService() {
    const port = await localKafka.freePort();
    this.url = `http://127.0.0.1:${port}`;
    const args = this.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${path.join(this.root, 'bench', 'results')}`]
      : [];
    this.child = spawn(process.execPath, [...args, ...V8_FLAGS, path.join(this.root, 'dist', 'main.js')], {
      env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), ...this.env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return async () => (await fetch(`${this.url}/actuator/health/readiness`)).status === 200;
  }

  resetWindow() {
    this.windowStart = { at: Date.now(), ticks: procStat(this.child.pid) };
    this.windowPeak = 0;
  }

  /** CPU use (100 = one core) and peak RSS since resetWindow(). */
  window() {
    const seconds = (Date.now() - this.windowStart.at) / 1000;
    const ticks = procStat(this.child.pid) - this.windowStart.ticks;
    return { cpuPercent: Math.round((ticks / TICKS_PER_SECOND / seconds) * 100), rssMb: this.windowPeak };
  }

  peakRssMb() {
    return Math.max(this.peak, rssMb(this.child.pid, 'VmHWM'));
  }

  async stop() {
    clearInterval(this.sampler);
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

module.exports = { ServiceProcess };
