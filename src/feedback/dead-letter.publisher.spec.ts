import { Logger } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { KafkaSendError, KafkaFailureKind } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { KafkaPublisher } from '../kafka/kafka-publisher';
import { PartitionResolver } from '../kafka/partition-resolver';
import { OutgoingRecord, SendOutcome } from '../kafka/records';
import { DeadLetterPublisher, DLT_HEADERS } from './dead-letter.publisher';
import { FeedbackFailureKind, FeedbackRejectedError } from './feedback-errors';
import { FeedbackRecord } from './feedback-record';

const config = {
  feedback: {
    topic: 'feedback-topic',
    groupId: 'app-consumer-group',
    deadLetterTopic: { name: 'feedback-topic.DLT', partitions: 3, replicationFactor: 1, configs: {} },
  },
} as unknown as AppConfig;

const original: FeedbackRecord = {
  topic: 'feedback-topic',
  partition: 2,
  offset: '17',
  key: Buffer.from([0x00, 0xff, 0x0a]),
  value: null,
  headers: {
    repeated: [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')],
    binary: Buffer.from([0xc3, 0x28, 0x00]),
    'kafka_dlt-error-kind': Buffer.from('Forged'),
    'kafka_dlt-exception-stacktrace': Buffer.from('forged trace'),
  },
  timestamp: '1700000000000',
};

describe(DeadLetterPublisher.name, () => {
  let sent: OutgoingRecord[];
  let outcome: SendOutcome;
  let dltPartitions: number;
  let sut: DeadLetterPublisher;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    sent = [];
    dltPartitions = 3;
    outcome = {
      status: 'acknowledged',
      ack: { topic: 'feedback-topic.DLT', partition: 2, offset: '0', timestamp: 0 },
    };
    const publisher = {
      send: jest.fn((records: OutgoingRecord[]) => {
        sent.push(...records);
        return Promise.resolve([outcome]);
      }),
    } as unknown as KafkaPublisher;
    const partitions = {
      partitionsFor: jest.fn(() =>
        Promise.resolve(Array.from({ length: dltPartitions }, (_, id) => ({ partitionId: id }))),
      ),
    } as unknown as PartitionResolver;
    const counter = new Counter({
      name: 'dlt_spec_total',
      help: 'h',
      labelNames: ['topic', 'error'],
      registers: [new Registry()],
    });
    sut = new DeadLetterPublisher(publisher, partitions, config, counter);
  });

  const refusal = new FeedbackRejectedError(FeedbackFailureKind.NotJson, 'the record has no value');

  it('writes the original key and value bytes, a null value staying null, to the original partition number', async () => {
    await sut.publish(original, FeedbackFailureKind.NotJson, refusal, 1);

    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      topic: 'feedback-topic.DLT',
      key: Buffer.from([0x00, 0xff, 0x0a]),
      value: null,
      partition: 2,
    });
  });

  it('keeps every original header with its bytes, repeated ones in order, and sets the kafka_dlt-* headers itself', async () => {
    await sut.publish(original, FeedbackFailureKind.NotJson, refusal, 1);

    expect(sent[0]?.headers).toEqual({
      repeated: [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')],
      binary: Buffer.from([0xc3, 0x28, 0x00]),
      [DLT_HEADERS.originalTopic]: 'feedback-topic',
      [DLT_HEADERS.originalPartition]: '2',
      [DLT_HEADERS.originalOffset]: '17',
      [DLT_HEADERS.originalTimestamp]: '1700000000000',
      [DLT_HEADERS.originalConsumerGroup]: 'app-consumer-group',
      [DLT_HEADERS.exceptionClass]: 'FeedbackRejectedError',
      [DLT_HEADERS.exceptionMessage]: 'the record has no value',
      [DLT_HEADERS.errorKind]: 'NotJson',
      [DLT_HEADERS.attempts]: '1',
    });
  });

  it('replaces a forged kafka_dlt-* header with its own, and never passes one it does not set', async () => {
    await sut.publish(original, FeedbackFailureKind.NotJson, refusal, 1);

    const names = Object.keys(sent[0]!.headers).filter((name) => name.startsWith('kafka_dlt-'));
    expect(sent[0]?.headers[DLT_HEADERS.errorKind]).toBe('NotJson');
    expect(names).not.toContain(DLT_HEADERS.exceptionStacktrace);
  });

  it('sends a record without a key to its partition number modulo the partition count when the DLT has fewer', async () => {
    dltPartitions = 2;

    await sut.publish({ ...original, key: null, partition: 3 }, FeedbackFailureKind.NotJson, refusal, 1);
    await sut.publish({ ...original, key: null, partition: 1 }, FeedbackFailureKind.NotJson, refusal, 1);

    expect(sent.map((r) => [r.key, r.partition])).toEqual([
      [null, 1],
      [null, 1],
    ]);
  });

  it('rejects with the send error when the broker did not acknowledge the dead letter', async () => {
    const failure = new KafkaSendError(KafkaFailureKind.Unreachable, 'the broker is down', 'Unreachable');
    outcome = { status: 'not-sent', error: failure };

    await expect(sut.publish(original, FeedbackFailureKind.NotJson, refusal, 1)).rejects.toBe(failure);
  });
});
