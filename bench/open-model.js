'use strict';

const http = require('node:http');

/**
 * An open-model load: requests start on a fixed schedule (rate per second) whether or not earlier ones
 * answered, and each latency is measured from its *scheduled* start, so a stall shows up in the numbers
 * instead of silently slowing the load (no coordinated omission).
 */
function openModel(url, body, rate, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const target = new URL(url);
  const total = rate * seconds;
  const latencies = [];
  let errors = 0;
  let done = 0;
  const began = performance.now();
  return new Promise((resolve) => {
    const fire = (scheduled) => {
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => finish(scheduled, res.statusCode === 200));
        },
      );
      req.on('error', () => finish(scheduled, false));
      req.end(body);
    };
    const finish = (scheduled, ok) => {
      latencies.push(performance.now() - scheduled);
      if (!ok) {
        errors += 1;
      }
      done += 1;
      if (done === total) {
        agent.destroy();
        latencies.sort((a, b) => a - b);
        const at = (q) =>
          Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 10) / 10;
        resolve({
          requests: total,
          errors,
          p50: at(0.5),
          p90: at(0.9),
          p99: at(0.99),
          max: Math.round(latencies[latencies.length - 1]),
        });
      }
    };
    let sent = 0;
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - began) / 1000) * rate));
      while (sent < due) {
        const scheduled = began + (sent * 1000) / rate;
        sent += 1;
        fire(scheduled);
      }
      if (sent < total) {
        setTimeout(tick, 1);
      }
    };
    tick();
  });
}

module.exports = { openModel };
