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
import { retriableBeforeRequest, SendPolicy } from './send-policy';
import { SupervisedProducer } from './supervised-producer';
import { TransactionRunner } from './transaction-runner';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
  /**
   * Each topic's queues, by partition number + 1 (0: the one queue of a topic on one broker), then lane
   * (the producer a key's records go out on).
   */
  private readonly queues = new Map<string, PartitionQueue[][]>();
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
      onRequest: (_topic, records, bytes) => {
        metrics.recordsPerRequest.observe(records);
        metrics.bytesPerRequest.observe(bytes);
      },
      onResend: (topic) => metrics.sendRetries.inc({ topic }),
    };
    this.transactions = new TransactionRunner(transactional, this.policy, compression, (record) =>
      this.partitions
        .partitionsFor(record.topic)
        .then((metadata) => this.placeOf(record, metadata).partition),
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

  get producerConnected(): boolean {
    return this.lanes.every((lane) => lane.isConnected);
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
            deadline.settle();
            outcomes[i] = outcome;
            if (--waiting === 0) {
              resolve(outcomes);
            }
          },
        );
        return entry;
      });
      const topics = new Set(records.map((record) => record.topic));
      for (const topic of topics) {
        const ofTopic = topics.size === 1 ? pending : pending.filter((p) => p.record.topic === topic);
        const metadata = this.partitions.cached(topic);
        if (metadata) {
          this.enqueue(topic, metadata, ofTopic);
        } else {
          void this.enqueueWhenKnown(topic, ofTopic);
        }
      }
    });
  }

  /** Sends all records in one Kafka transaction: all are acknowledged, or none is written. */
  sendAtomically(records: OutgoingRecord[]): Promise<SendOutcome[]> {
    return this.transactions.run(records);
  }

  /** Graceful shutdown: what is queued goes out (the HTTP server has drained by now, src/lifecycle.ts). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].flat(2).map((queue) => queue.drain()));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.transactions.close(), ...this.lanes.map((lane) => lane.close())]);
  }

  /**
   * The topic's partitions are not known yet: asked for with the pre-request policy (the producer first,
   * which fails fast while Kafka is unreachable), then the records are queued.
   */
  private async enqueueWhenKnown(topic: string, pending: PendingRecord[]): Promise<void> {
    const deadline = pending[0]!.deadline;
    for (let failures = 1; ; failures += 1) {
      try {
        await this.lanes[0]!.get();
        this.enqueue(topic, await this.partitions.partitionsFor(topic), pending);
        return;
      } catch (error) {
        const failure = classifyKafkaError(error);
        const delay = retriableBeforeRequest(failure)
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
      let place: { partition: number; lane: number };
      try {
        place = this.placeOf(entry.record, metadata);
      } catch (error) {
        entry.fail(error as KafkaSendError, false);
        continue;
      }
      entry.partition = place.partition;
      const queued = onOneBroker(metadata) ? ALL_PARTITIONS : place.partition;
      const lanes = (queues[queued + 1] ??= []);
      const queue = (lanes[place.lane] ??= new PartitionQueue(
        topic,
        queued,
        this.lanes[place.lane]!,
        this.context,
      ));
      queue.add(entry);
    }
  }

  /**
   * The record's partition: its own when the topic has it (a dead letter keeps the original's), else its
   * key's, as the Java client's default partitioner picks it. And its lane: the key's hash picks one of the
   * partition's producers, so a key's records always take the same one (and keep their order).
   */
  private placeOf(
    record: OutgoingRecord,
    metadata: PartitionMetadata[],
  ): { partition: number; lane: number } {
    const hash = record.key === null ? undefined : keyHash(record.key);
    const lane = hash === undefined ? 0 : Math.floor(hash / metadata.length) % this.lanes.length;
    if (record.partition !== undefined && record.partition < metadata.length) {
      return { partition: record.partition, lane };
    }
    if (hash === undefined) {
      throw new KafkaSendError(
        KafkaFailureKind.Fatal,
        `a record for ${record.topic} has neither a key nor a partition the topic has`,
        'NoPartition',
      );
    }
    return { partition: metadata[hash % metadata.length]!.partitionId, lane };
  }
}
