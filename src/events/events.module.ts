import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { EventsController } from './events.controller';

/** POST /api/events: CloudEvents parsed and validated here, sent through MessagesModule's ProducerService. */
@Module({
  imports: [MessagesModule],
  controllers: [EventsController],
})
export class EventsModule {}
