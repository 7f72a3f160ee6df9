import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { FeedbackRecordProcessor } from './feedback-record.processor';
import { FeedbackConsumer } from './feedback.consumer';
import { FeedbackHandler } from './feedback.handler';

/**
 * The feedback path: FeedbackConsumer on the feedback topic, FeedbackHandler (the seed's
 * consumeFeedback), and dead-letter handling for records that cannot be handled. Its dead-letter topic is
 * provisioned with the others (AppConfig.provisionedTopics).
 */
@Module({
  imports: [MessagesModule],
  providers: [FeedbackConsumer, FeedbackRecordProcessor, FeedbackHandler, DeadLetterPublisher],
  exports: [FeedbackConsumer],
})
export class FeedbackModule {}
