import { Injectable, Logger } from '@nestjs/common';
import { MessageDto } from '../messages/dto/message.dto';
import { MessageValidator } from '../messages/message-validator';
import { Metrics } from '../observability/metrics';
import { FeedbackFailureKind, FeedbackRejectedError } from './feedback-errors';
import { describeRecord, FeedbackRecord } from './feedback-record';

// Fatal: a value that is not valid UTF-8 is not JSON text; a lenient decoder would hide that.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * What the service does with one feedback record (the seed's consumeFeedback): read it as a Message with
 * the API's own rules, log it with where it came from, count it by type. A value that is not a Message
 * is refused with FeedbackRejectedError, so it is dead-lettered at once instead of retried.
 */
@Injectable()
export class FeedbackHandler {
  private readonly logger = new Logger(FeedbackHandler.name);

  constructor(
    private readonly validator: MessageValidator,
    private readonly metrics: Metrics,
  ) {}

  handle(record: FeedbackRecord): MessageDto {
    const message = this.parse(record);
    const type = message.type ?? 'INFO';
    this.logger.log(
      `Received feedback ${message.id ?? '(no id)'} (${type}${message.source ? ` from ${message.source}` : ''}) ` +
        `at ${describeRecord(record)}: ${JSON.stringify(message.content)}`,
    );
    this.metrics.messagesReceived.inc({ topic: record.topic, type });
    return message;
  }

  private parse(record: FeedbackRecord): MessageDto {
    if (record.value === null || record.value.length === 0) {
      throw new FeedbackRejectedError(FeedbackFailureKind.NotJson, 'the record has no value');
    }
    let plain: unknown;
    try {
      plain = JSON.parse(utf8.decode(record.value));
    } catch (error) {
      throw new FeedbackRejectedError(
        FeedbackFailureKind.NotJson,
        `the value is not JSON: ${(error as Error).message}`,
      );
    }
    const { message, errors } = this.validator.problems(plain);
    if (!message) {
      throw new FeedbackRejectedError(
        FeedbackFailureKind.InvalidMessage,
        `the value is not a valid Message: ${errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`,
        errors,
      );
    }
    return message;
  }
}
