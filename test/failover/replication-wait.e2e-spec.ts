import { randomBytes } from 'node:crypto';
import * as localKafka from '../../scripts/kafka/local-kafka';
import { KafkaPublisher } from '../../src/kafka/kafka-publisher';
import { OutgoingRecord } from '../../src/kafka/records';
import { RunningApp, startApp, uniqueTopic } from '../support/app';
import { kcatReadAll } from '../support/kcat';

/**
 * The producer core against a cluster whose acks wait for replicas: 3 KRaft nodes whose followers fetch
 * every 10 ms (`--replica-fetch-wait-ms 10`), a topic with replication factor 3 and min.insync.replicas=2.
 * There a produce request is in flight for about one fetch wait, so a partition's batches overlap on its
 * producers (KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION, 5 by default). Read back with kcat from the cluster.
 */
const name = `replication-wait-${process.pid}`;
let cluster: localKafka.StartedBroker;
let running: RunningApp | undefined;

beforeAll(async () => {
  process.once('exit', () => localKafka.killNow(name));
  cluster = await localKafka.start({ name, nodes: 3, replicaFetchWaitMs: 10, quiet: true });
}, 90_000);

afterAll(async () => {
  await running?.close();
  await localKafka.stop({ name, timeoutMs: 5000 });
}, 30_000);

/** Produce requests per idempotent producer, from the service's own scrape. */
async function produceRequestsByProducer(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/actuator/prometheus`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(
    /^kafka_producer_requests_total\{producer="(idempotent[^"]*)",api="Produce"\} (\d+)/gm,
  )) {
    counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

describe('acks that wait for replicas (3 nodes, followers fetching every 10 ms)', () => {
  it("a partition's batches overlap on several producers, and each key's records land once, in the order handed over, byte for byte", async () => {
    const topic = uniqueTopic('lanes');
    running = await startApp({
      KAFKA_BROKERS: cluster.bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_TOPIC_PARTITIONS: '1',
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
    });
    const publisher = running.app.get(KafkaPublisher);

    // 200 sends handed over at once, 6 records each, over 40 keys: each key's records carry its own
    // sequence number in the order they were handed over.
    const KEYS = 40;
    const next = new Map<string, number>();
    const sent = new Map<string, string>();
    const handedOver: string[] = [];
    const sends = Array.from({ length: 200 }, (_, call) => {
      const records: OutgoingRecord[] = Array.from({ length: 6 }, (_, j) => {
        const key = `key-${(call * 7 + j * 13) % KEYS}`;
        const seq = next.get(key) ?? 0;
        next.set(key, seq + 1);
        const value = `${key}|${seq}|${randomBytes(96).toString('base64')}`;
        sent.set(`${key}|${seq}`, value);
        handedOver.push(value);
        return { topic, key, value: Buffer.from(value), headers: {}, timestamp: Date.now() };
      });
      return publisher.send(records);
    });
    const outcomes = (await Promise.all(sends)).flat();
    expect(outcomes.filter((o) => o.status !== 'acknowledged')).toEqual([]);

    // More than one producer carried the partition's requests: they overlapped.
    const perProducer = await produceRequestsByProducer(running.url);
    expect([...perProducer.values()].filter((n) => n > 0).length).toBeGreaterThan(1);

    const records = kcatReadAll(topic, 'read_committed', cluster.bootstrap);
    expect(records).toHaveLength(sent.size);
    const seen = new Map<string, number>();
    for (const record of records) {
      const [key, seq] = record.payload!.split('|');
      expect(record.key).toBe(key);
      expect(record.payload).toBe(sent.get(`${key}|${seq}`));
      // In offset order, each key's sequence numbers go 0, 1, 2, …: in order, none twice, none missing.
      expect(Number(seq)).toBe(seen.get(key!) ?? 0);
      seen.set(key!, Number(seq) + 1);
    }
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe(sent.size);
    // Every acknowledgement points at its own record.
    const byOffset = new Map(records.map((r) => [r.offset, r.payload]));
    const acked = outcomes.map((o) =>
      o.status === 'acknowledged' ? byOffset.get(Number(o.ack.offset)) : '',
    );
    expect(acked).toEqual(handedOver);
  }, 90_000);
});
