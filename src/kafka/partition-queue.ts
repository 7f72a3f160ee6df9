import { Logger } from '@nestjs/common';
import { CompressionTypes, Message, RecordMetadata } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { classifyKafkaError } from './kafka-errors';
import { PendingRecord } from './pending-record';
import { retriableBeforeRequest, SendPolicy, splitsOnRefusal, verdictOf } from './send-policy';
import { ProducerLease, SupervisedProducer } from './supervised-producer';

/** The queue of a topic whose partitions all live on one broker (see PartitionQueue). */
export const ALL_PARTITIONS = -1;

/**
 * One idempotent producer of the publisher's KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION, and how many batches
 * (of all queues) it carries now.
 */
export interface Lane {
  readonly producers: SupervisedProducer;
  busy: number;
}

/** What a partition's queue needs from the publisher that owns it. */
export interface QueueContext {
  readonly policy: SendPolicy;
  /** The producers a queue's batches go out on, at most one batch of the queue on each at a time. */
  readonly lanes: readonly Lane[];
  readonly batchSizeBytes: number;
  readonly lingerMs: number;
  readonly maxRequestBytes: number;
  readonly compression: CompressionTypes;
  /** Whether every one of the partitions has a leader now (metadata, cached); throws when metadata cannot be had. */
  haveLeaders(topic: string, partitions: number[]): Promise<boolean>;
  /** Forget the topic's metadata: a request failed, a leader may have moved. */
  invalidate(topic: string): void;
  /** A produce request carrying `records` records of `bytes` bytes is about to go out. */
  onRequest(topic: string, records: number, bytes: number): void;
  /** A batch is sent again, unchanged. */
  onResend(topic: string): void;
}

/**
 * While a batch of the partition is in flight, the next one takes another lane no sooner than this after
 * the last one went out. A broker that answers within it (one node, no replication wait) keeps one request
 * per partition in flight and its batches grow with load, which costs the least CPU per record; on a
 * cluster whose acks wait for replicas, requests overlap and a record does not wait for the one ahead.
 */
const LANE_SPACING_MS = 2;

/** How many waiting records (of keys in flight) a batch passes over at most. */
const MAX_PASSED = 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
 * One partition's records on their way to its leader, as the Java client's RecordAccumulator deque and
 * Sender do it: records wait until batch.size / linger.ms, or while every lane carries a batch of the
 * partition, then go out together in one produce request carrying only this partition, so a partition
 * whose leader is gone holds up its own records only.
 *
 * Up to one batch per lane is in flight (the Java client's max.in.flight.requests.per.connection): kafkajs'
 * idempotent producer serializes its requests per broker, so a second request in flight needs a second
 * producer. A batch takes a free lane, the least busy one, LANE_SPACING_MS after the last at the earliest;
 * what arrives in the same turn of the event loop goes in one batch. A record whose key has a record in
 * flight waits for it, so records with the same key keep their order (with one lane, the partition's order
 * whatever the keys). What happens to a failed batch is send-policy.ts's decision.
 */
export class PartitionQueue {
  private readonly logger = new Logger(PartitionQueue.name);
  private pending: PendingRecord[] = [];
  private bytes = 0;
  /** When the oldest waiting record arrived (linger is counted from it). */
  private since = 0;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  /** When the last batch went out (performance.now(): monotonic). */
  private lastSent = 0;
  /** The batches in flight, by the index of the lane each went out on. */
  private readonly inFlight = new Map<number, Promise<void>>();
  /** The key hashes of the records in flight, with their counts. */
  private readonly keysInFlight = new Map<number, number>();

  constructor(
    readonly topic: string,
    /**
     * The partition, or ALL_PARTITIONS for a topic whose partitions all live on one broker (a single node):
     * its records then go out together, one request per broker as the Java client's Sender sends them,
     * since kafkajs cannot split such a request between brokers.
     */
    readonly partition: number,
    private readonly context: QueueContext,
  ) {}

  add(record: PendingRecord): void {
    if (this.pending.length === 0) {
      this.since = Date.now();
    }
    this.pending.push(record);
    this.bytes += record.size;
    this.schedule();
  }

  /** Resolves once nothing waits or is in flight (graceful shutdown sends what is queued first). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0 || this.pending.some((p) => !p.settled)) {
      this.flush();
      await Promise.all(this.inFlight.values());
    }
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.inFlight.size >= this.context.lanes.length) {
      return;
    }
    const waited = Date.now() - this.since;
    if (this.bytes < this.context.batchSizeBytes && waited < this.context.lingerMs) {
      this.timer ??= setTimeout(() => this.flush(), this.context.lingerMs - waited);
    } else if (this.inFlight.size === 0) {
      this.flush();
    } else {
      const wait = this.lastSent + LANE_SPACING_MS - performance.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => this.flush(), wait);
      } else {
        // Another lane: the records that arrive in this turn of the event loop go out together.
        this.immediate ??= setImmediate(() => this.flush());
      }
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const { lanes } = this.context;
    while (this.inFlight.size < lanes.length) {
      const batch = this.take();
      if (batch.length === 0) {
        return;
      }
      let free = -1;
      for (let i = 0; i < lanes.length; i += 1) {
        if (!this.inFlight.has(i) && (free < 0 || lanes[i]!.busy < lanes[free]!.busy)) {
          free = i;
        }
      }
      this.start(batch, free);
    }
  }

  /**
   * The next batch: the waiting records in order, up to max.request.size, but for those whose key has a
   * record in flight (they, and the later records of their keys, wait).
   */
  private take(): PendingRecord[] {
    const batch: PendingRecord[] = [];
    const rest: PendingRecord[] = [];
    let blocked: Set<number> | undefined;
    let bytes = 0;
    let taken = 0;
    for (; taken < this.pending.length; taken += 1) {
      const next = this.pending[taken]!;
      if (next.settled) {
        continue; // its deadline passed while it waited: never sent
      }
      if (batch.length > 0 && bytes + next.size > this.context.maxRequestBytes) {
        break;
      }
      if (this.keysInFlight.has(next.order) || blocked?.has(next.order)) {
        if (rest.length === MAX_PASSED) {
          break; // a hot key's backlog: the records behind it wait (bounds the scan)
        }
        (blocked ??= new Set()).add(next.order);
        rest.push(next);
        continue;
      }
      batch.push(next);
      bytes += next.size;
    }
    this.pending = taken === this.pending.length ? rest : rest.concat(this.pending.slice(taken));
    this.bytes = this.pending.reduce((sum, p) => sum + p.size, 0);
    this.since = Date.now();
    return batch;
  }

  private start(batch: PendingRecord[], index: number): void {
    this.lastSent = performance.now();
    const lane = this.context.lanes[index]!;
    lane.busy += 1;
    for (const p of batch) {
      this.keysInFlight.set(p.order, (this.keysInFlight.get(p.order) ?? 0) + 1);
    }
    const running = this.send(batch, lane.producers)
      // Nothing in send() is meant to throw; should it, no record is left without an answer.
      .catch((error: unknown) => batch.forEach((p) => p.fail(classifyKafkaError(error), p.inRequest)))
      .finally(() => {
        lane.busy -= 1;
        this.inFlight.delete(index);
        for (const p of batch) {
          const count = this.keysInFlight.get(p.order)! - 1;
          if (count === 0) {
            this.keysInFlight.delete(p.order);
          } else {
            this.keysInFlight.set(p.order, count);
          }
        }
        this.schedule();
      });
    this.inFlight.set(index, running);
  }

  /** Takes the batch to the broker and settles every record of it, by send-policy.ts. */
  private async send(batch: PendingRecord[], producers: SupervisedProducer): Promise<void> {
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
        delay = retriableBeforeRequest(failure) ? policy.retryBeforeRequestMs(failures, deadline) : undefined;
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
        const verdict = verdictOf(failure);
        if (verdict === 'maybe-appended') {
          maybeAppended = true;
          this.context.invalidate(this.topic);
          const delay = policy.resendDelayMs(resend++);
          if (!policy.mayResend(delay, deadline)) {
            // The broker may hold the batch and kafkajs rolled its sequence numbers back: a new producer id
            // before anything else goes out on this producer keeps the two from disagreeing.
            lease.retire(`a batch for ${this.name} was given up with its outcome unknown`);
            batch.forEach((p) => p.fail(failure, true));
            return lease;
          }
          this.logger.warn(
            `send to ${this.name} failed (${failure.message}); the same batch goes again in ${delay} ms`,
          );
          this.context.onResend(this.topic);
          await sleep(delay);
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
      return new KafkaSendError(
        KafkaFailureKind.Retriable,
        `the broker acknowledged no offset for ${this.topic}-${missing}`,
        'MissingAck',
      );
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

  private get name(): string {
    return this.partition === ALL_PARTITIONS ? this.topic : `${this.topic}-${this.partition}`;
  }
}
