import { Module } from '@nestjs/common';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { FeedbackConsumerHealth } from './feedback-consumer.health';
import { FeedbackRecordProcessor } from './feedback-record.processor';
import { FeedbackConsumer } from './feedback.consumer';
import { FeedbackHandler } from './feedback.handler';

/**
 * The feedback path: FeedbackConsumer, the `@EventPattern(FEEDBACK)` controller on the KafkaTransport;
 * FeedbackHandler (the seed's consumeFeedback); FeedbackRecordProcessor and DeadLetterPublisher for records
 * that cannot be handled; the consumer's health indicator. Its dead-letter topic is provisioned with the
 * others (AppConfig.provisionedTopics).
 */
@Module({
  controllers: [FeedbackConsumer],
  providers: [FeedbackRecordProcessor, FeedbackHandler, DeadLetterPublisher, FeedbackConsumerHealth],
  exports: [FeedbackConsumerHealth],
})
export class FeedbackModule {}
