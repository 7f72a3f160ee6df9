import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { bufferLogs: true });
  app.enableShutdownHooks();
  const config = app.get(AppConfig);
  await app.listen(config.http.port);
  Logger.log(`${config.app.name} listening on port ${config.http.port}`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  // Configuration errors name the variable and the reason; print them plainly and exit non-zero.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
