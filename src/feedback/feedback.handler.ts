import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { MessageDto } from '../messages/dto/message.dto';
import { METRIC } from '../observability/metric-definitions';
import { describeRecord, FeedbackRecord } from './feedback-record';

/**
 * What the service does with one feedback Message (the seed's consumeFeedback): log it with where it came
 * from, count it by type. The Message arrives parsed and validated (FeedbackConsumer's pipes); a handler
 * error is retried, then dead-lettered (FeedbackRecordProcessor).
 */
@Injectable()
export class FeedbackHandler implements OnModuleInit {
  private readonly logger = new Logger(FeedbackHandler.name);

  constructor(
    @InjectMetric(METRIC.messagesReceived) private readonly received: Counter<'topic' | 'type'>,
    private readonly config: AppConfig,
  ) {}

  /**
   * kafka_producer_messages_received_total exists from start-up at 0 for every message type, as the seed's
   * Micrometer counter does, so rate() and increase() see a series before the first feedback.
   */
  onModuleInit(): void {
    for (const type of this.config.message.types) {
      this.received.inc({ topic: this.config.feedback.topic, type }, 0);
    }
  }

  handle(message: MessageDto, record: Pick<FeedbackRecord, 'topic' | 'partition' | 'offset'>): void {
    const type = message.type ?? 'INFO';
    this.logger.log(
      `Received feedback ${message.id ?? '(no id)'} (${type}${message.source ? ` from ${message.source}` : ''}) ` +
        `at ${describeRecord(record)}: ${JSON.stringify(message.content)}`,
    );
    this.received.inc({ topic: record.topic, type });
  }
}
