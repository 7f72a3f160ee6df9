import { Logger } from '@nestjs/common';
import { CompressionTypes, Message, Producer } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { DeadlineQueue } from './deadline-queue';
import { classifyKafkaError, missingAck } from './kafka-errors';
import { OutgoingRecord, RecordAck, SendOutcome } from './records';
import { retriableBeforeRequest, SendPolicy, sleep } from './send-policy';
import { SupervisedProducer } from './supervised-producer';

/** A failed transaction, and whether its commit may have gone through (its answer was lost). */
class TransactionFailure {
  constructor(
    readonly error: KafkaSendError,
    readonly maybeCommitted: boolean,
  ) {}
}

/**
 * Atomic batches: all records in one Kafka transaction, across one topic or several, so a read_committed
 * consumer sees all of them or none. Transactions run side by side, one per producer of the pool
 * (KAFKA_TRANSACTION_POOL_SIZE); more wait for a free producer. Every record of a transaction gets the same
 * kind of outcome; a transaction that failed before its commit is run again whole (send-policy.ts).
 */
export class TransactionRunner {
  private readonly logger = new Logger(TransactionRunner.name);
  /** Producers not running a transaction (handed out last in, first out), and the callers waiting for one. */
  private readonly idle: SupervisedProducer[];
  private readonly waiting: ((producer: SupervisedProducer) => void)[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly deadlines: DeadlineQueue;

  constructor(
    private readonly pool: SupervisedProducer[],
    private readonly policy: SendPolicy,
    private readonly compression: CompressionTypes,
    /** Each record's partition, as the idempotent path picks it (metadata may be looked up). */
    private readonly partitionOf: (record: OutgoingRecord) => Promise<number>,
    /** Whether a topic existed a moment ago (its "unknown" answers are then not final, send-policy.ts). */
    private readonly knows: (topic: string) => boolean,
  ) {
    // The pool's first producer first: the others are only ever used (and connected) when batches overlap.
    this.idle = [...pool].reverse();
    this.deadlines = new DeadlineQueue(policy.deadlineMs);
  }

  /** Connects the pool's first producer in the background (the others connect when first needed). */
  warmUp(): Promise<unknown> {
    return this.pool[0]?.get() ?? Promise.resolve();
  }

  /** Runs the records as one transaction; answers at the deadline at the latest. */
  run(records: OutgoingRecord[]): Promise<SendOutcome[]> {
    const deadline = Date.now() + this.policy.deadlineMs;
    let begun = false;
    let answered = false;
    let late: ((acks: RecordAck[] | undefined) => void) | undefined;
    return new Promise<SendOutcome[]>((resolve) => {
      const entry = this.deadlines.start(() => {
        const error = new KafkaSendError(
          KafkaFailureKind.Retriable,
          `the transaction did not complete within ${this.policy.deadlineMs} ms`,
          'SendTimeout',
        );
        answered = true;
        if (!begun) {
          resolve(records.map(() => ({ status: 'not-sent', error })));
          return;
        }
        const settled = new Promise<RecordAck[] | undefined>((r) => (late = r));
        resolve(records.map((_, i) => ({ status: 'unknown', error, settled: settled.then((a) => a?.[i]) })));
      });
      // A transaction begins only while its caller waits: one told "not sent" at the deadline never begins.
      const begin = (): boolean => !answered && (begun = true);
      const run = this.attempts(records, deadline, begin).then((result) => {
        if (!this.deadlines.settle(entry)) {
          late?.(Array.isArray(result) ? result : undefined);
          return;
        }
        if (Array.isArray(result)) {
          resolve(result.map((ack) => ({ status: 'acknowledged', ack })));
        } else if (result.maybeCommitted) {
          const settled = Promise.resolve(undefined);
          resolve(records.map(() => ({ status: 'unknown', error: result.error, settled })));
        } else {
          resolve(records.map(() => ({ status: 'not-sent', error: result.error })));
        }
      });
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    });
  }

  /** Waits for every running transaction (graceful shutdown), then disconnects the pool. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
    await Promise.all(this.pool.map((producer) => producer.close()));
  }

  /**
   * An idle producer, the last one used first, but a connected one before one that is not; one known
   * unreachable only when no producer of the pool is connected (undefined: wait for one to be released).
   * A producer replaced after a failed transaction reconnects with the same transactional id, and the
   * coordinator holds that id while its last transaction's markers wait for a partition leader that stopped
   * answering (in the failover tests, until that node ran again): it fails to reconnect meanwhile, and a
   * batch given to it would only fail and wait for its next attempt.
   */
  private takeIdle(): SupervisedProducer | undefined {
    let i = this.idle.findLastIndex((producer) => producer.isConnected);
    if (i < 0) {
      i = this.idle.findLastIndex((producer) => !producer.isUnreachable);
    }
    if (i < 0 && this.pool.some((producer) => producer.isConnected)) {
      return undefined;
    }
    return this.idle.splice(i < 0 ? this.idle.length - 1 : i, 1)[0];
  }

  /** The transaction, run again while it failed before its commit and the policy allows another attempt. */
  private async attempts(
    records: OutgoingRecord[],
    deadline: number,
    begin: () => boolean,
  ): Promise<RecordAck[] | TransactionFailure> {
    for (let attempt = 1; ; attempt += 1) {
      const producer =
        this.takeIdle() ?? (await new Promise<SupervisedProducer>((resolve) => this.waiting.push(resolve)));
      let result: RecordAck[] | TransactionFailure;
      try {
        if (Date.now() >= deadline) {
          return new TransactionFailure(
            new KafkaSendError(KafkaFailureKind.Unreachable, 'the send deadline passed', 'SendTimeout'),
            false,
          );
        }
        result = await this.transaction(producer, records, begin);
      } finally {
        const next = this.waiting.shift();
        if (next) {
          next(producer);
        } else {
          this.idle.push(producer);
        }
      }
      if (
        Array.isArray(result) ||
        result.maybeCommitted ||
        !retriableBeforeRequest(
          result.error,
          records.every((record) => this.knows(record.topic)),
        )
      ) {
        return result;
      }
      const delay = this.policy.retryBeforeRequestMs(attempt, deadline);
      if (delay === undefined) {
        return result;
      }
      this.logger.warn(
        `transaction attempt ${attempt} failed (${result.error.message}); again in ${delay} ms`,
      );
      await sleep(delay);
    }
  }

  /** One transaction; `begin` says whether it may still begin (its caller waits) and marks it begun. */
  private async transaction(
    transactional: SupervisedProducer,
    records: OutgoingRecord[],
    begin: () => boolean,
  ): Promise<RecordAck[] | TransactionFailure> {
    const notCommitted = (error: unknown): TransactionFailure =>
      new TransactionFailure(classifyKafkaError(error), false);
    let producer: Producer;
    const partitions: number[] = [];
    try {
      producer = await transactional.get();
      for (const record of records) {
        partitions.push(await this.partitionOf(record));
      }
    } catch (error) {
      return notCommitted(error);
    }
    // Records grouped by topic (first-seen order); each record's index within its partition's batch.
    const slot = (topic: string, partition: number): string => `${topic}\0${partition}`;
    const topics = new Map<string, Message[]>();
    const indexOf = new Map<string, number>();
    const order = records.map((record, i) => {
      const messages = topics.get(record.topic) ?? [];
      topics.set(record.topic, messages);
      messages.push({
        key: record.key,
        value: record.value,
        headers: record.headers,
        partition: partitions[i],
        timestamp: String(record.timestamp),
      });
      const key = slot(record.topic, partitions[i]!);
      const index = indexOf.get(key) ?? 0;
      indexOf.set(key, index + 1);
      return index;
    });
    if (!begin()) {
      return notCommitted(
        new KafkaSendError(KafkaFailureKind.Unreachable, 'the send deadline passed', 'SendTimeout'),
      );
    }
    const transaction = await producer.transaction().catch((error: unknown) => {
      void transactional.replace(`could not begin a transaction: ${(error as Error).message}`);
      return notCommitted(error);
    });
    if (transaction instanceof TransactionFailure) {
      return transaction;
    }
    let base: Map<string, bigint>;
    try {
      const metadata = await transaction.sendBatch({
        topicMessages: [...topics].map(([topic, messages]) => ({ topic, messages })),
        acks: -1,
        // The broker's wait for the in-sync replicas, within the client's request timeout (send-policy.ts).
        timeout: this.policy.ackTimeoutMs,
        compression: this.compression,
      });
      base = new Map(metadata.map((m) => [slot(m.topicName, m.partition), BigInt(m.baseOffset ?? '-1')]));
      // Committed only once every partition's records are acknowledged: never a 200 for records the
      // broker did not take.
      const missing = records.findIndex(
        (record, i) => (base.get(slot(record.topic, partitions[i]!)) ?? -1n) < 0n,
      );
      if (missing >= 0) {
        throw missingAck(records[missing]!.topic, partitions[missing]!);
      }
    } catch (error) {
      await transaction.abort().catch((abortError: unknown) => {
        this.logger.warn(`abort failed: ${(abortError as Error).message}`);
      });
      // After a failed send kafkajs' sequence numbers are out of step with the broker (and a failed abort
      // leaves the producer unusable): a new producer gets a fresh epoch and fences anything left open.
      const failure = notCommitted(error);
      await transactional.replace(`a transaction was aborted (${failure.error.errorClass})`);
      return failure;
    }
    try {
      await transaction.commit();
    } catch (error) {
      const failure = classifyKafkaError(error);
      await transactional.replace('a transaction could not be committed');
      // A commit the coordinator refused was not committed; one whose answer was lost may have been.
      return new TransactionFailure(failure, !failure.brokerAnswered);
    }
    return records.map((record, i) => ({
      topic: record.topic,
      partition: partitions[i]!,
      offset: (base.get(slot(record.topic, partitions[i]!))! + BigInt(order[i]!)).toString(),
      timestamp: record.timestamp,
    }));
  }
}
