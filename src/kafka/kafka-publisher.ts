import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { PartitionMetadata } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../observability/metrics';
import { compressionType } from './compression';
import { DeadlineQueue } from './deadline-queue';
import { classifyKafkaError } from './kafka-errors';
import { KAFKA_PRODUCER, KAFKA_TRANSACTIONAL_PRODUCER } from './kafka.constants';
import { ALL_PARTITIONS, PartitionQueue, QueueContext } from './partition-queue';
import { PartitionResolver } from './partition-resolver';
import { keyHash } from './partitioner';
import { PendingRecord } from './pending-record';
import { estimatedRecordBytes, OutgoingRecord, SendOutcome } from './records';
import { retriableBeforeRequest, SendPolicy, sleep } from './send-policy';
import { SupervisedProducer } from './supervised-producer';
import { TransactionRunner } from './transaction-runner';

/**
 * Every partition has one replica, on the same broker (a single-node cluster): no other broker can ever
 * lead them, so one request per broker carrying every partition cannot be split by kafkajs.
 */
function onOneBroker(metadata: PartitionMetadata[]): boolean {
  const broker = metadata[0]?.replicas[0];
  return metadata.every((p) => p.replicas.length === 1 && p.replicas[0] === broker);
}

/**
 * The one way the service writes to Kafka (the port): hand it records, get back one SendOutcome per
 * record — acknowledged, not sent, or outcome unknown — at SEND_TIMEOUT_MS at the latest. `send` writes
 * idempotently with acks=all, each partition on its own (a partition without a leader delays only its own
 * records); `sendAtomically` writes all records in one transaction. Batching, partitioning, resends and
 * producer rebuilds happen behind it, as send-policy.ts says; callers never see them.
 */
@Injectable()
export class KafkaPublisher
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(KafkaPublisher.name);
  /** Each topic's queues, by partition number + 1 (0: the one queue of a topic on one broker). */
  private readonly queues = new Map<string, PartitionQueue[]>();
  private readonly deadlines: DeadlineQueue;
  private readonly policy: SendPolicy;
  private readonly context: QueueContext;
  private readonly transactions: TransactionRunner;

  constructor(
    @Inject(KAFKA_PRODUCER) private readonly lanes: SupervisedProducer[],
    @Inject(KAFKA_TRANSACTIONAL_PRODUCER) transactional: SupervisedProducer[],
    private readonly partitions: PartitionResolver,
    config: AppConfig,
    metrics: Metrics,
  ) {
    this.policy = new SendPolicy(config);
    this.deadlines = new DeadlineQueue(this.policy.deadlineMs);
    const compression = compressionType(config.producer.compression);
    this.context = {
      policy: this.policy,
      lanes: lanes.map((producers) => ({ producers, busy: 0 })),
      batchSizeBytes: config.producer.batchSizeBytes,
      lingerMs: config.producer.lingerMs,
      maxRequestBytes: config.producer.maxRecordBytes,
      compression,
      haveLeaders: async (topic, partitions) => {
        const metadata = await this.partitions.partitionsFor(topic);
        return partitions.every(
          (partition) => (metadata.find((p) => p.partitionId === partition)?.leader ?? -1) >= 0,
        );
      },
      invalidate: (topic) => this.partitions.invalidate(topic),
      knows: (topic) => this.partitions.knows(topic),
      onRequest: (_topic, records, bytes) => {
        metrics.recordsPerRequest.observe(records);
        metrics.bytesPerRequest.observe(bytes);
      },
      onResend: (topic) => metrics.sendRetries.inc({ topic }),
    };
    this.transactions = new TransactionRunner(
      transactional,
      this.policy,
      compression,
      (record) =>
        this.partitions
          .partitionsFor(record.topic)
          .then((metadata) => this.placeOf(record, metadata).partition),
      (topic) => this.partitions.knows(topic),
    );
  }

  /**
   * Connects the idempotent producers (one per lane) and the transactional pool's first producer in the
   * background: start-up never waits for (or fails on) Kafka.
   */
  onApplicationBootstrap(): void {
    for (const connecting of [...this.lanes.map((lane) => lane.get()), this.transactions.warmUp()]) {
      connecting.catch((error: unknown) => {
        this.logger.warn(`Connection to Kafka broker failed: ${(error as Error).message}`);
      });
    }
  }

  /**
   * Whether it can send: at least one of its producers is connected. A producer that cannot connect (its
   * seed broker silent, say) takes a batch only when none can (partition-queue.ts), so the others carry
   * every partition meanwhile.
   */
  get producerConnected(): boolean {
    return this.lanes.some((lane) => lane.isConnected);
  }

  /** Asks each producer that is not connected to connect (coalesced and bounded by SupervisedProducer). */
  reconnect(): void {
    for (const lane of this.lanes) {
      if (!lane.isConnected) {
        lane.get().catch(() => undefined);
      }
    }
  }

  /** Sends each record idempotently (acks=all); one outcome per record, in order. */
  send(records: OutgoingRecord[]): Promise<SendOutcome[]> {
    if (records.length === 0) {
      return Promise.resolve([]);
    }
    const timeoutMs = this.policy.deadlineMs;
    const outcomes = new Array<SendOutcome>(records.length);
    return new Promise<SendOutcome[]>((resolve) => {
      let waiting = records.length;
      const pending = records.map((record, i) => {
        const deadline = this.deadlines.start(() => entry.expire(timeoutMs));
        const entry: PendingRecord = new PendingRecord(
          record,
          estimatedRecordBytes(record),
          Date.now() + timeoutMs,
          (outcome) => {
            this.deadlines.settle(deadline);
            outcomes[i] = outcome;
            if (--waiting === 0) {
              resolve(outcomes);
            }
          },
        );
        return entry;
      });
      const topic = records[0]!.topic;
      if (records.every((record) => record.topic === topic)) {
        this.route(topic, pending);
        return;
      }
      for (const each of new Set(records.map((record) => record.topic))) {
        this.route(
          each,
          pending.filter((p) => p.record.topic === each),
        );
      }
    });
  }

  /** Queues a topic's records now if its partitions are known, else once they are. */
  private route(topic: string, pending: PendingRecord[]): void {
    const metadata = this.partitions.cached(topic);
    if (metadata) {
      this.enqueue(topic, metadata, pending);
    } else {
      void this.enqueueWhenKnown(topic, pending);
    }
  }

  /** Sends all records in one Kafka transaction: all are acknowledged, or none is written. */
  sendAtomically(records: OutgoingRecord[]): Promise<SendOutcome[]> {
    return this.transactions.run(records);
  }

  /** Graceful shutdown: what is queued goes out (the HTTP server has drained by now, src/lifecycle.ts). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].flat().map((queue) => queue.drain()));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.transactions.close(), ...this.lanes.map((lane) => lane.close())]);
  }

  /**
   * The topic's partitions are not known yet: asked for with the pre-request policy (a producer that reaches
   * Kafka first, which fails fast while none does), then the records are queued.
   */
  private async enqueueWhenKnown(topic: string, pending: PendingRecord[]): Promise<void> {
    const deadline = pending[0]!.deadline;
    for (let failures = 1; ; failures += 1) {
      try {
        // A producer that reaches Kafka, if one does (one that cannot fails fast: no wait for a timeout).
        await (this.lanes.find((lane) => !lane.isUnreachable) ?? this.lanes[0]!).get();
        this.enqueue(topic, await this.partitions.partitionsFor(topic), pending);
        return;
      } catch (error) {
        const failure = classifyKafkaError(error);
        const delay = retriableBeforeRequest(failure, this.partitions.knows(topic))
          ? this.policy.retryBeforeRequestMs(failures, deadline)
          : undefined;
        if (delay === undefined || pending.every((p) => p.settled)) {
          pending.forEach((p) => p.fail(failure, false));
          return;
        }
        await sleep(delay);
      }
    }
  }

  private enqueue(topic: string, metadata: PartitionMetadata[], pending: PendingRecord[]): void {
    let queues = this.queues.get(topic);
    if (!queues) {
      queues = [];
      this.queues.set(topic, queues);
    }
    for (const entry of pending) {
      try {
        const place = this.placeOf(entry.record, metadata);
        entry.partition = place.partition;
        entry.order = place.hash;
      } catch (error) {
        entry.fail(error as KafkaSendError, false);
        continue;
      }
      const queued = onOneBroker(metadata) ? ALL_PARTITIONS : entry.partition;
      (queues[queued + 1] ??= new PartitionQueue(topic, queued, this.context)).add(entry);
    }
  }

  /**
   * The record's partition: its own when the topic has it (a dead letter keeps the original's), else its
   * key's, as the Java client's default partitioner picks it; and its key's hash (-1 without a key).
   */
  private placeOf(
    record: OutgoingRecord,
    metadata: PartitionMetadata[],
  ): { partition: number; hash: number } {
    const hash = record.key === null ? -1 : keyHash(record.key);
    if (record.partition !== undefined && record.partition < metadata.length) {
      return { partition: record.partition, hash };
    }
    if (hash < 0) {
      throw new KafkaSendError(
        KafkaFailureKind.Fatal,
        `a record for ${record.topic} has neither a key nor a partition the topic has`,
        'NoPartition',
      );
    }
    return { partition: metadata[hash % metadata.length]!.partitionId, hash };
  }
}
