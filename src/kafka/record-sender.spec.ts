import {
  Admin,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  Producer,
  ProducerBatch,
  RecordMetadata,
  TopicMessages,
} from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { PartitionResolver } from './partition-resolver';
import { AddressedRecord, OutgoingRecord, RecordSender, SendTicket } from './record-sender';
import { SupervisedProducer } from './supervised-producer';

const TOPIC = 'orders';
const PARTITIONS = 3;

/** A broker's produce answer: the base offset it gave each partition's batch. */
const answer = (baseOffsets: Record<number, string>): RecordMetadata[] =>
  Object.entries(baseOffsets).map(([partition, baseOffset]) => ({
    topicName: TOPIC,
    partition: Number(partition),
    errorCode: 0,
    baseOffset,
  }));

/** Records bound for TOPIC, as sendAtomically takes them. */
const addressed = (records: OutgoingRecord[]): AddressedRecord[] =>
  records.map((one) => ({ topic: TOPIC, record: one }));

const record = (key: string, ticket?: SendTicket): OutgoingRecord => ({
  key,
  value: Buffer.from(`value of ${key}`),
  headers: { 'x-request-id': key },
  timestamp: 1_700_000_000_000,
  ticket,
});

/** The SupervisedProducer boundary: hands out the fake kafkajs producer and records what the sender asked of it. */
function supervised(producer: Partial<Producer>): jest.Mocked<SupervisedProducer> {
  return {
    name: 'fake',
    isConnected: true,
    get: jest.fn().mockResolvedValue(producer),
    replace: jest.fn().mockResolvedValue(undefined),
    close: jest.fn().mockResolvedValue(undefined),
  } as unknown as jest.Mocked<SupervisedProducer>;
}

describe(RecordSender.name, () => {
  let admin: { fetchTopicMetadata: jest.Mock };
  let partitions: PartitionResolver;
  let sendBatch: jest.Mock<Promise<RecordMetadata[]>, [ProducerBatch]>;
  let producer: jest.Mocked<SupervisedProducer>;
  let sut: RecordSender;

  /** Keys, one per partition of TOPIC, in partition order (found with the real partitioner). */
  function keysByPartition(): string[] {
    const metadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
      partitionErrorCode: 0,
    }));
    const keys: string[] = [];
    for (let i = 0; keys.length < PARTITIONS; i++) {
      const key = `k-${i}`;
      if (partitions.partitionOf(metadata, key) === keys.length) {
        keys.push(key);
      }
    }
    return keys;
  }

  /** The kafkajs messages of the one produce request made so far. */
  const sentMessages = (call = 0): TopicMessages['messages'] =>
    sendBatch.mock.calls[call]![0].topicMessages![0]!.messages;

  beforeEach(() => {
    admin = {
      fetchTopicMetadata: jest.fn().mockResolvedValue({
        topics: [
          {
            name: TOPIC,
            partitions: Array.from({ length: PARTITIONS }, (_, partitionId) => ({
              partitionId,
              leader: 1,
              replicas: [1],
              isr: [1],
              partitionErrorCode: 0,
            })),
          },
        ],
      }),
    };
    partitions = new PartitionResolver(admin as unknown as Admin);
    sendBatch = jest.fn();
    producer = supervised({ sendBatch });
    sut = new RecordSender(producer, [], partitions, new AppConfig(validateEnvironment({})));
  });

  describe('send', () => {
    it("gives each record its partition's base offset plus its place among that partition's records, in the caller's order", async () => {
      const [p0, p1, p2] = keysByPartition() as [string, string, string];
      sendBatch.mockResolvedValue(answer({ 0: '100', 1: '7', 2: '0' }));

      const acks = await sut.send(TOPIC, [
        record(p1),
        record(p0),
        record(p1),
        record(p2),
        record(p0),
        record(p1),
      ]);

      expect(acks.map((ack) => [ack?.partition, ack?.offset])).toEqual([
        [1, '7'],
        [0, '100'],
        [1, '8'],
        [2, '0'],
        [0, '101'],
        [1, '9'],
      ]);
      expect(acks.every((ack) => ack?.topic === TOPIC && ack.timestamp === 1_700_000_000_000)).toBe(true);
    });

    it('sends one acks=all request whose messages carry the chosen partition, key, value, headers and CreateTime', async () => {
      const [p0, p1] = keysByPartition() as [string, string];
      sendBatch.mockResolvedValue(answer({ 0: '5', 1: '6' }));

      await sut.send(TOPIC, [record(p1), record(p0)]);

      expect(sendBatch).toHaveBeenCalledTimes(1);
      expect(sendBatch.mock.calls[0]![0]).toMatchObject({ acks: -1 });
      expect(sentMessages()).toEqual([
        {
          key: p1,
          value: Buffer.from(`value of ${p1}`),
          headers: { 'x-request-id': p1 },
          partition: 1,
          timestamp: '1700000000000',
        },
        {
          key: p0,
          value: Buffer.from(`value of ${p0}`),
          headers: { 'x-request-id': p0 },
          partition: 0,
          timestamp: '1700000000000',
        },
      ]);
    });

    it('keeps offsets past 2^53 exact (they travel as strings)', async () => {
      const [p0] = keysByPartition() as [string];
      sendBatch.mockResolvedValue(answer({ 0: '9007199254740993' }));

      const acks = await sut.send(TOPIC, [record(p0), record(p0)]);

      expect(acks.map((ack) => ack?.offset)).toEqual(['9007199254740993', '9007199254740994']);
    });

    it('leaves out the records whose callers stopped waiting, gives them no ack, and counts only the sent ones', async () => {
      const [p0] = keysByPartition() as [string];
      const gaveUp = Object.assign(new SendTicket(), { cancelled: true });
      const waiting = [new SendTicket(), new SendTicket()] as const;
      sendBatch.mockResolvedValue(answer({ 0: '20' }));

      const acks = await sut.send(TOPIC, [
        record(p0, gaveUp),
        record(p0, waiting[0]),
        record(p0, gaveUp),
        record(p0, waiting[1]),
      ]);

      expect(acks.map((ack) => ack?.offset)).toEqual([undefined, '20', undefined, '21']);
      expect(sentMessages()).toHaveLength(2);
      expect(waiting.map((ticket) => ticket.handedOver)).toEqual([true, true]);
      expect(gaveUp.handedOver).toBe(false);
    });

    it('makes no request at all when every caller stopped waiting', async () => {
      const [p0] = keysByPartition() as [string];
      const gaveUp = Object.assign(new SendTicket(), { cancelled: true });

      await expect(sut.send(TOPIC, [record(p0, gaveUp), record(p0, gaveUp)])).resolves.toEqual([
        undefined,
        undefined,
      ]);
      expect(sendBatch).not.toHaveBeenCalled();
    });

    it('fails the send when the broker acknowledged no offset for a partition it was sent to', async () => {
      const [p0, p1] = keysByPartition() as [string, string];
      sendBatch.mockResolvedValue(answer({ 0: '3', 1: '-1' }));

      await expect(sut.send(TOPIC, [record(p0), record(p1)])).rejects.toThrow(
        `the broker acknowledged no offset for ${TOPIC}-1`,
      );
    });

    it('resends a failed batch unchanged (same producer, same records) until the deadline nears, then fails typed', async () => {
      const [p0] = keysByPartition() as [string];
      sendBatch.mockRejectedValue(
        new KafkaSendError(KafkaFailureKind.Retriable, 'leader moved', 'NOT_LEADER_OR_FOLLOWER'),
      );
      const ticket = Object.assign(new SendTicket(), { deadline: Date.now() + 1500 });

      await expect(sut.send(TOPIC, [record(p0, ticket)])).rejects.toMatchObject({
        kind: KafkaFailureKind.Retriable,
      });
      expect(sendBatch.mock.calls.length).toBeGreaterThanOrEqual(2);
      const [first, ...resent] = sendBatch.mock.calls.map(([batch]) => batch.topicMessages);
      for (const again of resent) {
        expect(again).toEqual(first);
      }
      expect(producer.replace).not.toHaveBeenCalled();
    });

    it("takes a batch given up after a refused connection as maybe written (kafkajs' hidden first attempt may have been appended): its caller hears 'outcome unknown', and the next send gets a new producer id first", async () => {
      const [p0] = keysByPartition() as [string];
      // What kafkajs throws when its own resend found the broker gone: only the last attempt's error, while
      // the first attempt's connection may have closed after the broker appended the batch.
      const refused = new KafkaJSNumberOfRetriesExceeded(
        new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
        { retryCount: 1, retryTime: 300 },
      );
      sendBatch.mockRejectedValue(refused);
      const ticket = Object.assign(new SendTicket(), { deadline: Date.now() + 700 });

      await expect(sut.send(TOPIC, [record(p0, ticket)])).rejects.toMatchObject({
        kind: KafkaFailureKind.Retriable,
        brokerAnswered: false,
      });
      expect(ticket.maybeWritten).toBe(true);
      expect(producer.replace).not.toHaveBeenCalled();

      // Another batch of the same size would take the same sequence numbers, and the broker would answer it
      // with the first batch's offset without writing it: the producer is rebuilt before it goes out.
      sendBatch.mockReset().mockResolvedValueOnce(answer({ 0: '8' }));
      const [ack] = await sut.send(TOPIC, [record(p0)]);

      expect(producer.replace).toHaveBeenCalledTimes(1);
      expect(producer.replace.mock.invocationCallOrder[0]).toBeLessThan(
        sendBatch.mock.invocationCallOrder[0]!,
      );
      expect(ack).toMatchObject({ partition: 0, offset: '8' });
    });

    it('rebuilds the producer when the broker rejects its sequence, and sends the batch once more on the new one', async () => {
      const [p0] = keysByPartition() as [string];
      sendBatch
        .mockRejectedValueOnce(
          new KafkaSendError(KafkaFailureKind.Fatal, 'out of order', 'OUT_OF_ORDER_SEQUENCE_NUMBER'),
        )
        .mockResolvedValueOnce(answer({ 0: '5' }));

      const [ack] = await sut.send(TOPIC, [record(p0)]);

      expect(producer.replace).toHaveBeenCalledWith(
        "the broker rejected the producer's state (OUT_OF_ORDER_SEQUENCE_NUMBER)",
      );
      expect(sendBatch).toHaveBeenCalledTimes(2);
      expect(ack).toMatchObject({ partition: 0, offset: '5' });
    });

    it('forgets the partition count of a topic the broker no longer knows, and asks again on the next send', async () => {
      const [p0] = keysByPartition() as [string];
      sendBatch.mockRejectedValueOnce(
        new KafkaSendError(KafkaFailureKind.UnknownTopic, 'unknown topic', 'UNKNOWN_TOPIC_OR_PARTITION'),
      );
      sendBatch.mockResolvedValueOnce(answer({ 0: '1' }));

      await expect(sut.send(TOPIC, [record(p0)])).rejects.toMatchObject({
        kind: KafkaFailureKind.UnknownTopic,
      });
      await sut.send(TOPIC, [record(p0)]);

      expect(admin.fetchTopicMetadata).toHaveBeenCalledTimes(2);
    });
  });

  describe('sendAtomically', () => {
    let transaction: { sendBatch: jest.Mock; commit: jest.Mock; abort: jest.Mock };
    let transactional: jest.Mocked<SupervisedProducer>;

    beforeEach(() => {
      transaction = {
        sendBatch: jest.fn(),
        commit: jest.fn().mockResolvedValue(undefined),
        abort: jest.fn().mockResolvedValue(undefined),
      };
      transactional = supervised({ transaction: jest.fn().mockResolvedValue(transaction) });
      sut = new RecordSender(producer, [transactional], partitions, new AppConfig(validateEnvironment({})));
    });

    it("maps the committed transaction's base offsets back to every record, in order", async () => {
      const [p0, p1] = keysByPartition() as [string, string];
      transaction.sendBatch.mockResolvedValue(answer({ 0: '40', 1: '2' }));

      const acks = await sut.sendAtomically(addressed([record(p0), record(p1), record(p0)]));

      expect(acks.map((ack) => [ack.partition, ack.offset])).toEqual([
        [0, '40'],
        [1, '2'],
        [0, '41'],
      ]);
      expect(transaction.sendBatch).toHaveBeenCalledTimes(1);
      expect(transaction.sendBatch.mock.calls[0]![0]).toMatchObject({
        topicMessages: [{ topic: TOPIC }],
        acks: -1,
      });
      expect(transaction.commit).toHaveBeenCalledTimes(1);
    });

    it('aborts the transaction and rebuilds the producer when the send fails, and commits nothing', async () => {
      const [p0] = keysByPartition() as [string];
      transaction.sendBatch.mockRejectedValue(
        new KafkaSendError(KafkaFailureKind.Retriable, 'timeout', 'KafkaJSRequestTimeoutError'),
      );

      await expect(sut.sendAtomically(addressed([record(p0)]))).rejects.toMatchObject({
        kind: KafkaFailureKind.Retriable,
      });
      expect(transaction.abort).toHaveBeenCalledTimes(1);
      expect(transaction.commit).not.toHaveBeenCalled();
      expect(transactional.replace).toHaveBeenCalledWith(
        'a transaction was aborted (KafkaJSRequestTimeoutError)',
      );
    });

    it('sends nothing when the caller stopped waiting before the transaction began', async () => {
      const [p0] = keysByPartition() as [string];
      const gaveUp = Object.assign(new SendTicket(), { cancelled: true });

      await expect(sut.sendAtomically(addressed([record(p0), record(p0, gaveUp)]))).rejects.toMatchObject({
        kind: KafkaFailureKind.Unreachable,
        errorClass: 'SendCancelled',
      });
      expect(transaction.sendBatch).not.toHaveBeenCalled();
    });

    it("connects only the pool's first producer at start; another one connects when batches overlap", async () => {
      const [p0] = keysByPartition() as [string];
      const second = supervised({ transaction: jest.fn().mockResolvedValue(transaction) });
      const third = supervised({ transaction: jest.fn().mockResolvedValue(transaction) });
      sut = new RecordSender(
        producer,
        [transactional, second, third],
        partitions,
        new AppConfig(validateEnvironment({})),
      );
      sut.onApplicationBootstrap();
      expect(producer.get).toHaveBeenCalled();
      expect(transactional.get).toHaveBeenCalledTimes(1);
      expect(second.get).not.toHaveBeenCalled();

      let finishFirst!: (metadata: RecordMetadata[]) => void;
      transaction.sendBatch
        .mockImplementationOnce(() => new Promise((resolve) => (finishFirst = resolve)))
        .mockResolvedValueOnce(answer({ 0: '11' }));
      const first = sut.sendAtomically(addressed([record(p0)]));
      await new Promise((resolve) => setImmediate(resolve));
      expect(transactional.get).toHaveBeenCalledTimes(2);
      expect(second.get).not.toHaveBeenCalled();

      await expect(sut.sendAtomically(addressed([record(p0)]))).resolves.toMatchObject([{ offset: '11' }]);
      expect(second.get).toHaveBeenCalledTimes(1);
      expect(third.get).not.toHaveBeenCalled();
      finishFirst(answer({ 0: '10' }));
      await expect(first).resolves.toMatchObject([{ offset: '10' }]);
    });

    it('runs one transaction per pooled producer at a time; the next batch waits for it to finish', async () => {
      const [p0] = keysByPartition() as [string];
      let finishFirst!: (metadata: RecordMetadata[]) => void;
      transaction.sendBatch
        .mockImplementationOnce(() => new Promise((resolve) => (finishFirst = resolve)))
        .mockResolvedValueOnce(answer({ 0: '11' }));

      const first = sut.sendAtomically(addressed([record(p0)]));
      const second = sut.sendAtomically(addressed([record(p0)]));
      await new Promise((resolve) => setImmediate(resolve));
      expect(transaction.sendBatch).toHaveBeenCalledTimes(1);

      finishFirst(answer({ 0: '10' }));
      await expect(first).resolves.toMatchObject([{ offset: '10' }]);
      await expect(second).resolves.toMatchObject([{ offset: '11' }]);
      expect(transaction.sendBatch).toHaveBeenCalledTimes(2);
    });
  });
});
