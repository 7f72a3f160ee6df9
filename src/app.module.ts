import { MiddlewareConsumer, Module, NestModule, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { ApiKeyMiddleware } from './common/api-key.middleware';
import { JsonBodyMiddleware } from './common/json-body.middleware';
import { ShutdownGate } from './common/shutdown-gate.middleware';
import { VALIDATION_OPTIONS } from './common/validation';
import { ConfigModule } from './config/config.module';
import { FeedbackModule } from './feedback/feedback.module';
import { KafkaModule } from './kafka/kafka.module';
import { MessagesModule } from './messages/messages.module';
import { HttpMetricsMiddleware } from './observability/http-metrics.middleware';
import { ObservabilityModule } from './observability/observability.module';
import { RequestIdMiddleware } from './observability/request-id.middleware';

@Module({
  imports: [ConfigModule, ObservabilityModule, KafkaModule, MessagesModule, FeedbackModule],
  providers: [
    { provide: APP_PIPE, useFactory: () => new ValidationPipe(VALIDATION_OPTIONS) },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    ShutdownGate,
  ],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(RequestIdMiddleware, HttpMetricsMiddleware, ShutdownGate, ApiKeyMiddleware, JsonBodyMiddleware)
      .forRoutes('*');
  }
}
