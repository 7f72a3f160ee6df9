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

  /** Runs a batch of records for partitions 0 and 1 whose produce requests kafkajs answers with `answer`. */
  async function run(answer: RecordMetadata[]): Promise<SendOutcome[]> {
    const step = (name: string) => () => {
      steps.push(name);
      return Promise.resolve();
    };
    const transaction = {
      sendBatch: () => {
        steps.push('send');
        return Promise.resolve(answer);
      },
      commit: step('commit'),
      abort: step('abort'),
    };
    const supervised = {
      get: () => Promise.resolve({ transaction: () => Promise.resolve(transaction) }),
      replace: step('replace'),
    };
    const config = new AppConfig(validateEnvironment({ SEND_TIMEOUT_MS: '5000' }));
    const runner = new TransactionRunner(
      [supervised as unknown as SupervisedProducer],
      new SendPolicy(config),
      CompressionTypes.None,
      (r) => Promise.resolve(Number(r.key)),
      () => true,
    );
    const outcomes = runner.run([record(0), record(1)]);
    await jest.advanceTimersByTimeAsync(10_000);
    return outcomes;
  }

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(() => {
    jest.useFakeTimers();
    steps = [];
  });
  afterEach(() => jest.useRealTimers());

  it("commits once every partition's records are acknowledged, each record at its partition's offset", async () => {
    const outcomes = await run([
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '7' },
      { topicName: 't', partition: 1, errorCode: 0, baseOffset: '4' },
    ]);

    expect(steps).toEqual(['send', 'commit']);
    expect(outcomes.map((o) => (o.status === 'acknowledged' ? o.ack.offset : o.status))).toEqual(['7', '4']);
  });

  it("aborts, never commits, and acknowledges nothing when kafkajs' answer lacks a partition (records the broker did not take)", async () => {
    const outcomes = await run([{ topicName: 't', partition: 1, errorCode: 0, baseOffset: '4' }]);

    expect(steps).not.toContain('commit');
    expect(steps.slice(0, 3)).toEqual(['send', 'abort', 'replace']);
    expect(outcomes.map((o) => o.status)).toEqual(['not-sent', 'not-sent']);
    expect(outcomes.map((o) => (o.status === 'not-sent' ? o.error.errorClass : ''))).toEqual([
      'MissingAck',
      'MissingAck',
    ]);
  });
});
