import { NestApplicationOptions } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { useContainer } from 'class-validator';
import { Logger } from 'nestjs-pino';
import { installHttpLayer } from './http/http-server';
import { KafkaTransport } from './kafka/kafka-transport';
import { Idempotency } from './messages/idempotency';
import { MESSAGE_RULES } from './messages/message-rules';
import { setupOpenApi } from './openapi';

/** Options for NestFactory.create: the JSON body parser is ours (installHttpLayer), not Nest's. */
export const APP_OPTIONS: NestApplicationOptions = { bodyParser: false, bufferLogs: true };

/** What main.ts and the e2e tests both apply to a created app. */
export function configureApp(app: NestFastifyApplication): NestFastifyApplication {
  // Message validation rules read configuration, so class-validator takes them from Nest's container.
  // Only those: handing it the whole container made every validation look up class-validator's own
  // classes in Nest, which throws (and builds a stack trace) for each miss — 10% of the CPU under load.
  const rules = new Map<unknown, unknown>(
    MESSAGE_RULES.map((rule) => [rule, app.get(rule, { strict: false })]),
  );
  useContainer({ get: (someClass: unknown) => rules.get(someClass) }, { fallback: true });
  // nestjs-pino takes over Nest's Logger (and flushes what bufferLogs held back).
  app.useLogger(app.get(Logger));
  installHttpLayer(app);
  // Idempotency-Key on the produce routes (its preHandler hook runs after installHttpLayer's onRequest).
  app
    .get(Idempotency)
    .install(
      app.getHttpAdapter().getInstance(),
      (template) => template?.startsWith('/api/messages') === true,
    );
  // OpenAPI document and Swagger UI at /api/docs (JSON at /api/docs-json).
  setupOpenApi(app);
  // Hybrid app: the @EventPattern controllers (FeedbackConsumer) listen on the KafkaTransport. Its own
  // enhancers only (no inheritAppConfig): the global pipe and filter are HTTP's.
  app.connectMicroservice({ strategy: app.get(KafkaTransport) });
  // No enableShutdownHooks(): src/lifecycle.ts owns SIGTERM/SIGINT so it can bound the drain and exit 0.
  return app;
}

/**
 * Starts a configured app, as main.ts and the e2e tests both do: the modules' init and bootstrap hooks,
 * then the KafkaTransport's consumers (in the background: start-up never waits for Kafka), then HTTP.
 */
export async function startServing(app: NestFastifyApplication, port: number, host: string): Promise<void> {
  await app.init();
  await app.startAllMicroservices();
  await app.listen(port, host);
}
