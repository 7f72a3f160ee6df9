'use strict';

const pct = (a, b) => (b > 0 ? `${Math.round((a / b) * 100)}%` : 'n/a');

/** The results as the Markdown table the README shows, with the targets checked. */
function renderMarkdown(r) {
  const c64 = r.runs.closed.find((c) => c.connections === 64);
  const ceiling = r.runs.kafkajsBatch.recordsPerSec;
  const lines = [
    `Measured ${r.date.slice(0, 10)} on ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}, Kafka ${r.machine.kafka} (local, same machine); ${r.seconds} s per run; ~1 KiB messages; snappy unless noted.`,
    '',
    '| run | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | service CPU % | service RSS MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.runs.closed.map(
      (c) =>
        `| POST /api/messages, ${c.connections} connections | ${c.reqPerSec} | ${c.p50} | ${c.p90} | ${c.p99} | ${c.max} | ${c.errors} | ${c.cpuPercent} | ${c.rssMb} |`,
    ),
    `| open model, fixed ${r.runs.open.rate} req/s | ${r.runs.open.rate} | ${r.runs.open.p50} | ${r.runs.open.p90} | ${r.runs.open.p99} | ${r.runs.open.max} | ${r.runs.open.errors} | ${r.runs.open.cpuPercent} | ${r.runs.open.rssMb} |`,
    `| POST /api/messages/batch (100 per request), 8 connections, after ${r.runs.batch.warmUpSeconds} s of warm-up | ${r.runs.batch.reqPerSec} (${r.runs.batch.recordsPerSec} records/s) | ${r.runs.batch.p50} | ${r.runs.batch.p90} | ${r.runs.batch.p99} | ${r.runs.batch.max} | ${r.runs.batch.errors} | ${r.runs.batch.cpuPercent} | ${r.runs.batch.rssMb} |`,
    '',
    '| ceiling (same broker, same run) | records/s | our req/s at 64 connections as a share |',
    '| --- | ---: | ---: |',
    `| plain kafkajs, 64 concurrent single-record send() | ${r.runs.kafkajsSingle.recordsPerSec} | ${pct(c64.reqPerSec, r.runs.kafkajsSingle.recordsPerSec)} |`,
    `| plain kafkajs, sendBatch of 64 records back to back | ${ceiling} | ${pct(c64.reqPerSec, ceiling)} |`,
    `| Kafka ProducerPerformance (Java client, linger 5 ms, batch 16 KiB) | ${r.runs.perfTest.recordsPerSec} | ${pct(c64.reqPerSec, r.runs.perfTest.recordsPerSec)} |`,
    '',
    '| codec (64 connections) | req/s | p99 ms | bytes per record on disk |',
    '| --- | ---: | ---: | ---: |',
    ...r.runs.codecs.map((c) => `| ${c.codec} | ${c.reqPerSec} | ${c.p99} | ${c.bytesPerRecordOnDisk} |`),
    '',
    ...otherRows(r, c64),
    '| target | result |',
    '| --- | --- |',
    `| 64 connections ≥ 60% of the plain-kafkajs ceiling, no errors | ${pct(c64.reqPerSec, ceiling)} of sendBatch, ${pct(c64.reqPerSec, r.runs.kafkajsSingle.recordsPerSec)} of single sends; ${c64.errors} errors |`,
    `| p99 ≤ 20 ms at a fixed 1,000 req/s | p99 ${r.runs.open.p99} ms (${r.runs.open.errors} errors) |`,
    `| peak RSS ≤ 150 MB under that load | ${r.runs.open.rssMb} MB at 1,000 req/s (run first, after the warm-up); ${r.peakRssMb} MB peak over all runs |`,
    `| start-up to ready ≤ 1.5 s (Kafka up) | ${r.runs.startup.readyMs} ms |`,
    `| batch endpoint ≥ 50% of the kafkajs sendBatch ceiling in records/s | ${pct(r.runs.batch.recordsPerSec, ceiling)} (${r.runs.batch.recordsPerSec} of ${ceiling}) |`,
    '',
  ];
  return lines.join('\n');
}

const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** The service next to another producer (BENCH_OTHER_CMD), when one was measured. */
function otherRows(r, c64) {
  const other = r.runs.other;
  if (!other) {
    return [];
  }
  const cpu10k = (run) => (run.reqPerSec > 0 ? ((run.cpuPercent / 100) * 10000) / run.reqPerSec : 0);
  return [
    `| same load, same broker (other: \`${other.command}\`) | ours | other | ours / other |`,
    '| --- | ---: | ---: | ---: |',
    `| req/s at 64 connections | ${c64.reqPerSec} | ${other.closed.reqPerSec} | ${ratio(c64.reqPerSec, other.closed.reqPerSec)} |`,
    `| p99 ms at 64 connections | ${c64.p99} | ${other.closed.p99} | ${ratio(c64.p99, other.closed.p99)} |`,
    `| p99 ms at a fixed 1,000 req/s | ${r.runs.open.p99} | ${other.open.p99} | ${ratio(r.runs.open.p99, other.open.p99)} |`,
    `| CPU s per 10k requests at 64 connections | ${cpu10k(c64).toFixed(2)} | ${cpu10k(other.closed).toFixed(2)} | ${ratio(cpu10k(c64), cpu10k(other.closed))} |`,
    `| peak RSS MB | ${r.peakRssMb} | ${other.peakRssMb} | ${ratio(r.peakRssMb, other.peakRssMb)} |`,
    `| start-up to ready, ms | ${r.runs.startup.readyMs} | ${other.readyMs} | ${ratio(r.runs.startup.readyMs, other.readyMs)} |`,
    '',
  ];
}

/** A bar chart of req/s by connections, with the ceilings as lines. */
function renderSvg(r) {
  const width = 640;
  const height = 320;
  const bars = r.runs.closed;
  const ceilings = [
    ['kafkajs sendBatch', r.runs.kafkajsBatch.recordsPerSec, '#c0392b'],
    ['kafkajs single sends', r.runs.kafkajsSingle.recordsPerSec, '#e67e22'],
  ];
  const max = Math.max(...bars.map((b) => b.reqPerSec), ...ceilings.map((c) => c[1])) * 1.1;
  const y = (v) => height - 40 - (v / max) * (height - 80);
  const barWidth = (width - 120) / bars.length;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">POST /api/messages req/s by connections (${r.date.slice(0, 10)})</text>`,
    ...bars.map((b, i) => {
      const x = 80 + i * barWidth + 10;
      return `<rect x="${x}" y="${y(b.reqPerSec)}" width="${barWidth - 20}" height="${height - 40 - y(b.reqPerSec)}" fill="#2e86c1"/><text x="${x + (barWidth - 20) / 2}" y="${height - 25}" text-anchor="middle">${b.connections}</text><text x="${x + (barWidth - 20) / 2}" y="${y(b.reqPerSec) - 4}" text-anchor="middle">${b.reqPerSec}</text>`;
    }),
    ...ceilings.map(
      ([label, value, color]) =>
        `<line x1="70" x2="${width - 20}" y1="${y(value)}" y2="${y(value)}" stroke="${color}" stroke-dasharray="6 4"/><text x="${width - 22}" y="${y(value) - 4}" text-anchor="end" fill="${color}">${label}: ${value}/s</text>`,
    ),
    `<line x1="70" x2="70" y1="40" y2="${height - 40}" stroke="black"/><line x1="70" x2="${width - 20}" y1="${height - 40}" y2="${height - 40}" stroke="black"/>`,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">connections</text>`,
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}

module.exports = { renderMarkdown, renderSvg };
