import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { useContainer } from 'class-validator';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { setupOpenApi } from './openapi';

/** Options for NestFactory.create: our own JSON body middleware replaces Nest's body parser. */
export const APP_OPTIONS: NestApplicationOptions = { bodyParser: false, bufferLogs: true };

/** What main.ts and the e2e tests both apply to a created app. */
export function configureApp(app: INestApplication): INestApplication {
  // Message validation rules read configuration through Nest's container.
  useContainer(app.select(AppModule), { fallbackOnErrors: true });
  // nestjs-pino takes over Nest's Logger (and flushes what bufferLogs held back).
  app.useLogger(app.get(Logger));
  // OpenAPI document and Swagger UI at /api/docs (JSON at /api/docs-json).
  setupOpenApi(app);
  // No enableShutdownHooks(): main.ts owns SIGTERM/SIGINT so it can bound the drain and exit 0.
  return app;
}
