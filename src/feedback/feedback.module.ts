import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { TopicProvisioner } from '../kafka/topic-provisioner';
import { MessagesModule } from '../messages/messages.module';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { FeedbackRecordProcessor } from './feedback-record.processor';
import { FeedbackConsumer } from './feedback.consumer';
import { FeedbackHandler } from './feedback.handler';

/**
 * The feedback path: FeedbackConsumer on the feedback topic, FeedbackHandler (the seed's
 * consumeFeedback), and dead-letter handling for records that cannot be handled.
 */
@Module({
  imports: [MessagesModule],
  providers: [FeedbackConsumer, FeedbackRecordProcessor, FeedbackHandler, DeadLetterPublisher],
  exports: [FeedbackConsumer],
})
export class FeedbackModule {
  constructor(provisioner: TopicProvisioner, config: AppConfig) {
    // Before bootstrap, so the dead-letter topic is created with the others at start-up.
    if (config.feedback.enabled) {
      provisioner.addTopic(config.feedback.deadLetterTopic);
    }
  }
}
