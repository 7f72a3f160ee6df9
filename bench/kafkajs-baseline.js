'use strict';
/*
 * The client-library ceiling: a plain kafkajs producer with the service's settings (idempotent, acks=all,
 * snappy) sending the same ~1 KiB records for a fixed time, in a process of its own.
 *   single: 64 concurrent send() calls of one record each (what a naive HTTP front door does);
 *   batch:  sendBatch() of 64 records at a time, one request after another (what batching can reach).
 * Prints one JSON line: { mode, recordsPerSec }.
 */
const { CompressionCodecs, CompressionTypes, Kafka, logLevel, Partitioners } = require('kafkajs');
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');

async function main() {
  const [bootstrap, topic, mode, seconds] = process.argv.slice(2);
  const kafka = new Kafka({
    clientId: 'bench-baseline',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const value = JSON.stringify({
    id: 'x',
    content: 'x'.repeat(900),
    type: 'INFO',
    timestamp: new Date().toISOString(),
    source: 'bench',
    metadata: { tenant: 'acme', region: 'eu-west-1' },
  });
  const deadline = Date.now() + Number(seconds) * 1000;
  let records = 0;
  let n = 0;
  const message = () => ({ key: `k${(n += 1)}`, value });
  if (mode === 'single') {
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (Date.now() < deadline) {
          await producer.send({
            topic,
            acks: -1,
            compression: CompressionTypes.Snappy,
            messages: [message()],
          });
          records += 1;
        }
      }),
    );
  } else {
    while (Date.now() < deadline) {
      await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.Snappy,
        messages: Array.from({ length: 64 }, message),
      });
      records += 64;
    }
  }
  await producer.disconnect();
  console.log(JSON.stringify({ mode, recordsPerSec: Math.round(records / Number(seconds)) }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
