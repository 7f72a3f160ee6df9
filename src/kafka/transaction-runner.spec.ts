import { Logger } from '@nestjs/common';
import { CompressionTypes, RecordMetadata } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { OutgoingRecord, SendOutcome } from './records';
import { SendPolicy } from './send-policy';
import { SupervisedProducer } from './supervised-producer';
import { TransactionRunner } from './transaction-runner';

/** A record for partition `partition` of topic t (the runner is told each record's partition). */
const record = (partition: number): OutgoingRecord => ({
  topic: 't',
  key: String(partition),
  value: Buffer.from(`value ${partition}`),
  headers: {},
  timestamp: 1_700_000_000_000,
});

describe(TransactionRunner.name, () => {
  /** What each transaction did, in order: "send", "commit", "abort", "replace". */
  let steps: string[];

  /**
   * A pool producer whose transactions kafkajs answers with `answer` (after `ms`); each step is recorded as
   * "name step".
   */
  function producer(
    name: string,
    answer: RecordMetadata[],
    state: { isConnected: boolean; isUnreachable: boolean } = { isConnected: true, isUnreachable: false },
    ms = 0,
  ) {
    const step = (what: string) => () => {
      steps.push(`${name} ${what}`);
      return Promise.resolve();
    };
    const transaction = {
      sendBatch: async () => {
        steps.push(`${name} send`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        return answer;
      },
      commit: step('commit'),
      abort: step('abort'),
    };
    return {
      ...state,
      get: () => Promise.resolve({ transaction: () => Promise.resolve(transaction) }),
      replace: step('replace'),
    } as unknown as SupervisedProducer;
  }

  /** Runs batches of records for partitions 0 and 1 on `pool` (its first producer is used first). */
  async function run(pool: SupervisedProducer[], batches = 1): Promise<SendOutcome[]> {
    const config = new AppConfig(validateEnvironment({ SEND_TIMEOUT_MS: '5000' }));
    const runner = new TransactionRunner(
      pool,
      new SendPolicy(config),
      CompressionTypes.None,
      (r) => Promise.resolve(Number(r.key)),
      () => true,
    );
    const outcomes = Promise.all(Array.from({ length: batches }, () => runner.run([record(0), record(1)])));
    await jest.advanceTimersByTimeAsync(10_000);
    return (await outcomes).flat();
  }

  const bothAcknowledged: RecordMetadata[] = [
    { topicName: 't', partition: 0, errorCode: 0, baseOffset: '7' },
    { topicName: 't', partition: 1, errorCode: 0, baseOffset: '4' },
  ];

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(() => {
    jest.useFakeTimers();
    steps = [];
  });
  afterEach(() => jest.useRealTimers());

  it("commits once every partition's records are acknowledged, each record at its partition's offset", async () => {
    const outcomes = await run([producer('p', bothAcknowledged)]);

    expect(steps).toEqual(['p send', 'p commit']);
    expect(outcomes.map((o) => (o.status === 'acknowledged' ? o.ack.offset : o.status))).toEqual(['7', '4']);
  });

  it("aborts, never commits, and acknowledges nothing when kafkajs' answer lacks a partition (records the broker did not take)", async () => {
    const outcomes = await run([
      producer('p', [{ topicName: 't', partition: 1, errorCode: 0, baseOffset: '4' }]),
    ]);

    expect(steps).not.toContain('p commit');
    expect(steps.slice(0, 3)).toEqual(['p send', 'p abort', 'p replace']);
    expect(outcomes.map((o) => o.status)).toEqual(['not-sent', 'not-sent']);
    expect(outcomes.map((o) => (o.status === 'not-sent' ? o.error.errorClass : ''))).toEqual([
      'MissingAck',
      'MissingAck',
    ]);
  });

  it('gives a batch to a connected producer before one reconnecting (replaced, its transactional id held by the coordinator) or unreachable', async () => {
    const pool = [
      producer('reconnecting', bothAcknowledged, { isConnected: false, isUnreachable: false }),
      producer('unreachable', bothAcknowledged, { isConnected: false, isUnreachable: true }),
      producer('connected', bothAcknowledged),
    ];
    await run(pool);
    expect(steps).toEqual(['connected send', 'connected commit']);

    steps = [];
    await run([pool[1]!, pool[0]!]);
    expect(steps).toEqual(['reconnecting send', 'reconnecting commit']);
  });

  it('lets a batch wait for a busy connected producer rather than take one known unreachable', async () => {
    const outcomes = await run(
      [
        producer('connected', bothAcknowledged, { isConnected: true, isUnreachable: false }, 100),
        producer('unreachable', bothAcknowledged, { isConnected: false, isUnreachable: true }),
      ],
      2,
    );

    expect(steps).toEqual(['connected send', 'connected commit', 'connected send', 'connected commit']);
    expect(outcomes.map((o) => o.status)).toEqual([
      'acknowledged',
      'acknowledged',
      'acknowledged',
      'acknowledged',
    ]);
  });
});
