import { Injectable, Logger } from '@nestjs/common';
import { MessageDto } from '../messages/dto/message.dto';
import { Metrics } from '../observability/metrics';
import { describeRecord, FeedbackRecord } from './feedback-record';

/**
 * What the service does with one feedback Message (the seed's consumeFeedback): log it with where it came
 * from, count it by type. The Message arrives parsed and validated (FeedbackConsumer's pipes); a handler
 * error is retried, then dead-lettered (FeedbackRecordProcessor).
 */
@Injectable()
export class FeedbackHandler {
  private readonly logger = new Logger(FeedbackHandler.name);

  constructor(private readonly metrics: Metrics) {}

  handle(message: MessageDto, record: Pick<FeedbackRecord, 'topic' | 'partition' | 'offset'>): void {
    const type = message.type ?? 'INFO';
    this.logger.log(
      `Received feedback ${message.id ?? '(no id)'} (${type}${message.source ? ` from ${message.source}` : ''}) ` +
        `at ${describeRecord(record)}: ${JSON.stringify(message.content)}`,
    );
    this.metrics.messagesReceived.inc({ topic: record.topic, type });
  }
}
