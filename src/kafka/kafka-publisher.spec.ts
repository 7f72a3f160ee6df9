import { Logger } from '@nestjs/common';
import {
  Admin,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSConnectionError,
  KafkaJSProtocolError,
  ProducerBatch,
  RecordMetadata,
} from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { Metrics } from '../observability/metrics';
import { KafkaPublisher } from './kafka-publisher';
import { PartitionResolver } from './partition-resolver';
import { partitionForKey } from './partitioner';
import { OutgoingRecord, SendOutcome } from './records';
import { SupervisedProducer } from './supervised-producer';

const TOPIC = 'orders';
const PARTITIONS = 3;

/** A key that the Java partitioner puts on `partition` of TOPIC. */
function keyOn(partition: number, n = 0): string {
  for (let i = 0; ; i++) {
    const key = `k-${n}-${i}`;
    if (partitionForKey(key, PARTITIONS) === partition) {
      return key;
    }
  }
}

const record = (key: string, value = `value of ${key}`): OutgoingRecord => ({
  topic: TOPIC,
  key,
  value: Buffer.from(value),
  headers: { 'x-request-id': key },
  timestamp: 1_700_000_000_000,
});

/** kafkajs' answer to a produce request: the base offset of its one partition's batch. */
const answer = (partition: number, baseOffset: string): RecordMetadata[] => [
  { topicName: TOPIC, partition, errorCode: 0, baseOffset },
];

/** kafkajs' error after its own resend, as sendBatch rejects with it. */
const exhausted = (cause: Error): Error =>
  new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 1, retryTime: 100 });
const protocolError = (type: string, code: number): Error =>
  new KafkaJSProtocolError(Object.assign(new Error(type), { type, code, retriable: false }));

/** What a producer that cannot connect fails with (SupervisedProducer, while Kafka is unreachable). */
const kafkaUnreachable = (): KafkaSendError =>
  new KafkaSendError(KafkaFailureKind.Unreachable, 'Kafka is unreachable', 'KafkaUnreachable');
/** kafkajs' answer for a topic the broker does not know (after its own resend). */
const unknownTopic = (): Error => exhausted(protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3));

const partitionOf = (batch: ProducerBatch): number => batch.topicMessages![0]!.messages[0]!.partition!;

describe(KafkaPublisher.name, () => {
  let leaders: number[];
  /** Each partition's replicas: one partition per broker unless a test says otherwise. */
  let replicas: number[][];
  let sendBatch: jest.Mock<Promise<RecordMetadata[]>, [ProducerBatch]>;
  let producers: { lease: jest.Mock; get: jest.Mock; close: jest.Mock; isConnected: boolean };
  let retired: string[];
  /** The lane (index of the idempotent producer) each produce request went out on. */
  let sentOn: number[];
  /** What the metadata request fails with (a topic unknown to the broker asked), if anything. */
  let metadataError: Error | undefined;
  let sut: KafkaPublisher;

  /** The publisher, with `unreachable` lanes whose producer cannot connect (a lease fails at once). */
  function publisher(env: Record<string, string> = {}, unreachable: number[] = []): KafkaPublisher {
    const admin = {
      fetchTopicMetadata: jest.fn(() =>
        metadataError
          ? Promise.reject(metadataError)
          : Promise.resolve({
              topics: [
                {
                  name: TOPIC,
                  partitions: leaders.map((leader, partitionId) => ({
                    partitionId,
                    leader,
                    replicas: replicas[partitionId]!,
                    isr: replicas[partitionId]!,
                    partitionErrorCode: 0,
                  })),
                },
              ],
            }),
      ),
    };
    const config = new AppConfig(validateEnvironment({ SEND_TIMEOUT_MS: '5000', ...env }));
    const lanes = Array.from({ length: config.producer.inFlightPerPartition }, (_, lane) => ({
      ...producers,
      isUnreachable: unreachable.includes(lane),
      isConnected: producers.isConnected && !unreachable.includes(lane),
      get: () =>
        unreachable.includes(lane)
          ? Promise.reject(kafkaUnreachable())
          : (producers.get() as Promise<unknown>),
      lease: () =>
        unreachable.includes(lane)
          ? Promise.reject(kafkaUnreachable())
          : (producers.lease() as Promise<{ producer: { sendBatch: typeof sendBatch } }>).then((lease) => ({
              ...lease,
              producer: {
                sendBatch: (batch: ProducerBatch) => {
                  sentOn.push(lane);
                  return lease.producer.sendBatch(batch);
                },
              },
            })),
    }));
    return new KafkaPublisher(
      lanes as unknown as SupervisedProducer[],
      [],
      new PartitionResolver(admin as unknown as Admin),
      config,
      new Metrics(),
    );
  }

  /** Holds every produce request until the test releases it (each answers its partition at offset 0). */
  function holdBatches(): (() => void)[] {
    const pending: (() => void)[] = [];
    sendBatch.mockImplementation(
      (batch) => new Promise((resolve) => pending.push(() => resolve(answer(partitionOf(batch), '0')))),
    );
    return pending;
  }

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    jest.useFakeTimers();
    leaders = [1, 2, 3];
    replicas = [[1], [2], [3]];
    retired = [];
    sentOn = [];
    metadataError = undefined;
    sendBatch = jest.fn();
    const producer = { sendBatch };
    producers = {
      isConnected: true,
      get: jest.fn().mockResolvedValue(producer),
      close: jest.fn().mockResolvedValue(undefined),
      lease: jest.fn(() =>
        Promise.resolve({ producer, retire: (reason: string) => retired.push(reason), release: jest.fn() }),
      ),
    };
    sut = publisher();
  });

  afterEach(() => jest.useRealTimers());

  /** Sends and lets fake time run until every outcome is in. */
  async function sendAndWait(records: OutgoingRecord[], ms = 10_000): Promise<SendOutcome[]> {
    const result = sut.send(records);
    await jest.advanceTimersByTimeAsync(ms);
    return result;
  }

  it('counts as connected while one of its producers is: the others carry every partition meanwhile', () => {
    expect(publisher({}, [0, 1, 2, 3]).producerConnected).toBe(true);
    expect(publisher({}, [0, 1, 2, 3, 4]).producerConnected).toBe(false);
  });

  it("gives each record its partition's base offset plus its place in the batch, one produce request per partition", async () => {
    sendBatch.mockImplementation((batch) =>
      Promise.resolve(answer(partitionOf(batch), String(100 * (partitionOf(batch) + 1)))),
    );
    const first = sut.send([record(keyOn(0)), record(keyOn(1))]);
    // Added while partition 0's and 1's batches are in flight: they go in the next request of each.
    const second = sut.send([record(keyOn(1, 1)), record(keyOn(0, 1)), record(keyOn(0, 2))]);
    await jest.advanceTimersByTimeAsync(1);

    expect((await first).map((o) => o.status === 'acknowledged' && [o.ack.partition, o.ack.offset])).toEqual([
      [0, '100'],
      [1, '200'],
    ]);
    expect((await second).map((o) => o.status === 'acknowledged' && [o.ack.partition, o.ack.offset])).toEqual(
      [
        [1, '200'],
        [0, '100'],
        [0, '101'],
      ],
    );
    for (const [batch] of sendBatch.mock.calls) {
      expect(batch.topicMessages).toHaveLength(1);
      expect(new Set(batch.topicMessages![0]!.messages.map((m) => m.partition)).size).toBe(1);
      expect(batch.acks).toBe(-1);
    }
    // Partitions go independently (in no fixed order between them); within one, in the order records came.
    expect(
      sendBatch.mock.calls
        .map(([batch]) => `${partitionOf(batch)}:${batch.topicMessages![0]!.messages.length}`)
        .sort(),
    ).toEqual(['0:1', '0:2', '1:1', '1:1']);
  });

  it('sends the record as given: key, value, headers, partition and CreateTime', async () => {
    sendBatch.mockResolvedValue(answer(2, '0'));
    const key = keyOn(2);
    await sendAndWait([{ ...record(key), headers: { a: Buffer.from([0xff, 0]), r: ['1', '2'] } }]);

    expect(sendBatch.mock.calls[0]![0].topicMessages![0]!.messages[0]).toEqual({
      key,
      value: Buffer.from(`value of ${key}`),
      headers: { a: Buffer.from([0xff, 0]), r: ['1', '2'] },
      partition: 2,
      timestamp: '1700000000000',
    });
  });

  it('keeps offsets past 2^53 exact (they travel as strings)', async () => {
    sendBatch.mockResolvedValue(answer(0, '9007199254740993'));
    const [outcome] = await sendAndWait([record(keyOn(0))]);

    expect(outcome).toMatchObject({ status: 'acknowledged', ack: { offset: '9007199254740993' } });
  });

  it('a partition whose request hangs holds up only its own records', async () => {
    sendBatch.mockImplementation((batch) =>
      partitionOf(batch) === 0
        ? new Promise(() => undefined)
        : Promise.resolve(answer(partitionOf(batch), '5')),
    );
    const stuck = sut.send([record(keyOn(0))]);
    const others = sut.send([record(keyOn(1)), record(keyOn(2))]);
    await jest.advanceTimersByTimeAsync(1);

    expect((await others).map((o) => o.status)).toEqual(['acknowledged', 'acknowledged']);
    await jest.advanceTimersByTimeAsync(5000);
    expect(await stuck).toEqual([expect.objectContaining({ status: 'unknown' })]);
  });

  it('resends a batch lost in flight unchanged, on the same producer, and acknowledges it when the broker answers', async () => {
    const lost = exhausted(new KafkaJSConnectionError('Connection error: socket hang up'));
    sendBatch.mockRejectedValueOnce(lost).mockRejectedValueOnce(lost).mockResolvedValue(answer(1, '42'));
    const [outcome] = await sendAndWait([record(keyOn(1))]);

    expect(outcome).toMatchObject({ status: 'acknowledged', ack: { partition: 1, offset: '42' } });
    expect(sendBatch).toHaveBeenCalledTimes(3);
    const sent = sendBatch.mock.calls.map(([batch]) => batch.topicMessages);
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[2]).toEqual(sent[0]);
    expect(producers.lease).toHaveBeenCalledTimes(1);
    expect(retired).toEqual([]);
  });

  it("gives a batch that stays unanswered 'unknown' at the deadline and retires the producer (its sequence may disagree)", async () => {
    sendBatch.mockRejectedValue(exhausted(new KafkaJSConnectionError('connect ECONNREFUSED 127.0.0.1:9092')));
    const [outcome] = await sendAndWait([record(keyOn(0))]);

    expect(outcome).toMatchObject({ status: 'unknown', error: expect.any(KafkaSendError) });
    expect(retired).toHaveLength(1);
    // No resend starts in the last 500 ms before the 5 s deadline.
    expect(sendBatch.mock.calls.length).toBeGreaterThan(3);
  });

  it('rebuilds the producer when the broker rejects its sequence, and sends the batch once more on the new one', async () => {
    sendBatch
      .mockRejectedValueOnce(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', 45))
      .mockResolvedValue(answer(0, '7'));
    const [outcome] = await sendAndWait([record(keyOn(0))]);

    expect(outcome).toMatchObject({ status: 'acknowledged', ack: { offset: '7' } });
    expect(retired).toEqual([expect.stringContaining('OUT_OF_ORDER_SEQUENCE_NUMBER')]);
    expect(producers.lease).toHaveBeenCalledTimes(2);
  });

  it('sends a batch the broker refused as too large again record by record, so only the bad record fails', async () => {
    sendBatch.mockImplementation((batch) => {
      const messages = batch.topicMessages![0]!.messages;
      return messages.some((m) => String(m.value).includes('huge'))
        ? Promise.reject(protocolError('MESSAGE_TOO_LARGE', 10))
        : Promise.resolve(answer(0, '3'));
    });
    // The first goes alone; the next two queue behind it and go together.
    const outcomes = await sendAndWait([
      record(keyOn(0, 1)),
      record(keyOn(0, 2), 'huge'),
      record(keyOn(0, 3)),
    ]);

    expect(outcomes.map((o) => o.status)).toEqual(['acknowledged', 'not-sent', 'acknowledged']);
    expect(outcomes[1]).toMatchObject({ error: { kind: KafkaFailureKind.RecordTooLarge } });
  });

  it('resends a batch, unchanged, while a topic that existed is answered unknown (recreated, a broker behind), until it is back', async () => {
    sendBatch
      .mockRejectedValueOnce(unknownTopic())
      .mockRejectedValueOnce(unknownTopic())
      .mockResolvedValue(answer(0, '7'));
    await sendAndWait([record(keyOn(0, 1))]); // the topic is known: it had metadata
    sendBatch.mockClear();
    sendBatch
      .mockRejectedValueOnce(unknownTopic())
      .mockRejectedValueOnce(unknownTopic())
      .mockResolvedValue(answer(0, '8'));
    metadataError = protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3);
    const outcome = sut.send([record(keyOn(0, 2))]);
    await jest.advanceTimersByTimeAsync(250);
    metadataError = undefined;
    await jest.advanceTimersByTimeAsync(1000);

    expect(await outcome).toEqual([
      expect.objectContaining({ status: 'acknowledged', ack: expect.objectContaining({ offset: '8' }) }),
    ]);
    const sent = sendBatch.mock.calls.map(([batch]) => batch.topicMessages);
    expect(sent).toEqual([sent[0], sent[0], sent[0]]);
    expect(retired).toEqual([]);
  });

  it('answers not-sent at the deadline while a topic that existed stays unknown; unknown for 30 s, it is gone: at once', async () => {
    sendBatch.mockResolvedValueOnce(answer(0, '1'));
    await sendAndWait([record(keyOn(0, 1))]);
    sendBatch.mockRejectedValue(unknownTopic());
    metadataError = protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3);

    const [waited] = await sendAndWait([record(keyOn(0, 2))], 5000);
    expect(waited).toMatchObject({ status: 'not-sent', error: { kind: KafkaFailureKind.Retriable } });
    expect(sendBatch.mock.calls.length).toBeGreaterThan(3);
    expect(retired).toEqual([]);

    // A new send asks for metadata again: "unknown" from the first one on, for 31 s.
    await sendAndWait([record(keyOn(0, 3))], 31_000);
    const gone = sut.send([record(keyOn(0, 4))]);
    await jest.advanceTimersByTimeAsync(100);
    expect(await gone).toEqual([
      expect.objectContaining({
        status: 'not-sent',
        error: expect.objectContaining({ kind: KafkaFailureKind.UnknownTopic }),
      }),
    ]);
  });

  it('waits for a partition without a leader while the others go on, then answers not-sent at the deadline', async () => {
    leaders = [-1, 2, 3];
    sut = publisher();
    sendBatch.mockImplementation((batch) => Promise.resolve(answer(partitionOf(batch), '1')));
    const outcomes = sut.send([record(keyOn(0)), record(keyOn(1))]);
    await jest.advanceTimersByTimeAsync(6000);

    expect((await outcomes).map((o) => o.status)).toEqual(['not-sent', 'acknowledged']);
    expect(sendBatch.mock.calls.map(([batch]) => partitionOf(batch))).toEqual([1]);
  });

  it("tries 3 times, 1 s then 2 s apart, when no producer can connect (the Spring original's @Retryable), then answers not-sent", async () => {
    producers.lease.mockRejectedValue(kafkaUnreachable());
    sut = publisher({ SEND_TIMEOUT_MS: '10000' });
    const outcomes = sut.send([record(keyOn(0))]);
    await jest.advanceTimersByTimeAsync(2999);
    expect(producers.lease).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);

    expect(await outcomes).toEqual([expect.objectContaining({ status: 'not-sent' })]);
    expect(producers.lease).toHaveBeenCalledTimes(3);
    expect(sendBatch).not.toHaveBeenCalled();
  });

  it('never sends a record whose deadline passed while it waited in its queue', async () => {
    let release!: () => void;
    sendBatch.mockImplementationOnce(
      () => new Promise((resolve) => (release = () => resolve(answer(0, '1')))),
    );
    const first = sut.send([record(keyOn(0, 1))]);
    await jest.advanceTimersByTimeAsync(100);
    // The same key: it waits for the first record's answer, which comes after the deadline.
    const queued = sut.send([record(keyOn(0, 1), 'second')]);
    await jest.advanceTimersByTimeAsync(5000);
    expect(await queued).toEqual([expect.objectContaining({ status: 'not-sent' })]);
    release();
    await jest.advanceTimersByTimeAsync(1);

    expect(await first).toEqual([expect.objectContaining({ status: 'unknown' })]);
    expect(sendBatch).toHaveBeenCalledTimes(1);
  });

  it("resolves an 'unknown' answer's settled with the ack the broker gives after the deadline", async () => {
    let release!: () => void;
    sendBatch.mockImplementationOnce(
      () => new Promise((resolve) => (release = () => resolve(answer(1, '77')))),
    );
    const [outcome] = await sendAndWait([record(keyOn(1))], 5000);
    expect(outcome!.status).toBe('unknown');
    release();

    await expect(outcome!.status === 'unknown' && outcome!.settled).resolves.toMatchObject({ offset: '77' });
  });

  it('with several requests in flight per partition, a batch takes a free producer, and a key waits for its record in flight', async () => {
    sut = publisher({ KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION: '2' });
    const pending = holdBatches();
    const [first, other, third] = [keyOn(0, 1), keyOn(0, 2), keyOn(0, 3)];
    const sent = [sut.send([record(first)])];
    // Arrive while the first request is in flight, in one turn of the event loop.
    sent.push(sut.send([record(other), record(first, 'second')]), sut.send([record(third)]));
    await jest.advanceTimersByTimeAsync(0);

    // The other keys go together on the free producer; the first key's second record waits for its first.
    const keysOf = (call: number): unknown[] =>
      sendBatch.mock.calls[call]![0].topicMessages![0]!.messages.map((m) => m.key);
    expect(sendBatch).toHaveBeenCalledTimes(2);
    expect([keysOf(0), keysOf(1)]).toEqual([[first], [other, third]]);
    expect(sentOn).toEqual([0, 1]);

    pending.splice(0, 1).forEach((release) => release());
    await jest.advanceTimersByTimeAsync(2);
    expect(sendBatch).toHaveBeenCalledTimes(3);
    expect(sendBatch.mock.calls[2]![0].topicMessages![0]!.messages.map((m) => String(m.value))).toEqual([
      'second',
    ]);
    expect(sentOn[2]).toBe(0);
    pending.splice(0).forEach((release) => release());
    expect((await Promise.all(sent)).flat().map((o) => o.status)).toEqual([
      'acknowledged',
      'acknowledged',
      'acknowledged',
      'acknowledged',
    ]);
  });

  it('while records arrive faster than one per 2 ms, the next batch takes another producer 2 ms after the last; slower ones at once', async () => {
    sut = publisher({ KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION: '3' });
    const pending = holdBatches();
    const sent = [sut.send([record(keyOn(0, 1))])];
    await jest.advanceTimersByTimeAsync(1);
    sent.push(sut.send([record(keyOn(0, 2))])); // 1 ms after the first, but one record in 1 ms is no stream
    await jest.advanceTimersByTimeAsync(0);
    expect(sendBatch).toHaveBeenCalledTimes(2);
    pending.splice(0).forEach((release) => release());
    await jest.advanceTimersByTimeAsync(0);

    // A stream: 16 records 0.1 ms apart fill the three producers; what waits goes out when they are free.
    for (let n = 3; n < 19; n += 1) {
      sent.push(sut.send([record(keyOn(0, n))]));
      await jest.advanceTimersByTimeAsync(0.1);
    }
    pending.splice(0).forEach((release) => release());
    await jest.advanceTimersByTimeAsync(0);
    const before = sendBatch.mock.calls.length;
    // The next record finds that batch in flight and a producer free: it waits 2 ms after the batch.
    sent.push(sut.send([record(keyOn(0, 19))]));
    await jest.advanceTimersByTimeAsync(0);
    expect(sendBatch).toHaveBeenCalledTimes(before);
    await jest.advanceTimersByTimeAsync(2);
    expect(sendBatch).toHaveBeenCalledTimes(before + 1);
    pending.splice(0).forEach((release) => release());
    await jest.advanceTimersByTimeAsync(0);
    expect((await Promise.all(sent)).flat().every((o) => o.status === 'acknowledged')).toBe(true);
  });

  it('a producer that cannot connect (one node down) takes no batch while the others can: none of its records fails', async () => {
    sut = publisher({ KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION: '3' }, [0]);
    const pending = holdBatches();
    const sent = [sut.send([record(keyOn(0, 1))])];
    await jest.advanceTimersByTimeAsync(2);
    sent.push(sut.send([record(keyOn(0, 2))]));
    await jest.advanceTimersByTimeAsync(2);
    sent.push(sut.send([record(keyOn(0, 3))])); // both reachable lanes carry a batch: it waits for one
    await jest.advanceTimersByTimeAsync(2);
    expect(sentOn).toEqual([1, 2]);

    pending.splice(0).forEach((release) => release());
    await jest.advanceTimersByTimeAsync(2);
    expect(sentOn).toEqual([1, 2, 1]);
    pending.splice(0).forEach((release) => release());
    expect((await Promise.all(sent)).flat().map((o) => o.status)).toEqual([
      'acknowledged',
      'acknowledged',
      'acknowledged',
    ]);
  });

  it("a topic's first records wait for its metadata behind a producer that reaches Kafka, not the first one if it cannot", async () => {
    sut = publisher({ KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION: '2' }, [0]);
    sendBatch.mockImplementation((batch) => Promise.resolve(answer(partitionOf(batch), '5')));
    let outcomes: SendOutcome[] = [];
    void sut.send([record(keyOn(2))]).then((settled) => (outcomes = settled));
    await jest.advanceTimersByTimeAsync(10); // no retry after a second: at once

    expect(outcomes).toEqual([expect.objectContaining({ status: 'acknowledged' })]);
    expect(sentOn).toEqual([1]);
  });

  it('with one request in flight per partition, what arrives meanwhile waits and goes out next, in order', async () => {
    sut = publisher({ KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION: '1' });
    const pending = holdBatches();
    const sent = [sut.send([record(keyOn(0, 1))])];
    sent.push(sut.send([record(keyOn(0, 2)), record(keyOn(0, 3))]));
    await jest.advanceTimersByTimeAsync(1);
    expect(sendBatch).toHaveBeenCalledTimes(1);

    pending.splice(0).forEach((release) => release());
    await jest.advanceTimersByTimeAsync(1);
    expect(sendBatch.mock.calls[1]![0].topicMessages![0]!.messages.map((m) => m.key)).toEqual([
      keyOn(0, 2),
      keyOn(0, 3),
    ]);
    pending.splice(0).forEach((release) => release());
    expect((await Promise.all(sent)).flat()).toHaveLength(3);
  });

  it("sends every partition of a topic on one broker in one request, and after a failure each partition's part alone, unchanged", async () => {
    replicas = [[1], [1], [1]];
    sut = publisher({ KAFKA_PRODUCER_LINGER_MS: '5' });
    const lost = exhausted(new KafkaJSConnectionError('Connection error: socket hang up'));
    sendBatch
      .mockRejectedValueOnce(lost)
      .mockImplementation((batch) =>
        Promise.resolve(answer(partitionOf(batch), String(10 * partitionOf(batch)))),
      );
    const outcomes = await sendAndWait([record(keyOn(0)), record(keyOn(1)), record(keyOn(0, 1))]);

    const partitionsPerRequest = sendBatch.mock.calls.map(([batch]) =>
      batch.topicMessages![0]!.messages.map((m) => m.partition),
    );
    expect(partitionsPerRequest).toEqual([[0, 1, 0], [0, 0], [1]]);
    expect(sendBatch.mock.calls[1]![0].topicMessages![0]!.messages).toEqual(
      sendBatch.mock.calls[0]![0].topicMessages![0]!.messages.filter((m) => m.partition === 0),
    );
    expect(outcomes.map((o) => o.status === 'acknowledged' && `${o.ack.partition}@${o.ack.offset}`)).toEqual([
      '0@0',
      '1@10',
      '0@1',
    ]);
  });
});
