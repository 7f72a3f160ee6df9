import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { KafkaPublisher } from '../kafka/kafka-publisher';
import { headerText } from '../kafka/kafka-record.context';
import { RecordAck } from '../kafka/records';
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

// Headers travel in every fetch of the DLT: a runaway stack trace must not bloat them.
const MAX_HEADER_TEXT = 4000;

/**
 * Writes a feedback record that cannot be handled to the dead-letter topic: its original key, value and
 * headers, plus where it came from and why it failed, through the service's idempotent acks=all
 * producer. Resolves once the broker has the record; a failure rejects, and the caller must not commit.
 */
@Injectable()
export class DeadLetterPublisher implements OnModuleInit {
  private readonly logger = new Logger(DeadLetterPublisher.name);

  constructor(
    private readonly publisher: KafkaPublisher,
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
    const headers: Record<string, string> = {
      ...headerText(record.headers),
      [DLT_HEADERS.originalTopic]: record.topic,
      [DLT_HEADERS.originalPartition]: String(record.partition),
      [DLT_HEADERS.originalOffset]: record.offset,
      [DLT_HEADERS.originalTimestamp]: record.timestamp,
      [DLT_HEADERS.originalConsumerGroup]: this.config.feedback.groupId,
      [DLT_HEADERS.exceptionClass]: error.name,
      [DLT_HEADERS.exceptionMessage]: error.message.slice(0, MAX_HEADER_TEXT),
      [DLT_HEADERS.errorKind]: kind,
      [DLT_HEADERS.attempts]: String(attempts),
    };
    if (kind === FeedbackFailureKind.HandlerFailed && error.stack) {
      headers[DLT_HEADERS.exceptionStacktrace] = error.stack.slice(0, MAX_HEADER_TEXT);
    }
    const [outcome] = await this.publisher.send([
      {
        topic: this.topic,
        // A null key goes out empty, a null value as zero bytes (both are "nothing" to every reader of the DLT).
        key: record.key?.toString('utf8') ?? '',
        value: record.value ?? Buffer.alloc(0),
        headers,
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
}
