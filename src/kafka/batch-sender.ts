import { Logger } from '@nestjs/common';
import { CompressionTypes, Message, RecordMetadata } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { classifyKafkaError, missingAck } from './kafka-errors';
import { PendingRecord } from './pending-record';
import {
  retriableBeforeRequest,
  SendPolicy,
  sleep,
  splitsOnRefusal,
  unknownUntilDeadline,
  verdictOf,
} from './send-policy';
import { ProducerLease, SupervisedProducer } from './supervised-producer';

/** What a batch needs on its way from the publisher that owns its queue. */
export interface SendContext {
  readonly policy: SendPolicy;
  readonly compression: CompressionTypes;
  /** Whether every one of the partitions has a leader now (metadata, cached); throws when metadata cannot be had. */
  haveLeaders(topic: string, partitions: number[]): Promise<boolean>;
  /** Forget the topic's metadata: a request failed, a leader may have moved. */
  invalidate(topic: string): void;
  /** Whether the topic existed a moment ago (its "unknown" answers are then not final, send-policy.ts). */
  knows(topic: string): boolean;
  /** A produce request carrying `records` records of `bytes` bytes is about to go out. */
  onRequest(topic: string, records: number, bytes: number): void;
  /** A batch is sent again, unchanged. */
  onResend(topic: string): void;
}

/** The distinct partitions of a batch's records. */
function partitionsOf(batch: PendingRecord[]): number[] {
  return [...new Set(batch.map((p) => p.partition))];
}

function toMessage({ record, partition }: PendingRecord): Message {
  return {
    key: record.key,
    value: record.value,
    headers: record.headers,
    partition,
    timestamp: String(record.timestamp),
  };
}

/**
 * A batch's way to the broker, for one partition's queue (PartitionQueue decides which records go when, and
 * on which producer): it waits for a leader, sends the batch on its producer, and settles every record of it
 * from the broker's answer or, on a failure, as send-policy.ts says (resend unchanged, rebuild the producer,
 * split, or give up).
 */
export class BatchSender {
  private readonly logger = new Logger(BatchSender.name);

  constructor(
    readonly topic: string,
    /** The queue's name in logs: `topic-partition`, or the topic for all of its partitions. */
    private readonly name: string,
    private readonly context: SendContext,
  ) {}

  /** Takes the batch to the broker and settles every record of it, by send-policy.ts. */
  async send(batch: PendingRecord[], producers: SupervisedProducer): Promise<void> {
    const lease = await this.leaseWhenLeader(batch, producers);
    if (lease) {
      (await this.produce(producers, lease, batch)).release();
    }
  }

  /**
   * Waits for the partition to have a leader (records expire meanwhile at their deadline) and a connected
   * producer; a failure to get either is a failed pre-request attempt (send-policy.ts).
   */
  private async leaseWhenLeader(
    batch: PendingRecord[],
    producers: SupervisedProducer,
  ): Promise<ProducerLease | undefined> {
    const { policy } = this.context;
    const deadline = batch[batch.length - 1]!.deadline;
    let failures = 0;
    for (let waits = 1; batch.some((p) => !p.settled);) {
      let delay: number | undefined;
      try {
        if (await this.context.haveLeaders(this.topic, partitionsOf(batch))) {
          return await producers.lease();
        }
        delay = policy.resendDelayMs(waits++);
        this.context.invalidate(this.topic);
      } catch (error) {
        const failure = classifyKafkaError(error);
        failures += 1;
        delay = retriableBeforeRequest(failure, this.context.knows(this.topic))
          ? policy.retryBeforeRequestMs(failures, deadline)
          : undefined;
        if (delay === undefined) {
          batch.forEach((p) => p.fail(failure, false));
          return undefined;
        }
      }
      await sleep(delay);
    }
    return undefined;
  }

  /**
   * Sends the batch until every record of it is settled; returns the lease it ends with (a rejected
   * producer state swaps it for a new producer's).
   */
  private async produce(
    producers: SupervisedProducer,
    first: ProducerLease,
    records: PendingRecord[],
    mayBeAppended = false,
  ): Promise<ProducerLease> {
    const { policy } = this.context;
    const deadline = records[records.length - 1]!.deadline;
    let lease = first;
    // A part of a failed request keeps its records, even those answered meanwhile: it is sent unchanged.
    let batch = mayBeAppended ? records : records.filter((p) => !p.settled);
    let maybeAppended = mayBeAppended;
    let rebuilt = false;
    try {
      for (let resend = 1, messages = batch.map(toMessage); batch.length > 0;) {
        batch.forEach((p) => (p.inRequest = true));
        this.context.onRequest(
          this.topic,
          batch.length,
          batch.reduce((sum, p) => sum + p.size, 0),
        );
        let failure: KafkaSendError | undefined;
        try {
          const acks = await lease.producer.sendBatch({
            topicMessages: [{ topic: this.topic, messages }],
            acks: -1,
            timeout: policy.ackTimeoutMs,
            compression: this.context.compression,
          });
          failure = this.acknowledge(batch, acks);
        } catch (error) {
          failure = classifyKafkaError(error);
        }
        if (!failure) {
          return lease;
        }
        const partitions = partitionsOf(batch);
        if (partitions.length > 1) {
          // kafkajs failed the whole request for one partition's error and rolled every partition's
          // sequence numbers back, though the others may have been appended: each partition's part goes
          // again alone, unchanged, so the broker answers for it (a copy it has, with its first offset).
          for (const partition of partitions) {
            lease = await this.produce(
              producers,
              lease,
              batch.filter((p) => p.partition === partition),
              true,
            );
          }
          return lease;
        }
        const verdict = verdictOf(failure, this.context.knows(this.topic));
        if (verdict === 'maybe-appended' || verdict === 'topic-unknown-now') {
          // A topic unknown for a moment appended nothing: its records wait, unchanged, as for a leader.
          maybeAppended ||= verdict === 'maybe-appended';
          batch.forEach((p) => (p.inRequest = maybeAppended));
          this.context.invalidate(this.topic);
          const delay = policy.resendDelayMs(resend++);
          if (!policy.mayResend(delay, deadline)) {
            if (maybeAppended) {
              // The broker may hold the batch and kafkajs rolled its sequence numbers back: a new producer
              // id before anything else goes out on this producer keeps the two from disagreeing.
              lease.retire(`a batch for ${this.name} was given up with its outcome unknown`);
            }
            const answer = maybeAppended ? failure : unknownUntilDeadline(failure, this.topic);
            batch.forEach((p) => p.fail(answer, maybeAppended));
            return lease;
          }
          this.logger.warn(
            `send to ${this.name} failed (${failure.message}); the same batch goes again in ${delay} ms`,
          );
          this.context.onResend(this.topic);
          await sleep(delay);
          if (!maybeAppended) {
            // Nothing of it is on the broker: records answered at their deadline meanwhile stay unsent.
            batch = batch.filter((p) => !p.settled);
            messages = batch.map(toMessage);
          }
          continue;
        }
        // Not appended: from here on the batch may change (nothing of it is on the broker to be matched).
        batch.forEach((p) => (p.inRequest = maybeAppended));
        if (failure.kind === KafkaFailureKind.UnknownTopic) {
          this.context.invalidate(this.topic);
        }
        if (verdict === 'producer-rejected' && !rebuilt && !maybeAppended) {
          rebuilt = true;
          lease.retire(`the broker rejected the producer's state (${failure.errorClass})`);
          lease.release();
          lease = await producers.lease();
          batch = batch.filter((p) => !p.settled);
          messages = batch.map(toMessage);
          continue;
        }
        if (verdict === 'refused' && batch.length > 1 && splitsOnRefusal(failure) && !maybeAppended) {
          // One bad record must not fail its neighbours: each goes alone.
          for (const record of batch) {
            lease = await this.produce(producers, lease, [record]);
          }
          return lease;
        }
        batch.forEach((p) => p.fail(failure, maybeAppended));
        return lease;
      }
    } catch (error) {
      // Only a new producer for a rejected state can fail here (no connection): nothing was appended.
      batch.forEach((p) => p.fail(classifyKafkaError(error), maybeAppended));
    }
    return lease;
  }

  /** Each record's ack from its partition's base offset and its place among that partition's records. */
  private acknowledge(batch: PendingRecord[], acks: RecordMetadata[]): KafkaSendError | undefined {
    const next = new Map(acks.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
    const missing = partitionsOf(batch).find((partition) => (next.get(partition) ?? -1n) < 0n);
    if (missing !== undefined) {
      return missingAck(this.topic, missing);
    }
    for (const p of batch) {
      const offset = next.get(p.partition)!;
      next.set(p.partition, offset + 1n);
      p.acknowledge({
        topic: this.topic,
        partition: p.partition,
        offset: offset.toString(),
        timestamp: p.record.timestamp,
      });
    }
    return undefined;
  }
}
