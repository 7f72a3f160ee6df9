import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { ShutdownGate } from './common/shutdown-gate';
import { DtoValidationPipe } from './common/validation';
import { ConfigModule } from './config/config.module';
import { EventsModule } from './events/events.module';
import { FeedbackModule } from './feedback/feedback.module';
import { KafkaModule } from './kafka/kafka.module';
import { MessagesModule } from './messages/messages.module';
import { ObservabilityModule } from './observability/observability.module';

/** Per-request HTTP steps (request id, API keys, body parsing, HTTP metrics) are Fastify hooks: see http/. */
@Module({
  imports: [ConfigModule, ObservabilityModule, KafkaModule, MessagesModule, EventsModule, FeedbackModule],
  providers: [
    { provide: APP_PIPE, useClass: DtoValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    ShutdownGate,
  ],
})
export class AppModule {}
