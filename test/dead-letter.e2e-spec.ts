import { randomUUID } from 'node:crypto';
import { Admin, Kafka, logLevel, Producer } from 'kafkajs';
import { DeadLetterPublisher } from '../src/feedback/dead-letter.publisher';
import { RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { kcatReadBytes } from './support/kcat';

const appName = `dlt-e2e-${randomUUID().slice(0, 8)}`;
const topic = uniqueTopic('dlt-feedback');
const deadLetterTopic = `${topic}.DLT`;

/**
 * The dead letter as Spring Kafka's DeadLetterPublishingRecoverer writes it, read back with kcat (an
 * independent client) byte for byte: the record is written by the test's own kafkajs producer, with bytes
 * kcat's command line could not carry.
 */
describe('a faithful dead letter (real broker, read back with kcat)', () => {
  let admin: Admin;
  let producer: Producer;
  let running: RunningApp;

  beforeAll(async () => {
    admin = await testAdmin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    producer = new Kafka({
      clientId: 'e2e-dlt-writer',
      brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    running = await startApp({
      APP_NAME: appName,
      KAFKA_FEEDBACK_TOPIC: topic,
      FEEDBACK_CONSUMER_ENABLED: 'true',
      // A dead-letter write that cannot succeed fails within 2 s (the last test).
      SEND_TIMEOUT_MS: '2000',
    });
  });
  afterAll(async () => {
    await running?.close();
    await producer?.disconnect();
    await admin?.disconnect();
  });

  it('keeps key, null value, partition and every header byte for byte, and sets kafka_dlt-* itself', async () => {
    const key = Buffer.from([0x00, 0xff, 0x0a, 0x2c, 0x80]);
    // Not UTF-8; no NUL (kcat prints header values as C strings), `,`, `=` or newline (its separators).
    const binary = Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0x01]);
    const [written] = await producer.send({
      topic,
      messages: [
        {
          key,
          value: null,
          partition: 2,
          headers: {
            repeated: ['first', 'second', 'third'],
            binary,
            'kafka_dlt-error-kind': 'Forged',
            'kafka_dlt-original-offset': '999999',
          },
        },
      ],
    });

    const letter = await eventually(() => {
      const found = kcatReadBytes(deadLetterTopic).find((r) => r.key?.equals(key));
      expect(found).toBeDefined();
      return found!;
    }, 30000);

    expect(letter.partition).toBe(2);
    expect(letter.value).toBeNull();
    const header = (name: string): string[] =>
      letter.headers.filter(([n]) => n === name).map(([, v]) => v.toString('latin1'));
    expect(letter.headers.filter(([n]) => n === 'repeated').map(([, v]) => v.toString('utf8'))).toEqual([
      'first',
      'second',
      'third',
    ]);
    expect(letter.headers.filter(([n]) => n === 'binary').map(([, v]) => v)).toEqual([binary]);
    // The forged headers are gone: each kafka_dlt-* header once, with the service's value.
    expect(header('kafka_dlt-error-kind')).toEqual(['NotJson']);
    expect(header('kafka_dlt-original-offset')).toEqual([written!.baseOffset]);
    expect(header('kafka_dlt-original-partition')).toEqual(['2']);
    expect(header('kafka_dlt-original-topic')).toEqual([topic]);
    expect(header('kafka_dlt-exception-message')).toEqual(['the record has no value']);
    const names = letter.headers.map(([n]) => n);
    expect(names.filter((n) => n.startsWith('kafka_dlt-')).length).toBe(
      new Set(names.filter((n) => n.startsWith('kafka_dlt-'))).size,
    );
    // The original headers come first, in their order; the service's follow.
    expect(names.slice(0, 4)).toEqual(['repeated', 'repeated', 'repeated', 'binary']);
  });

  it('keeps a null key null, on the original partition', async () => {
    const value = Buffer.from([0xfe, 0xff, 0x00, 0x01]); // not UTF-8, so not JSON: NotJson
    const [written] = await producer.send({ topic, messages: [{ key: null, value, partition: 1 }] });

    const letter = await eventually(() => {
      const found = kcatReadBytes(deadLetterTopic).find((r) => r.value?.equals(value));
      expect(found).toBeDefined();
      return found!;
    }, 30000);

    expect(letter).toMatchObject({ partition: 1, key: null });
    expect(letter.headers.find(([n]) => n === 'kafka_dlt-original-offset')?.[1].toString()).toBe(
      written!.baseOffset,
    );
  });

  it('leaves a record uncommitted while its dead letter cannot be written, and commits it once it is', async () => {
    const groupId = `${appName}-consumer-group`;
    const committed = async (): Promise<string | undefined> => {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return offsets?.partitions.find((p) => p.partition === 0)?.offset;
    };
    await admin.deleteTopics({ topics: [deadLetterTopic] });
    await eventually(async () => expect(await admin.listTopics()).not.toContain(deadLetterTopic), 30000);
    const publish = jest.spyOn(running.app.get(DeadLetterPublisher), 'publish');
    const stuck = Buffer.from('stuck: not JSON');
    const [written] = await producer.send({
      topic,
      messages: [{ key: 'stuck', value: stuck, partition: 0 }],
    });
    const next = String(Number(written!.baseOffset) + 1);

    // Three dead-letter deadlines: the record is tried again and again, and never committed.
    const seen: (string | undefined)[] = [];
    for (const end = Date.now() + 6000; Date.now() < end;) {
      seen.push(await committed());
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(seen.filter((offset) => offset === next)).toEqual([]);
    // It was tried meanwhile: its dead-letter writes failed.
    const tried = await Promise.allSettled(
      publish.mock.results.map((result) => result.value as Promise<unknown>),
    );
    expect(publish.mock.calls.every(([record]) => record.offset === written!.baseOffset)).toBe(true);
    expect(tried.length).toBeGreaterThan(0);
    expect(tried.every((outcome) => outcome.status === 'rejected')).toBe(true);

    await admin.createTopics({
      topics: [{ topic: deadLetterTopic, numPartitions: 3 }],
      waitForLeaders: true,
    });
    await eventually(async () => {
      expect(kcatReadBytes(deadLetterTopic).some((r) => r.value?.equals(stuck))).toBe(true);
      expect(await committed()).toBe(next);
    }, 60000);
  }, 120000);
});
