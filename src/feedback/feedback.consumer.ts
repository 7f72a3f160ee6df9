import { Controller, UseFilters, UseInterceptors } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { FEEDBACK } from '../config/app-config';
import { KafkaRecordContext } from '../kafka/kafka-record.context';
import { PassRecordErrorsFilter } from '../kafka/kafka-transport';
import { MessageDto } from '../messages/dto/message.dto';
import { FeedbackMessagePipe, ParseRecordJsonPipe } from './feedback-message.pipes';
import { FeedbackRecordProcessor } from './feedback-record.processor';
import { FeedbackHandler } from './feedback.handler';

/**
 * The feedback topic's listener (the seed's @KafkaListener with enable-auto-commit false and
 * auto-offset-reset earliest), on the KafkaTransport: FEEDBACK resolves to KAFKA_FEEDBACK_TOPIC in the
 * group FEEDBACK_CONSUMER_GROUP. The record's value is read as JSON and validated as a Message by the
 * pipes; FeedbackRecordProcessor retries the handling and dead-letters a record that cannot be handled, so a
 * bad record never holds the partition. The transport commits the record once this completed, handled or
 * dead-lettered; only a failed dead-letter write leaves it uncommitted.
 */
@Controller()
@UseFilters(PassRecordErrorsFilter)
export class FeedbackConsumer {
  constructor(private readonly handler: FeedbackHandler) {}

  @EventPattern(FEEDBACK)
  @UseInterceptors(FeedbackRecordProcessor)
  consume(
    @Payload(ParseRecordJsonPipe, FeedbackMessagePipe) message: MessageDto,
    @Ctx() record: KafkaRecordContext,
  ): void {
    this.handler.handle(message, record);
  }
}
