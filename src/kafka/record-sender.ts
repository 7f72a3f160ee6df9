import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Message, PartitionMetadata, Producer, RecordMetadata } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { compressionType } from './compression';
import { classifyKafkaError } from './kafka-errors';
import { KAFKA_PRODUCER, KAFKA_TRANSACTIONAL_PRODUCER } from './kafka.constants';
import { PartitionResolver } from './partition-resolver';
import { BatchResender, PartitionBatch } from './batch-resender';
import { SupervisedProducer } from './supervised-producer';

/**
 * A caller's stake in a send, shared by its records. `cancelled` is set when the caller stopped waiting
 * (its send deadline passed): a record not yet in a produce request is then never sent. `handedOver` is
 * set the moment a produce request (or transaction) carrying the records is started, so the caller can
 * tell "certainly not written" from "outcome unknown".
 */
export class SendTicket {
  cancelled = false;
  handedOver = false;
  /** An earlier attempt's request was lost in flight (timeout, dropped connection): it may have been appended. */
  maybeWritten = false;
  /** When the caller stops waiting (epoch ms): RecordSender starts no attempt for its records past it. */
  deadline = Infinity;
  /** Produce requests RecordSender made for the records (it resends a failed batch itself, unchanged). */
  attempts = 0;
}

/** A record to publish, free of kafkajs types. */
export interface OutgoingRecord {
  key: string;
  /** Null for a record with no value (a CloudEvent without data, in binary mode). */
  value: Buffer | null;
  headers: Record<string, string>;
  /** CreateTime, epoch milliseconds. */
  timestamp: number;
  ticket?: SendTicket;
}

/** A record and the topic it goes to, for a transaction that may span topics. */
export interface AddressedRecord {
  topic: string;
  record: OutgoingRecord;
}

/** Bytes Kafka adds to a record beyond key, value and headers (v2 record overhead, generously). */
const RECORD_OVERHEAD_BYTES = 128;

/** A record's size as Kafka counts it against max.request.size and batch.size, estimated from above. */
export function estimatedRecordBytes(record: OutgoingRecord): number {
  let size = (record.value?.length ?? 0) + Buffer.byteLength(record.key) + RECORD_OVERHEAD_BYTES;
  for (const name in record.headers) {
    size += Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]!);
  }
  return size;
}

/** Takes the records whose callers still wait and marks them handed over (synchronously, before the request). */
function handOver(records: OutgoingRecord[]): OutgoingRecord[] {
  const live = records.filter((record) => !record.ticket?.cancelled);
  for (const record of live) {
    if (record.ticket) {
      record.ticket.handedOver = true;
    }
  }
  return live;
}

/** Where the broker stored a record, once it acknowledged it (acks=all). */
export interface RecordAck {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
}

/**
 * What became of one record of a send: its ack, the error its partition's batch ended with, or undefined
 * when its caller stopped waiting before the request was made (it was not sent).
 */
export type RecordOutcome = RecordAck | KafkaSendError | undefined;

/**
 * The one way the service writes to Kafka: a list of records goes out idempotently (acks=all, the
 * configured codec), one batch per partition, or atomically in one transaction. Partitions are chosen up
 * front so each record's offset is known from the partition's base offset. Failures come back as
 * KafkaSendError with a kind. Sends on the idempotent producer run one at a time; BatchResender retries
 * them without duplicates.
 */
@Injectable()
export class RecordSender implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RecordSender.name);
  /** Transactional producers not running a transaction, and the batches waiting for one. */
  private readonly idle: SupervisedProducer[];
  private readonly waiting: ((producer: SupervisedProducer) => void)[] = [];
  private readonly running = new Set<Promise<unknown>>();
  /** The tail of the idempotent producer's sends: each starts when the previous one settled. */
  private sending: Promise<unknown> = Promise.resolve();
  private readonly resender: BatchResender;

  constructor(
    @Inject(KAFKA_PRODUCER) private readonly producer: SupervisedProducer,
    @Inject(KAFKA_TRANSACTIONAL_PRODUCER) private readonly transactional: SupervisedProducer[],
    private readonly partitions: PartitionResolver,
    private readonly config: AppConfig,
  ) {
    // Handed out last in, first out, the pool's first producer first: the others are only ever used (and
    // connected) when batches overlap.
    this.idle = [...transactional].reverse();
    this.resender = new BatchResender(producer, config);
  }

  /**
   * Connects the idempotent producer and the transactional pool's first producer in the background:
   * start-up never waits for (or fails on) Kafka. The pool's other producers connect when a batch first
   * needs one (batches overlapping), so a pool sized for bursts costs nothing until they come.
   */
  onApplicationBootstrap(): void {
    for (const producer of [this.producer, ...this.transactional.slice(0, 1)]) {
      producer.get().catch((error: unknown) => {
        this.logger.warn(
          `Connection to Kafka broker failed (${producer.name} producer): ${(error as Error).message}`,
        );
      });
    }
  }

  get producerConnected(): boolean {
    return this.producer.isConnected;
  }

  /**
   * Sends the records; resolves with one ack per record, in order (undefined for a record whose caller
   * stopped waiting before the request was made: it was not sent). Throws the first failure if any record
   * failed (a caller with a single record, such as the dead-letter publisher).
   */
  async send(topic: string, records: OutgoingRecord[]): Promise<(RecordAck | undefined)[]> {
    const outcomes = await this.sendEach(topic, records);
    const failure = outcomes.find((outcome) => outcome instanceof KafkaSendError);
    if (failure) {
      throw failure;
    }
    return outcomes as (RecordAck | undefined)[];
  }

  /**
   * Sends the records, one batch per partition, and resolves with each record's outcome: partitions
   * succeed or fail on their own. Throws only when nothing was sent (no producer, no topic metadata).
   */
  sendEach(topic: string, records: OutgoingRecord[]): Promise<RecordOutcome[]> {
    const run = this.sending.then(() => this.sendNow(topic, records));
    this.sending = run.catch(() => undefined);
    return run;
  }

  private async sendNow(topic: string, records: OutgoingRecord[]): Promise<RecordOutcome[]> {
    let partitions: PartitionMetadata[];
    try {
      const outOfStep = this.resender.takeOutOfStep();
      if (outOfStep) {
        await this.producer.replace(outOfStep);
      }
      await this.producer.get();
      partitions = await this.partitions.partitionsFor(topic);
    } catch (error) {
      const failure = classifyKafkaError(error);
      if (failure.kind === KafkaFailureKind.UnknownTopic) {
        this.partitions.invalidate(topic);
      }
      throw failure;
    }
    const live = handOver(records);
    if (live.length === 0) {
      return records.map(() => undefined);
    }
    const { messages, order } = this.assign(partitions, live);
    const batches = new Map<number, PartitionBatch>();
    messages.forEach((message, i) => {
      const partition = order[i]!.partition;
      const batch = batches.get(partition) ?? { messages: [], records: [] };
      batch.messages.push(message);
      batch.records.push(live[i]!);
      batches.set(partition, batch);
    });
    const fallback = Date.now() + this.config.http.sendTimeoutMs;
    const deadline = Math.max(
      ...live.map((record) => Math.min(record.ticket?.deadline ?? fallback, fallback)),
    );

    const results = await this.resender.sendAll(topic, partitions, batches, deadline);
    if (
      [...results.values()].some(
        (r) => r instanceof KafkaSendError && r.kind === KafkaFailureKind.UnknownTopic,
      )
    ) {
      // The topic (or a partition) is gone: its partition count is asked again on the next send.
      this.partitions.invalidate(topic);
    }
    const liveOutcomes = this.outcomes(topic, live, order, results);
    if (live.length === records.length) {
      return liveOutcomes;
    }
    // Some callers gave up before the request: their records were left out, and get no ack.
    const outcomeOf = new Map(live.map((record, i) => [record, liveOutcomes[i]]));
    return records.map((record) => outcomeOf.get(record));
  }

  /**
   * Sends all records in one Kafka transaction, across one topic or several: a read_committed consumer
   * sees all of them or none. Transactions run side by side, one per producer of the pool
   * (KAFKA_TRANSACTION_POOL_SIZE); more wait for a free producer. Acks come back in the records' order.
   */
  async sendAtomically(records: AddressedRecord[]): Promise<RecordAck[]> {
    const producer =
      this.idle.pop() ?? (await new Promise<SupervisedProducer>((resolve) => this.waiting.push(resolve)));
    const run = this.runTransaction(producer, records);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
      const next = this.waiting.shift();
      if (next) {
        next(producer);
      } else {
        this.idle.push(producer);
      }
    }
  }

  private async runTransaction(
    transactional: SupervisedProducer,
    addressed: AddressedRecord[],
  ): Promise<RecordAck[]> {
    let producer: Producer;
    try {
      producer = await transactional.get();
    } catch (error) {
      throw classifyKafkaError(error);
    }
    // Records grouped by topic (first-seen order), each with its indexes in the caller's list.
    const groups = new Map<string, { records: OutgoingRecord[]; indexes: number[] }>();
    addressed.forEach(({ topic, record }, i) => {
      const group = groups.get(topic) ?? { records: [], indexes: [] };
      group.records.push(record);
      group.indexes.push(i);
      groups.set(topic, group);
    });
    const partitionsOf = new Map<string, PartitionMetadata[]>();
    for (const topic of groups.keys()) {
      partitionsOf.set(
        topic,
        await this.partitions.partitionsFor(topic).catch((error: unknown) => {
          throw classifyKafkaError(error);
        }),
      );
    }
    const records = addressed.map(({ record }) => record);
    if (handOver(records).length < records.length) {
      // The caller's deadline passed while the transaction waited its turn: nothing was sent.
      throw new KafkaSendError(
        KafkaFailureKind.Unreachable,
        'the send deadline passed before the transaction began',
        'SendCancelled',
      );
    }
    const assigned = [...groups].map(([topic, group]) => ({
      topic,
      group,
      ...this.assign(partitionsOf.get(topic)!, group.records),
    }));
    const transaction = await producer.transaction().catch((error: unknown) => {
      void transactional.replace(`could not begin a transaction: ${(error as Error).message}`);
      throw classifyKafkaError(error);
    });
    let metadata: RecordMetadata[];
    try {
      metadata = await transaction.sendBatch({
        topicMessages: assigned.map(({ topic, messages }) => ({ topic, messages })),
        acks: -1,
        compression: compressionType(this.config.producer.compression),
      });
    } catch (error) {
      const failure = classifyKafkaError(error);
      await transaction.abort().catch((abortError: unknown) => {
        this.logger.warn(`abort failed: ${(abortError as Error).message}`);
      });
      // After a failed send kafkajs' sequence numbers are out of step with the broker (and a failed abort
      // leaves the producer unusable): a new producer gets a fresh epoch and fences anything left open.
      await transactional.replace(`a transaction was aborted (${failure.errorClass})`);
      throw failure;
    }
    try {
      await transaction.commit();
    } catch (error) {
      await transactional.replace('a transaction could not be committed');
      throw classifyKafkaError(error);
    }
    const acks: RecordAck[] = new Array<RecordAck>(addressed.length);
    for (const { topic, group, order } of assigned) {
      const ofTopic = metadata.filter((m) => m.topicName === topic);
      this.acks(topic, group.records, order, ofTopic).forEach((ack, i) => {
        acks[group.indexes[i]!] = ack;
      });
    }
    return acks;
  }

  /** kafkajs messages with explicit partitions, and each record's index within its partition's batch. */
  private assign(
    partitions: PartitionMetadata[],
    records: OutgoingRecord[],
  ): { messages: Message[]; order: { partition: number; index: number }[] } {
    const counts = new Map<number, number>();
    const order: { partition: number; index: number }[] = [];
    const messages = records.map((record) => {
      const partition = this.partitions.partitionOf(partitions, record.key);
      const index = counts.get(partition) ?? 0;
      counts.set(partition, index + 1);
      order.push({ partition, index });
      return {
        key: record.key,
        value: record.value,
        headers: record.headers,
        partition,
        timestamp: String(record.timestamp),
      };
    });
    return { messages, order };
  }

  private acks(
    topic: string,
    records: OutgoingRecord[],
    order: { partition: number; index: number }[],
    metadata: RecordMetadata[],
  ): RecordAck[] {
    const base = new Map(metadata.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
    return records.map((record, i) => this.ack(topic, record, order[i]!, base.get(order[i]!.partition)));
  }

  /**
   * Each record's ack from its partition's metadata, or the error its partition's batch ended with
   * (partitions succeed or fail on their own).
   */
  private outcomes(
    topic: string,
    records: OutgoingRecord[],
    order: { partition: number; index: number }[],
    results: Map<number, RecordMetadata | KafkaSendError>,
  ): RecordOutcome[] {
    const base = new Map<number, bigint | KafkaSendError>();
    for (const [partition, result] of results) {
      base.set(partition, result instanceof KafkaSendError ? result : BigInt(result.baseOffset ?? '-1'));
    }
    return records.map((record, i) => {
      const result = base.get(order[i]!.partition);
      return result instanceof KafkaSendError ? result : this.ack(topic, record, order[i]!, result);
    });
  }

  /** A record's ack: its partition's base offset plus its place among that partition's records. */
  private ack(
    topic: string,
    record: OutgoingRecord,
    { partition, index }: { partition: number; index: number },
    baseOffset: bigint | undefined,
  ): RecordAck {
    if (baseOffset === undefined || baseOffset < 0n) {
      throw new Error(`the broker acknowledged no offset for ${topic}-${partition}`);
    }
    return { topic, partition, offset: (baseOffset + BigInt(index)).toString(), timestamp: record.timestamp };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.running]);
    await Promise.all([this.producer.close(), ...this.transactional.map((producer) => producer.close())]);
  }
}
