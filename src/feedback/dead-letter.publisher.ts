import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { KafkaPublisher } from '../kafka/kafka-publisher';
import { PartitionResolver } from '../kafka/partition-resolver';
import { RecordAck, RecordHeaders } from '../kafka/records';
import { METRIC } from '../observability/metric-definitions';
import { FeedbackFailureKind } from './feedback-errors';
import { describeRecord, FeedbackRecord } from './feedback-record';

/**
 * Header names of Spring Kafka's DeadLetterPublishingRecoverer, so tools and people coming from the seed
 * read our dead letters the same way. Numbers are decimal strings (Spring writes big-endian binary).
 */
export const DLT_HEADERS = {
  originalTopic: 'kafka_dlt-original-topic',
  originalPartition: 'kafka_dlt-original-partition',
  originalOffset: 'kafka_dlt-original-offset',
  originalTimestamp: 'kafka_dlt-original-timestamp',
  originalConsumerGroup: 'kafka_dlt-original-consumer-group',
  exceptionClass: 'kafka_dlt-exception-fqcn',
  exceptionMessage: 'kafka_dlt-exception-message',
  exceptionStacktrace: 'kafka_dlt-exception-stacktrace',
  /** Ours: NotJson, InvalidMessage or HandlerFailed. */
  errorKind: 'kafka_dlt-error-kind',
  /** Ours: how many times the handler was tried. */
  attempts: 'kafka_dlt-attempts',
} as const;

/** The headers the service sets on a dead letter: a record's own header of this prefix is not passed on. */
const DLT_HEADER_PREFIX = 'kafka_dlt-';

// Headers travel in every fetch of the DLT: a runaway stack trace must not bloat them.
const MAX_HEADER_TEXT = 4000;

/**
 * Writes a feedback record that cannot be handled to the dead-letter topic as Spring Kafka's
 * DeadLetterPublishingRecoverer does: the original key and value bytes (null stays null), every original
 * header with its bytes (repeated ones in order), to the original's partition number (the key's partition
 * when the dead-letter topic has fewer), plus the `kafka_dlt-*` headers saying where it came from and why it
 * failed. Those are always the service's: a record's own `kafka_dlt-*` header is dropped, never passed on.
 * Sent through the service's idempotent acks=all producer; resolves once the broker has the record, and a
 * failure rejects, so the caller does not commit.
 */
@Injectable()
export class DeadLetterPublisher implements OnModuleInit {
  private readonly logger = new Logger(DeadLetterPublisher.name);

  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly partitions: PartitionResolver,
    private readonly config: AppConfig,
    @InjectMetric(METRIC.messagesDeadLettered) private readonly deadLettered: Counter<'topic' | 'error'>,
  ) {}

  /**
   * kafka_producer_messages_dead_lettered_total exists from start-up at 0 for every failure kind, as the
   * seed's Micrometer counter does, so rate() and alerts see a series before the first dead letter.
   */
  onModuleInit(): void {
    for (const error of Object.values(FeedbackFailureKind)) {
      this.deadLettered.inc({ topic: this.config.feedback.topic, error }, 0);
    }
  }

  get topic(): string {
    return this.config.feedback.deadLetterTopic.name;
  }

  async publish(
    record: FeedbackRecord,
    kind: FeedbackFailureKind,
    error: Error,
    attempts: number,
  ): Promise<RecordAck> {
    const [outcome] = await this.publisher.send([
      {
        topic: this.topic,
        key: record.key,
        value: record.value,
        headers: this.headersOf(record, kind, error, attempts),
        partition: await this.partitionOf(record),
        timestamp: Date.now(),
      },
    ]);
    if (outcome!.status !== 'acknowledged') {
      throw outcome!.error;
    }
    const ack = outcome!.ack;
    this.deadLettered.inc({ topic: record.topic, error: kind });
    this.logger.warn(
      `Dead-lettered ${describeRecord(record)} to ${ack.topic}-${ack.partition}@${ack.offset} after ` +
        `${attempts} attempt(s): ${kind}: ${error.message}`,
    );
    return ack;
  }

  private headersOf(
    record: FeedbackRecord,
    kind: FeedbackFailureKind,
    error: Error,
    attempts: number,
  ): RecordHeaders {
    const headers: RecordHeaders = {};
    for (const [name, value] of Object.entries(record.headers)) {
      if (!name.startsWith(DLT_HEADER_PREFIX)) {
        headers[name] = value;
      }
    }
    Object.assign(headers, {
      [DLT_HEADERS.originalTopic]: record.topic,
      [DLT_HEADERS.originalPartition]: String(record.partition),
      [DLT_HEADERS.originalOffset]: record.offset,
      [DLT_HEADERS.originalTimestamp]: record.timestamp,
      [DLT_HEADERS.originalConsumerGroup]: this.config.feedback.groupId,
      [DLT_HEADERS.exceptionClass]: error.name,
      [DLT_HEADERS.exceptionMessage]: error.message.slice(0, MAX_HEADER_TEXT),
      [DLT_HEADERS.errorKind]: kind,
      [DLT_HEADERS.attempts]: String(attempts),
    });
    if (kind === FeedbackFailureKind.HandlerFailed && error.stack) {
      headers[DLT_HEADERS.exceptionStacktrace] = error.stack.slice(0, MAX_HEADER_TEXT);
    }
    return headers;
  }

  /**
   * The original's partition number. When the dead-letter topic has fewer partitions, KafkaPublisher takes
   * the key's partition instead; a record without a key then goes to the original number modulo the
   * partition count, so the dead letters of one partition stay together, in order.
   */
  private async partitionOf(record: FeedbackRecord): Promise<number> {
    if (record.key !== null) {
      return record.partition;
    }
    const count = (await this.partitions.partitionsFor(this.topic)).length;
    return count === 0 || record.partition < count ? record.partition : record.partition % count;
  }
}
