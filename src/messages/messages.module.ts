import { Module } from '@nestjs/common';
import { IdempotencyStoreModule } from '../idempotency/idempotency-store.module';
import { Idempotency } from './idempotency';
import { MessageBatchPipe } from './message-batch.pipe';
import { MESSAGE_RULES } from './message-rules';
import { MessageValidator } from './message-validator';
import { MessagesController } from './messages.controller';
import { ProducerService } from './producer.service';

/** The HTTP produce path: Message DTOs and their rules, MessagesController, ProducerService. */
@Module({
  imports: [IdempotencyStoreModule],
  controllers: [MessagesController],
  providers: [ProducerService, MessageValidator, MessageBatchPipe, Idempotency, ...MESSAGE_RULES],
  exports: [ProducerService, MessageValidator, ...MESSAGE_RULES],
})
export class MessagesModule {}
